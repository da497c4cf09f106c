using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using TensorProtocol.Internal;

namespace TensorProtocol.Wire;

/// <summary>
/// The part of a header that describes a tensor (push requests, pull responses): dtype, flags, shape, payload length
/// and metadata. The layout is in docs/protocol.md.
/// </summary>
internal static class TensorDescriptor
{
    private const byte RequiresGradFlag = 0x01;

    /// <summary>The encoded size of a tensor's description, checked against the protocol limits.</summary>
    /// <exception cref="ArgumentException">The tensor breaks a limit (rank, metadata count or sizes).</exception>
    public static int GetEncodedLength(TensorMetadata tensor, string paramName)
    {
        if (tensor.Rank > WireFormat.MaxRank)
        {
            throw new ArgumentException($"The tensor has {tensor.Rank} dimensions; the protocol allows at most {WireFormat.MaxRank}.", paramName);
        }
        if (tensor.Metadata.Count > WireFormat.MaxMetadataEntries)
        {
            throw new ArgumentException(
                $"The tensor has {tensor.Metadata.Count} metadata entries; the protocol allows at most {WireFormat.MaxMetadataEntries}.", paramName);
        }
        int length = 3 + 8 * tensor.Rank + 8 + 2; // dtype, flags, rank; dimensions; payload length; entry count
        foreach ((string key, string value) in tensor.SortedMetadata)
        {
            if (key.Length == 0)
            {
                throw new ArgumentException("A metadata key is empty.", paramName);
            }
            length += 2 + WireText.GetByteCount(key, WireFormat.MaxMetadataKeyBytes, $"metadata key {TextPreview.Quote(key)}", paramName);
            length += 2 + WireText.GetByteCount(value, WireFormat.MaxMetadataValueBytes, $"value of metadata key {TextPreview.Quote(key)}", paramName);
        }
        return length;
    }

    /// <summary>Writes a description whose length <see cref="GetEncodedLength"/> computed.</summary>
    public static void Write(ref WireWriter writer, TensorMetadata tensor)
    {
        writer.WriteByte(tensor.DType.Code);
        writer.WriteByte(tensor.RequiresGrad ? RequiresGradFlag : (byte)0);
        writer.WriteByte((byte)tensor.Rank);
        foreach (long dimension in tensor.Shape)
        {
            writer.WriteUInt64((ulong)dimension);
        }
        writer.WriteUInt64((ulong)tensor.ByteLength);
        writer.WriteUInt16((ushort)tensor.Metadata.Count);
        // Sorted by key (ordinal), so one tensor always encodes to the same bytes.
        foreach ((string key, string value) in tensor.SortedMetadata)
        {
            writer.WriteString16(key);
            writer.WriteString16(value);
        }
    }

    /// <summary>
    /// Reads a description. Each length is checked against its limit and against the bytes left before anything
    /// of that length is allocated.
    /// </summary>
    public static bool TryRead(ref WireReader reader, long maxPayloadLength, out TensorMetadata? tensor, out ProtocolError error)
    {
        tensor = null;
        if (!reader.TryReadByte(out byte code) || !reader.TryReadByte(out byte flags) || !reader.TryReadByte(out byte rank))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "tensor description"));
        }
        if (!DType.TryFromCode(code, out DType? dtype))
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.UnknownDType, $"Unknown dtype code {code}."));
        }
        if ((flags & ~RequiresGradFlag) != 0)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidFlags, $"Tensor flags 0x{flags:x2} set reserved bits."));
        }
        if (rank > WireFormat.MaxRank)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.RankTooLarge, $"The tensor has {rank} dimensions; at most {WireFormat.MaxRank} are allowed."));
        }

        Span<long> shape = stackalloc long[WireFormat.MaxRank];
        shape = shape[..rank];
        for (int i = 0; i < rank; i++)
        {
            if (!reader.TryReadUInt64(out ulong dimension))
            {
                return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "shape"));
            }
            if (dimension > long.MaxValue)
            {
                return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidDimension, $"Dimension {i} is {dimension}, above 2^63 - 1."));
            }
            shape[i] = (long)dimension;
        }
        if (!reader.TryReadUInt64(out ulong payloadLength))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "payload length"));
        }
        if (TensorMetadata.TryComputeSize(dtype, shape, out long elementCount, out long byteLength, out _) != TensorMetadata.SizeResult.Valid)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.ShapeOverflow,
                $"A tensor of dtype {dtype} and shape {TensorMetadata.FormatShape(shape)} would have more than 2^63 - 1 bytes."));
        }
        if (payloadLength != (ulong)byteLength)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.PayloadLengthMismatch,
                $"The payload length is {payloadLength} bytes but a tensor of dtype {dtype} and shape {TensorMetadata.FormatShape(shape)} has {byteLength}."));
        }
        if (byteLength > maxPayloadLength)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.PayloadTooLarge,
                $"The payload is {byteLength} bytes; this node accepts at most {maxPayloadLength}."));
        }

        if (!reader.TryReadUInt16(out ushort entryCount))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, "metadata count"));
        }
        if (entryCount > WireFormat.MaxMetadataEntries)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.TooManyMetadataEntries,
                $"The tensor has {entryCount} metadata entries; at most {WireFormat.MaxMetadataEntries} are allowed."));
        }
        ImmutableSortedDictionary<string, string>? metadata = null;
        if (entryCount > 0)
        {
            ImmutableSortedDictionary<string, string>.Builder entries = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < entryCount; i++)
            {
                if (!TryReadMetadataEntry(ref reader, i, out string? key, out string? value, out error))
                {
                    return false;
                }
                if (!entries.TryAdd(key, value))
                {
                    return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.DuplicateMetadataKey, $"Metadata key '{key}' appears twice."));
                }
            }
            metadata = entries.ToImmutable();
        }

        tensor = new TensorMetadata(dtype, ImmutableArray.Create<long>(shape), (flags & RequiresGradFlag) != 0, metadata, elementCount, byteLength);
        error = ProtocolError.None;
        return true;
    }

    private static bool TryReadMetadataEntry(ref WireReader reader, int index, [NotNullWhen(true)] out string? key, [NotNullWhen(true)] out string? value, out ProtocolError error)
    {
        key = null;
        value = null;
        if (!reader.TryReadUInt16(out ushort keyLength))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, $"metadata entry {index}"));
        }
        if (keyLength == 0)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.EmptyMetadataKey, $"Metadata entry {index} has an empty key."));
        }
        if (keyLength > WireFormat.MaxMetadataKeyBytes)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.MetadataKeyTooLong,
                $"Metadata key {index} is {keyLength} bytes; at most {WireFormat.MaxMetadataKeyBytes} are allowed."));
        }
        if (!reader.TryReadBytes(keyLength, out ReadOnlySpan<byte> keyBytes))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, $"metadata key {index}"));
        }
        if (!reader.TryReadUInt16(out ushort valueLength))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, $"metadata entry {index}"));
        }
        if (valueLength > WireFormat.MaxMetadataValueBytes)
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.MetadataValueTooLong,
                $"Metadata value {index} is {valueLength} bytes; at most {WireFormat.MaxMetadataValueBytes} are allowed."));
        }
        if (!reader.TryReadBytes(valueLength, out ReadOnlySpan<byte> valueBytes))
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.Truncated(reader, $"metadata value {index}"));
        }
        if (!WireText.TryDecode(keyBytes, out key) || !WireText.TryDecode(valueBytes, out value))
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.InvalidUtf8, $"Metadata entry {index} is not valid UTF-8."));
        }
        error = ProtocolError.None;
        return true;
    }
}
