using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Node;

/// <summary>Reads and writes length-prefixed headers on a QUIC stream, checking every limit before allocating.</summary>
internal static class FrameIO
{
    /// <summary>Reads one request frame; a broken one yields the protocol error instead.</summary>
    internal static async ValueTask<(RequestHeader? Request, ProtocolError Error)> ReadRequestAsync(QuicStream stream, long maxPayload, CancellationToken cancellationToken)
    {
        byte[]? header = await ReadHeaderBytesAsync(stream, cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            return (null, new ProtocolError(ProtocolErrorCode.Truncated, "The stream ended before a complete request header."));
        }
        return RequestHeader.TryDecode(header, maxPayload, out RequestHeader? request, out ProtocolError error) ? (request, ProtocolError.None) : (null, error);
    }

    internal static async ValueTask<(ResponseHeader? Response, ProtocolError Error)> ReadResponseAsync(QuicStream stream, long maxPayload, CancellationToken cancellationToken)
    {
        byte[]? header = await ReadHeaderBytesAsync(stream, cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            return (null, new ProtocolError(ProtocolErrorCode.Truncated, "The stream ended before a complete response header."));
        }
        return ResponseHeader.TryDecode(header, maxPayload, out ResponseHeader? response, out ProtocolError error) ? (response, ProtocolError.None) : (null, error);
    }

    /// <summary>The header bytes, or null on a truncated stream or a bad length prefix.</summary>
    private static async ValueTask<byte[]?> ReadHeaderBytesAsync(QuicStream stream, CancellationToken cancellationToken)
    {
        byte[] prefix = new byte[WireFormat.LengthPrefixSize];
        if (!await TryReadExactlyAsync(stream, prefix, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        if (!Frame.TryReadHeaderLength(prefix, out int length, out _))
        {
            return null;
        }
        // Bounded by Frame (64 KiB) before this allocation.
        byte[] header = new byte[length];
        return await TryReadExactlyAsync(stream, header, cancellationToken).ConfigureAwait(false) ? header : null;
    }

    internal static async ValueTask<bool> TryReadExactlyAsync(QuicStream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    internal static byte[] Encode(RequestHeader header)
    {
        byte[] frame = new byte[header.FrameLength];
        header.WriteFrame(frame);
        return frame;
    }

    internal static byte[] Encode(ResponseHeader header)
    {
        byte[] frame = new byte[header.FrameLength];
        header.WriteFrame(frame);
        return frame;
    }
}
