using TensorProtocol.Wire;

namespace TensorProtocol.Node;

/// <summary>Reads the length-prefixed headers of an operation's stream (encoding: <see cref="WireHeaderExtensions.ToFrame"/>).</summary>
internal static class FrameIO
{
    /// <summary>Reads one header frame; a broken one yields the protocol error instead.</summary>
    internal static async ValueTask<(T? Header, ProtocolError Error)> ReadAsync<T>(FrameReader reader, long maxPayload, CancellationToken cancellationToken)
        where T : class, IWireHeader<T>
    {
        byte[]? header = await reader.ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            return (null, new ProtocolError(ProtocolErrorCode.Truncated, "The stream ended before a complete header, or its length is out of range."));
        }
        return T.TryDecode(header, maxPayload, out T? value, out ProtocolError error) ? (value, ProtocolError.None) : (null, error);
    }
}
