using Microsoft.Extensions.Logging;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;
using TensorProtocol.Quic.Native;

namespace TensorProtocol.Quic;

// Address validation (RFC 9000 §8.1). A server keeps state for a client from its first Initial, so a handshake from a
// forged source address holds that state, and a place in the accept queue, until it times out: a few spoofed datagrams
// a second would keep the queue full. Once RetryThreshold connections wait, a new client is answered statelessly with
// a Retry packet whose token is sealed with this endpoint's secret and bound to the client's address; only a client
// that receives at that address can echo it back, and only then is state kept. ngtcp2 does the client's half
// (recv_retry) and the token cryptography.
public sealed unsafe partial class QuicEndpoint
{
    private readonly RetryTokens _retryTokens = new();
    private long _retriesSent;
    private long _invalidTokens;

    private enum TokenCheck
    {
        /// <summary>No token of ours: the client's first Initial.</summary>
        None,
        /// <summary>A Retry token of ours, for this address, in time; the original DCID has been read out of it.</summary>
        Valid,
        /// <summary>Looks like our Retry token but is forged, stale, or from another address.</summary>
        Invalid,
    }

    /// <summary>Retry packets sent (for tests and diagnostics).</summary>
    internal long RetriesSent => Interlocked.Read(ref _retriesSent);

    /// <summary>Initials refused for a bad Retry token (for tests and diagnostics).</summary>
    internal long InvalidTokensRefused => Interlocked.Read(ref _invalidTokens);

    private TokenCheck CheckToken(ngtcp2.ngtcp2_pkt_hd* hd, byte* address, int addressLength, ulong now, out ngtcp2.ngtcp2_cid originalDcid)
    {
        originalDcid = default;
        var token = new ReadOnlySpan<byte>(hd->token, (int)hd->tokenlen);
        // We never send NEW_TOKEN frames, so a token of another kind is not ours to judge: treated as none.
        if (!RetryTokens.IsRetryToken(token))
        {
            return TokenCheck.None;
        }
        return _retryTokens.Verify(token, hd->version, address, addressLength, &hd->dcid, now, out originalDcid) ? TokenCheck.Valid : TokenCheck.Invalid;
    }

    /// <summary>Answers a client's first Initial with a Retry: no state kept, and smaller than what provoked it.</summary>
    private void SendRetry(ngtcp2.ngtcp2_pkt_hd* hd, byte* address, int addressLength, ulong now)
    {
        ngtcp2.ngtcp2_cid retryScid;
        QuicConnection.RandomCid(&retryScid, QuicConnection.ConnectionIdLength);
        Span<byte> token = stackalloc byte[RetryTokens.MaxLength];
        int tokenLength = _retryTokens.Generate(token, hd->version, address, addressLength, &retryScid, &hd->dcid, now);
        if (tokenLength < 0)
        {
            return;
        }
        nint n;
        fixed (byte* t = token)
        {
            n = ngtcp2_crypto.ngtcp2_crypto_write_retry(SendBuffer, SendBufferSize, hd->version, &hd->scid, &retryScid, &hd->dcid, t, (nuint)tokenLength);
        }
        if (n > 0)
        {
            Socket.Send(SendBuffer, (int)n, (int)n, address, addressLength);
            Interlocked.Increment(ref _retriesSent);
        }
    }

    /// <summary>Refuses a client's Initial with a CONNECTION_CLOSE, keeping no state.</summary>
    private void SendStatelessClose(ngtcp2.ngtcp2_pkt_hd* hd, ulong errorCode, byte* address, int addressLength, string reason)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            // Not built otherwise: a flood of refused Initials should cost no allocation per packet.
            Log.ConnectionRefused(_logger, SocketAddressNative.Read(address), reason);
        }
        nint n = ngtcp2_crypto.ngtcp2_crypto_write_connection_close(SendBuffer, SendBufferSize, hd->version, &hd->scid, &hd->dcid, errorCode, null, 0);
        if (n > 0)
        {
            Socket.Send(SendBuffer, (int)n, (int)n, address, addressLength);
        }
    }
}
