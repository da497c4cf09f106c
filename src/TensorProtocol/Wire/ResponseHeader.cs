using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;

namespace TensorProtocol.Wire;

/// <summary>
/// The header of the answer on a stream: a status, a message for people, and (for a successful pull) the description
/// of the tensor whose payload follows. Layout in docs/protocol.md.
/// </summary>
internal sealed class ResponseHeader : IWireHeader<ResponseHeader>
{
    // magic, version, status, flags, message length
    private const int FixedLength = 4 + 1 + 1 + 1 + 2;
    private const byte TensorFlag = 0x01;
    private const string Ellipsis = "…";

    /// <summary>A response with a status, an optional message and, only with <see cref="ResponseStatus.Ok"/>, a tensor.</summary>
    /// <param name="status">The outcome.</param>
    /// <param name="message">For people and logs; cut to <see cref="WireFormat.MaxMessageBytes"/> bytes of UTF-8.</param>
    /// <param name="tensor">The tensor whose payload follows the header (a successful pull).</param>
    /// <exception cref="ArgumentException">A tensor with a status other than Ok, or a tensor that breaks a protocol limit.</exception>
    public ResponseHeader(ResponseStatus status, string? message = null, TensorMetadata? tensor = null)
    {
        if (status > ResponseStatus.InternalError)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Not a defined status.");
        }
        if (tensor is not null && status != ResponseStatus.Ok)
        {
            throw new ArgumentException($"Only an Ok response carries a tensor, not {status}.", nameof(tensor));
        }
        Status = status;
        // Messages often come from exceptions; mending or cutting one is better than failing to report the error.
        Message = Cut(ReplaceUnpairedSurrogates(message ?? ""));
        Tensor = tensor;
        EncodedLength = FixedLength + Encoding.UTF8.GetByteCount(Message) +
            (tensor is null ? 0 : TensorDescriptor.GetEncodedLength(tensor, nameof(tensor)));
        if (EncodedLength > WireFormat.MaxHeaderLength)
        {
            throw new ArgumentException(
                $"The response header would be {EncodedLength} bytes; the protocol allows at most {WireFormat.MaxHeaderLength} (shrink the metadata).",
                nameof(tensor));
        }
    }

    // For the decoder: everything is checked and the message is within the limit already.
    private ResponseHeader(ResponseStatus status, string message, TensorMetadata? tensor, int encodedLength)
    {
        Status = status;
        Message = message;
        Tensor = tensor;
        EncodedLength = encodedLength;
    }

    /// <summary>The outcome.</summary>
    public ResponseStatus Status { get; }

    /// <summary>The message; empty when there is none.</summary>
    public string Message { get; }

    /// <summary>The tensor whose payload follows the header, or null.</summary>
    public TensorMetadata? Tensor { get; }

    /// <summary>The size of the header, without its length prefix.</summary>
    public int EncodedLength { get; }

    /// <summary>The size of the frame: length prefix and header.</summary>
    public int FrameLength => WireFormat.LengthPrefixSize + EncodedLength;

    /// <summary>Writes the length prefix and the header; returns <see cref="FrameLength"/>.</summary>
    public int WriteFrame(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, FrameLength, nameof(destination));
        var writer = new WireWriter(destination);
        writer.WriteUInt32((uint)EncodedLength);
        writer.WriteBytes(WireFormat.ResponseMagic);
        writer.WriteByte(WireFormat.Version);
        writer.WriteByte((byte)Status);
        writer.WriteByte(Tensor is null ? (byte)0 : TensorFlag);
        writer.WriteString16(Message);
        if (Tensor is not null)
        {
            TensorDescriptor.Write(ref writer, Tensor);
        }
        return writer.Offset;
    }

    /// <summary>
    /// Decodes a response header (the bytes after the length prefix). Never throws: anything malformed, and any
    /// tensor whose payload exceeds <paramref name="maxPayloadLength"/>, comes back as a <see cref="ProtocolError"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> header, long maxPayloadLength, [NotNullWhen(true)] out ResponseHeader? response, out ProtocolError error)
    {
        response = null;
        var reader = new WireReader(header);
        if (!ProtocolErrors.TryReadPreamble(ref reader, header.Length, WireFormat.ResponseMagic, "TPRS (a response)", out error))
        {
            return false;
        }
        if (!reader.TryReadByte(out byte status) || !reader.TryReadByte(out byte flags))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "status"));
        }
        if (status > (byte)ResponseStatus.InternalError)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.UnknownStatus, $"Unknown status {status}."));
        }
        if ((flags & ~TensorFlag) != 0)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidFlags, $"Response flags 0x{flags:x2} set reserved bits."));
        }
        bool hasTensor = (flags & TensorFlag) != 0;
        if (hasTensor && status != (byte)ResponseStatus.Ok)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidFlags,
                $"A {(ResponseStatus)status} response describes a tensor; only Ok responses carry one."));
        }
        if (!reader.TryReadUInt16(out ushort messageLength))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "message length"));
        }
        if (messageLength > WireFormat.MaxMessageBytes)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.MessageTooLong,
                $"The status message is {messageLength} bytes; at most {WireFormat.MaxMessageBytes} are allowed."));
        }
        if (!reader.TryReadBytes(messageLength, out ReadOnlySpan<byte> messageBytes))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "message"));
        }
        if (!WireText.TryDecode(messageBytes, out string message))
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidUtf8, "The status message is not valid UTF-8."));
        }
        TensorMetadata? tensor = null;
        if (hasTensor && !TensorDescriptor.TryRead(ref reader, maxPayloadLength, out tensor, out error))
        {
            return false;
        }
        if (reader.Remaining != 0)
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Trailing(reader));
        }
        response = new ResponseHeader((ResponseStatus)status, message, tensor, header.Length);
        error = ProtocolError.None;
        return true;
    }

    // UTF-8 cannot carry an unpaired surrogate; replace it now so that Message is exactly what the peer will read.
    private static string ReplaceUnpairedSurrogates(string message) =>
        message.AsSpan().ContainsAnyInRange('\ud800', '\udfff') ? Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(message)) : message;

    private static string Cut(string message)
    {
        if (Encoding.UTF8.GetByteCount(message) <= WireFormat.MaxMessageBytes)
        {
            return message;
        }
        // Whole characters only: FromUtf16 stops before a character that does not fit, never inside one.
        Span<byte> buffer = stackalloc byte[WireFormat.MaxMessageBytes - Encoding.UTF8.GetByteCount(Ellipsis)];
        Utf8.FromUtf16(message, buffer, out int charsRead, out _);
        return string.Concat(message.AsSpan(0, charsRead), Ellipsis);
    }
}
