using System.Diagnostics.CodeAnalysis;

namespace TensorProtocol.Wire;

/// <summary>
/// The header that opens every stream: the operation, the tensor name and, for a push, the tensor description (its
/// payload follows the header). Layout in docs/protocol.md.
/// </summary>
internal sealed class RequestHeader : IWireHeader<RequestHeader>
{
    // magic, version, operation, name length
    private const int FixedLength = 4 + 1 + 1 + 2;

    private RequestHeader(Operation operation, string name, TensorMetadata? tensor, int encodedLength)
    {
        Operation = operation;
        Name = name;
        Tensor = tensor;
        EncodedLength = encodedLength;
    }

    /// <summary>What the request asks for.</summary>
    public Operation Operation { get; }

    /// <summary>The tensor (queue) name.</summary>
    public string Name { get; }

    /// <summary>For a push, the tensor whose payload follows; null for a pull.</summary>
    public TensorMetadata? Tensor { get; }

    /// <summary>The size of the header, without its length prefix.</summary>
    public int EncodedLength { get; }

    /// <summary>The size of the frame: length prefix and header.</summary>
    public int FrameLength => WireFormat.LengthPrefixSize + EncodedLength;

    /// <summary>A push of a tensor under a name.</summary>
    /// <exception cref="ArgumentException">The name or the tensor breaks a protocol limit.</exception>
    public static RequestHeader Push(string name, TensorMetadata tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int length = FixedLength + GetNameLength(name) + TensorDescriptor.GetEncodedLength(tensor, nameof(tensor));
        if (length > WireFormat.MaxHeaderLength)
        {
            throw new ArgumentException(
                $"The request header would be {length} bytes; the protocol allows at most {WireFormat.MaxHeaderLength} (shrink the metadata).",
                nameof(tensor));
        }
        return new RequestHeader(Operation.Push, name, tensor, length);
    }

    /// <summary>A pull of the next tensor queued under a name.</summary>
    /// <exception cref="ArgumentException">The name breaks a protocol limit.</exception>
    public static RequestHeader Pull(string name) => new(Operation.Pull, name, null, FixedLength + GetNameLength(name));

    /// <summary>Writes the length prefix and the header; returns <see cref="FrameLength"/>.</summary>
    public int WriteFrame(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, FrameLength, nameof(destination));
        var writer = new WireWriter(destination);
        writer.WriteUInt32((uint)EncodedLength);
        writer.WriteBytes(WireFormat.RequestMagic);
        writer.WriteByte(WireFormat.Version);
        writer.WriteByte((byte)Operation);
        writer.WriteString16(Name);
        if (Tensor is not null)
        {
            TensorDescriptor.Write(ref writer, Tensor);
        }
        return writer.Offset;
    }

    /// <summary>
    /// Decodes a request header (the bytes after the length prefix). Never throws: anything malformed, and any
    /// push whose payload exceeds <paramref name="maxPayloadLength"/>, comes back as a <see cref="ProtocolError"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> header, long maxPayloadLength, [NotNullWhen(true)] out RequestHeader? request, out ProtocolError error)
    {
        request = null;
        var reader = new WireReader(header);
        if (!ProtocolErrors.TryReadPreamble(ref reader, header.Length, WireFormat.RequestMagic, "TPRQ (a request)", out error))
        {
            return false;
        }
        if (!reader.TryReadByte(out byte operation))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "operation"));
        }
        if (operation is not ((byte)Operation.Push or (byte)Operation.Pull))
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.UnknownOperation, $"Unknown operation {operation} (1 = push, 2 = pull)."));
        }
        if (!reader.TryReadUInt16(out ushort nameLength))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "name length"));
        }
        if (nameLength == 0)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.EmptyName, "The tensor name is empty."));
        }
        if (nameLength > WireFormat.MaxNameBytes)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.NameTooLong,
                $"The tensor name is {nameLength} bytes; at most {WireFormat.MaxNameBytes} are allowed."));
        }
        if (!reader.TryReadBytes(nameLength, out ReadOnlySpan<byte> nameBytes))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "name"));
        }
        if (!WireText.TryDecode(nameBytes, out string name))
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidUtf8, "The tensor name is not valid UTF-8."));
        }
        TensorMetadata? tensor = null;
        if (operation == (byte)Operation.Push && !TensorDescriptor.TryRead(ref reader, maxPayloadLength, out tensor, out error))
        {
            return false;
        }
        if (reader.Remaining != 0)
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Trailing(reader));
        }
        request = new RequestHeader((Operation)operation, name, tensor, header.Length);
        error = ProtocolError.None;
        return true;
    }

    private static int GetNameLength(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            throw new ArgumentException("The tensor name is empty.", nameof(name));
        }
        return WireText.GetByteCount(name, WireFormat.MaxNameBytes, "tensor name", nameof(name));
    }
}
