using System.Net;
using Microsoft.Extensions.Logging;

namespace TensorProtocol.Quic;

/// <summary>Settings of a <see cref="QuicEndpoint"/>: its socket, identity, protocols and limits.</summary>
public sealed record QuicEndpointOptions
{
    /// <summary>
    /// Where the UDP socket binds. The default, [::]:0, is dual-stack on an ephemeral port; connections this endpoint
    /// dials leave from the same socket, so peers see one address for it.
    /// </summary>
    public IPEndPoint LocalEndPoint { get; init; } = new(IPAddress.IPv6Any, 0);

    /// <summary>The key pair; <c>null</c> makes an ephemeral one. The endpoint does not dispose a given identity.</summary>
    public QuicIdentity? Identity { get; init; }

    /// <summary>The application protocols (ALPN) this endpoint speaks, most preferred first. At least one.</summary>
    public IReadOnlyList<string> ApplicationProtocols { get; init; } = [];

    /// <summary>Whether the endpoint accepts incoming connections (a dial-only endpoint sets false).</summary>
    public bool AcceptIncomingConnections { get; init; } = true;

    /// <summary>
    /// How many incoming connections may wait (in handshake or handshaken but not yet accepted). Beyond it new
    /// connection attempts are refused, so a flood of handshakes cannot take unbounded memory.
    /// </summary>
    public int AcceptQueueCapacity { get; init; } = 128;

    /// <summary>
    /// From how many waiting incoming connections (see <see cref="AcceptQueueCapacity"/>) on a new client must first
    /// prove that it receives at its source address, by echoing a token from a stateless Retry packet (one extra round
    /// trip), before the endpoint keeps any state for it. A handshake from a forged source address holds a place in
    /// the queue until it times out; with this, such handshakes can hold at most this many places and the rest stay
    /// free for clients that answer. 0 validates every client; <see cref="AcceptQueueCapacity"/> or more, none.
    /// </summary>
    public int RetryThreshold { get; init; } = 16;

    /// <summary>
    /// How many handshakes from one source — an IPv4 address, or an IPv6 /64 prefix (what one host can usually pick
    /// from; a link-local address counts alone) — may be in progress at once among those whose source proved its
    /// address with a Retry token (see <see cref="RetryThreshold"/>), or half of the places left free in the accept queue
    /// if that is more. A further first packet from that source is dropped, not refused: its client sends it again a
    /// moment later, when a handshake may have finished. The free-places term keeps a burst from one address (a NAT, a
    /// subnet's /64) from being cut to this many per retransmission round while the queue is empty; one host that
    /// answers Retry packets but stalls its handshakes holds at most the larger of this and about a third of the queue
    /// (plus its share of the unvalidated ones, at most <see cref="RetryThreshold"/>), not all of it. Handshakes without a
    /// token are not counted, so a forged source address cannot use up another host's allowance.
    /// </summary>
    public int MaxHandshakesPerAddress { get; init; } = 16;

    /// <summary>The most connections (both directions) the endpoint holds at once.</summary>
    public int MaxConnections { get; init; } = 4096;

    /// <summary>Settings applied to every connection.</summary>
    public QuicConnectionOptions ConnectionOptions { get; init; } = QuicConnectionOptions.Default;

    /// <summary>Where logs go; the default writes nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// The size asked for the socket's kernel buffers (SO_RCVBUF/SO_SNDBUF; forced past the system limit when
    /// running as root). Larger buffers absorb bursts at multi-gigabit rates instead of dropping them.
    /// </summary>
    public int SocketBufferSize { get; init; } = 8 << 20;

    /// <summary>Tests turn UDP GSO off to exercise the one-datagram-per-segment (sendmmsg) path.</summary>
    internal bool UseGso { get; init; } = true;

    /// <summary>Tests: handshake without the ALPN extension, as a foreign or hostile peer may.</summary>
    internal bool OmitAlpnForTests { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(LocalEndPoint);
        if (ApplicationProtocols is null || ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("At least one application protocol (ALPN) is required.", nameof(ApplicationProtocols));
        }
        // TLS allows 255 bytes and any number of names, but GnuTLS (3.7) takes at most 8 names of at most 31 bytes, and
        // would refuse every connection later instead.
        if (ApplicationProtocols.Count > 8)
        {
            throw new ArgumentException("At most 8 application protocols (ALPN) can be offered.", nameof(ApplicationProtocols));
        }
        foreach (string alpn in ApplicationProtocols)
        {
            if (string.IsNullOrEmpty(alpn) || System.Text.Encoding.UTF8.GetByteCount(alpn) > 31)
            {
                throw new ArgumentException($"An application protocol name is 1 to 31 bytes ('{alpn}' is not).", nameof(ApplicationProtocols));
            }
        }
        if (AcceptQueueCapacity is < 1 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(AcceptQueueCapacity), AcceptQueueCapacity, "Must be within 1..65536.");
        }
        if (RetryThreshold < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryThreshold), RetryThreshold, "Must be 0 or more.");
        }
        if (MaxHandshakesPerAddress < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHandshakesPerAddress), MaxHandshakesPerAddress, "Must be 1 or more.");
        }
        if (MaxConnections is < 1 or > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConnections), MaxConnections, "Must be within 1..1048576.");
        }
        if (SocketBufferSize is < 64 * 1024 or > 1 << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(SocketBufferSize), SocketBufferSize, "Must be within 64 KiB..1 GiB.");
        }
        ArgumentNullException.ThrowIfNull(ConnectionOptions);
        ConnectionOptions.Validate();
    }
}
