using System.Buffers.Binary;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>Each rule of the decoder, broken once, starting from the golden frames.</summary>
public sealed class WireDecodeErrorTests
{
    // Offsets into the golden push header (without its 4-byte length prefix).
    private const int OperationOffset = 5;
    private const int NameLengthOffset = 6;
    private const int NameOffset = 8;
    private const int DTypeOffset = 9;
    private const int FlagsOffset = 10;
    private const int RankOffset = 11;
    private const int FirstDimensionOffset = 12;
    private const int PayloadLengthOffset = 28;
    private const int MetadataCountOffset = 36;
    private const int KeyLengthOffset = 38;
    private const int ValueLengthOffset = 41;

    public static TheoryData<string, string, string> BrokenRequests()
    {
        byte[] golden = Hex.Parse(WireGoldenTests.PushFrame)[4..];
        string With(Action<byte[]> change)
        {
            byte[] copy = (byte[])golden.Clone();
            change(copy);
            return Hex.Format(copy);
        }
        return new TheoryData<string, string, string>
        {
            { "", "Truncated", "ends inside the magic" },
            { "545052", "Truncated", "ends inside the magic" },
            { With(h => h[0] = 0x55), "BadMagic", "Expected TPRQ (a request), found 0x55505251." },
            { With(h => h[3] = 0x53), "BadMagic", "Expected TPRQ (a request), found a response header." },
            { "54505251", "Truncated", "ends inside the version" },
            { With(h => h[4] = 2), "UnsupportedVersion", "Protocol version 2 is not supported" },
            { With(h => h[OperationOffset] = 0), "UnknownOperation", "Unknown operation 0" },
            { With(h => h[OperationOffset] = 3), "UnknownOperation", "Unknown operation 3" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(NameLengthOffset), 0)), "EmptyName", "The tensor name is empty." },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(NameLengthOffset), 1025)), "NameTooLong", "1025 bytes; at most 1024" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(NameLengthOffset), 1024)), "Truncated", "ends inside the name" },
            { With(h => h[NameOffset] = 0xff), "InvalidUtf8", "The tensor name is not valid UTF-8." },
            { With(h => h[DTypeOffset] = 0), "UnknownDType", "Unknown dtype code 0." },
            { With(h => h[DTypeOffset] = 18), "UnknownDType", "Unknown dtype code 18." },
            { With(h => h[FlagsOffset] = 0x03), "InvalidFlags", "Tensor flags 0x03 set reserved bits." },
            { With(h => h[RankOffset] = 33), "RankTooLarge", "33 dimensions; at most 32" },
            { With(h => h[RankOffset] = 255), "RankTooLarge", "255 dimensions" },
            { With(h => h[RankOffset] = 5), "Truncated", "ends inside the shape" }, // the next fields read as dimensions
            { With(h => BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(FirstDimensionOffset), 1UL << 63)), "InvalidDimension", "Dimension 0 is 9223372036854775808, above 2^63 - 1." },
            { With(h => BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(FirstDimensionOffset), 1UL << 62)), "ShapeOverflow", "A tensor of dtype F32 and shape [4611686018427387904, 3] would have more than 2^63 - 1 bytes." },
            { With(h => h[PayloadLengthOffset] = 25), "PayloadLengthMismatch", "The payload length is 25 bytes but a tensor of dtype F32 and shape [2, 3] has 24." },
            { With(h => BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(PayloadLengthOffset), ulong.MaxValue)), "PayloadLengthMismatch", "18446744073709551615" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(MetadataCountOffset), 65)), "TooManyMetadataEntries", "65 metadata entries; at most 64" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(MetadataCountOffset), 0xffff)), "TooManyMetadataEntries", "65535 metadata entries" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(MetadataCountOffset), 2)), "Truncated", "ends inside the metadata entry 1" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(KeyLengthOffset), 0)), "EmptyMetadataKey", "Metadata entry 0 has an empty key." },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(KeyLengthOffset), 257)), "MetadataKeyTooLong", "Metadata key 0 is 257 bytes; at most 256" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(KeyLengthOffset), 256)), "Truncated", "ends inside the metadata key 0" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(ValueLengthOffset), 16385)), "MetadataValueTooLong", "Metadata value 0 is 16385 bytes; at most 16384" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(ValueLengthOffset), 2)), "Truncated", "ends inside the metadata value 0" },
            { With(h => h[^1] = 0xc3), "InvalidUtf8", "Metadata entry 0 is not valid UTF-8." },
            { Hex.Format([.. golden, 0]), "TrailingBytes", "The header has 1 bytes after its last field (from byte 44)." },
            {
                // Two entries with the same key.
                Hex.Format([.. golden[..MetadataCountOffset], 2, 0, 1, 0, 0x6b, 1, 0, 0x76, 1, 0, 0x6b, 1, 0, 0x77]),
                "DuplicateMetadataKey", "Metadata key 'k' appears twice."
            },
            { Hex.Format([.. Hex.Parse(WireGoldenTests.PullFrame)[4..], 0]), "TrailingBytes", "" }, // a pull carries no tensor
        };
    }

    [Theory]
    [MemberData(nameof(BrokenRequests))]
    public void Request_Broken_GivesTheMatchingError(string hex, string code, string message)
    {
        Assert.False(RequestHeader.TryDecode(Hex.Parse(hex), WireFormat.DefaultMaxPayloadLength, out RequestHeader? request, out ProtocolError error));
        Assert.Null(request);
        Assert.Equal(code, error.Code.ToString());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(ResponseStatus.BadRequest, error.Status);
    }

    [Fact]
    public void Request_EveryTruncation_IsTruncated()
    {
        byte[] golden = Hex.Parse(WireGoldenTests.PushFrame)[4..];
        for (int length = 0; length < golden.Length; length++)
        {
            Assert.False(RequestHeader.TryDecode(golden.AsSpan(0, length), long.MaxValue, out _, out ProtocolError error));
            Assert.Equal(ProtocolErrorCode.Truncated, error.Code);
        }
    }

    [Fact]
    public void Request_PayloadAboveTheLimit_IsTooLarge()
    {
        byte[] header = Hex.Parse(WireGoldenTests.PushFrame)[4..];
        Assert.True(RequestHeader.TryDecode(header, 24, out _, out _));
        Assert.False(RequestHeader.TryDecode(header, 23, out _, out ProtocolError error));
        Assert.Equal(ProtocolErrorCode.PayloadTooLarge, error.Code);
        Assert.Equal("The payload is 24 bytes; this node accepts at most 23.", error.Message);
        Assert.Equal(ResponseStatus.TooLarge, error.Status);
    }

    [Fact]
    public void Request_EightGiBPayload_IsAcceptedByDefault()
    {
        RequestHeader big = RequestHeader.Push("big", new TensorMetadata(DType.F32, [1L << 31])); // 8 GiB
        byte[] frame = WireGoldenTests.Encode(big);
        Assert.True(RequestHeader.TryDecode(frame.AsSpan(4), WireFormat.DefaultMaxPayloadLength, out RequestHeader? decoded, out _));
        Assert.Equal(8L << 30, decoded.Tensor!.ByteLength);

        RequestHeader huge = RequestHeader.Push("huge", new TensorMetadata(DType.U8, [(16L << 30) + 1]));
        Assert.False(RequestHeader.TryDecode(WireGoldenTests.Encode(huge).AsSpan(4), WireFormat.DefaultMaxPayloadLength, out _, out ProtocolError error));
        Assert.Equal(ProtocolErrorCode.PayloadTooLarge, error.Code);
    }

    [Fact]
    public void Request_HeaderAboveTheLimit_IsRefusedUnread()
    {
        Assert.False(RequestHeader.TryDecode(new byte[WireFormat.MaxHeaderLength + 1], 0, out _, out ProtocolError error));
        Assert.Equal(ProtocolErrorCode.InvalidHeaderLength, error.Code);
    }

    public static TheoryData<string, string, string> BrokenResponses()
    {
        byte[] golden = Hex.Parse(WireGoldenTests.QueueFullFrame)[4..];
        string With(Action<byte[]> change)
        {
            byte[] copy = (byte[])golden.Clone();
            change(copy);
            return Hex.Format(copy);
        }
        return new TheoryData<string, string, string>
        {
            { "", "Truncated", "ends inside the magic" },
            { Hex.Format(Hex.Parse(WireGoldenTests.PullFrame)[4..]), "BadMagic", "Expected TPRS (a response), found a request header." },
            { With(h => h[4] = 0), "UnsupportedVersion", "Protocol version 0 is not supported" },
            { With(h => h[5] = 8), "UnknownStatus", "Unknown status 8." },
            { With(h => h[6] = 0x80), "InvalidFlags", "Response flags 0x80 set reserved bits." },
            { With(h => h[6] = 0x01), "InvalidFlags", "A QueueFull response describes a tensor; only Ok responses carry one." },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(7), 4097)), "MessageTooLong", "4097 bytes; at most 4096" },
            { With(h => BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(7), 4096)), "Truncated", "ends inside the message" },
            { With(h => h[9] = 0x80), "InvalidUtf8", "The status message is not valid UTF-8." },
            { Hex.Format([.. golden, 1]), "TrailingBytes", "" },
            { With(h => { h[5] = 0; h[6] = 1; }), "Truncated", "ends inside the tensor description" }, // Ok + tensor flag, no descriptor
        };
    }

    [Theory]
    [MemberData(nameof(BrokenResponses))]
    public void Response_Broken_GivesTheMatchingError(string hex, string code, string message)
    {
        Assert.False(ResponseHeader.TryDecode(Hex.Parse(hex), WireFormat.DefaultMaxPayloadLength, out ResponseHeader? response, out ProtocolError error));
        Assert.Null(response);
        Assert.Equal(code, error.Code.ToString());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Response_EveryTruncation_IsTruncated()
    {
        byte[] golden = Hex.Parse(WireGoldenTests.PullOkFrame)[4..];
        for (int length = 0; length < golden.Length; length++)
        {
            Assert.False(ResponseHeader.TryDecode(golden.AsSpan(0, length), long.MaxValue, out _, out ProtocolError error));
            Assert.Equal(ProtocolErrorCode.Truncated, error.Code);
        }
    }
}
