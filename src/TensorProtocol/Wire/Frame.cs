using System.Buffers;
using System.Buffers.Binary;

namespace TensorProtocol.Wire;

/// <summary>The outcome of reading a frame from buffered bytes.</summary>
internal enum FrameStatus
{
    /// <summary>A whole header was decoded; the buffer now starts after it (at the payload, if any).</summary>
    Complete,

    /// <summary>The header has not fully arrived; read more and try again with the same buffer.</summary>
    NeedMoreData,

    /// <summary>The bytes break the protocol; the error says how. Answer with its status and abort the stream.</summary>
    Invalid,
}

/// <summary>
/// Framing: every header is preceded by its length as a little-endian <c>u32</c>. The length is checked against
/// <see cref="WireFormat.MaxHeaderLength"/> before any buffer of that size is taken.
/// </summary>
internal static class Frame
{
    /// <summary>Reads and checks the length prefix (the first 4 bytes of <paramref name="prefix"/>).</summary>
    /// <returns>False with <see cref="ProtocolErrorCode.Truncated"/> if fewer than 4 bytes are given.</returns>
    public static bool TryReadHeaderLength(ReadOnlySpan<byte> prefix, out int headerLength, out ProtocolError error)
    {
        headerLength = 0;
        if (!BinaryPrimitives.TryReadUInt32LittleEndian(prefix, out uint length))
        {
            return ProtocolErrors.Fail(out error, new(ProtocolErrorCode.Truncated, "The frame ends inside the header length."));
        }
        if (length is 0 or > WireFormat.MaxHeaderLength)
        {
            return ProtocolErrors.Fail(out error, ProtocolErrors.HeaderLength(length));
        }
        headerLength = (int)length;
        error = ProtocolError.None;
        return true;
    }

    /// <summary>Reads a request frame from the start of <paramref name="buffer"/>; see <see cref="TryRead{T}"/>.</summary>
    public static FrameStatus TryReadRequest(ref ReadOnlySequence<byte> buffer, long maxPayloadLength, out RequestHeader? request, out ProtocolError error) =>
        TryRead(ref buffer, maxPayloadLength, out request, out error);

    /// <summary>Reads a response frame from the start of <paramref name="buffer"/>; see <see cref="TryRead{T}"/>.</summary>
    public static FrameStatus TryReadResponse(ref ReadOnlySequence<byte> buffer, long maxPayloadLength, out ResponseHeader? response, out ProtocolError error) =>
        TryRead(ref buffer, maxPayloadLength, out response, out error);

    /// <summary>
    /// Reads a frame (length prefix and header) from buffered bytes, for instance a PipeReader's. On
    /// <see cref="FrameStatus.Complete"/>, <paramref name="buffer"/> is advanced past the header; otherwise it is
    /// left as it was. Never throws, and copies at most one header (≤ 64 KiB, from a pooled buffer) when the header
    /// spans segments.
    /// </summary>
    public static FrameStatus TryRead<T>(ref ReadOnlySequence<byte> buffer, long maxPayloadLength, out T? header, out ProtocolError error)
        where T : class, IWireHeader<T>
    {
        header = null;
        if (buffer.Length < WireFormat.LengthPrefixSize)
        {
            error = ProtocolError.None;
            return FrameStatus.NeedMoreData;
        }
        Span<byte> prefix = stackalloc byte[WireFormat.LengthPrefixSize];
        buffer.Slice(0, WireFormat.LengthPrefixSize).CopyTo(prefix);
        if (!TryReadHeaderLength(prefix, out int headerLength, out error))
        {
            return FrameStatus.Invalid;
        }
        if (buffer.Length - WireFormat.LengthPrefixSize < headerLength)
        {
            return FrameStatus.NeedMoreData;
        }
        ReadOnlySequence<byte> bytes = buffer.Slice(WireFormat.LengthPrefixSize, headerLength);
        bool decoded;
        if (bytes.IsSingleSegment)
        {
            decoded = T.TryDecode(bytes.FirstSpan, maxPayloadLength, out header, out error);
        }
        else
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent(headerLength);
            try
            {
                bytes.CopyTo(rented);
                decoded = T.TryDecode(rented.AsSpan(0, headerLength), maxPayloadLength, out header, out error);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        if (!decoded)
        {
            return FrameStatus.Invalid;
        }
        buffer = buffer.Slice(bytes.End);
        return FrameStatus.Complete;
    }
}
