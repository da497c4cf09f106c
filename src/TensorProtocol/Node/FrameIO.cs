using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Node;

/// <summary>Decodes and encodes the length-prefixed headers of an operation's stream.</summary>
internal static class FrameIO
{
    /// <summary>Reads one request frame; a broken one yields the protocol error instead.</summary>
    internal static async ValueTask<(RequestHeader? Request, ProtocolError Error)> ReadRequestAsync(FrameReader reader, long maxPayload, CancellationToken cancellationToken)
    {
        byte[]? header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            return (null, new ProtocolError(ProtocolErrorCode.Truncated, "The stream ended before a complete request header, or its length is out of range."));
        }
        return RequestHeader.TryDecode(header, maxPayload, out RequestHeader? request, out ProtocolError error) ? (request, ProtocolError.None) : (null, error);
    }

    internal static async ValueTask<(ResponseHeader? Response, ProtocolError Error)> ReadResponseAsync(FrameReader reader, long maxPayload, CancellationToken cancellationToken)
    {
        byte[]? header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            return (null, new ProtocolError(ProtocolErrorCode.Truncated, "The stream ended before a complete response header, or its length is out of range."));
        }
        return ResponseHeader.TryDecode(header, maxPayload, out ResponseHeader? response, out ProtocolError error) ? (response, ProtocolError.None) : (null, error);
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
