namespace TensorProtocol.Quic;

/// <summary>Per-connection settings; an endpoint applies the same ones to every connection it makes or accepts.</summary>
public sealed record QuicConnectionOptions
{
    /// <summary>The defaults: tuned for bulk tensor transfer on LANs and loopback.</summary>
    public static QuicConnectionOptions Default { get; } = new();

    /// <summary>How many bidirectional streams the peer may have open at once.</summary>
    public int MaxInboundBidirectionalStreams { get; init; } = 256;

    /// <summary>How many unidirectional streams the peer may have open at once.</summary>
    public int MaxInboundUnidirectionalStreams { get; init; } = 16;

    /// <summary>Close the connection after this long without hearing from the peer.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Send a PING after this long without traffic so an idle connection stays alive; zero disables.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.Zero;

    /// <summary>A handshake that has not finished after this long fails with <see cref="QuicErrorKind.Timeout"/>.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The per-stream receive window granted at the start; it grows with the measured bandwidth-delay product.</summary>
    public int InitialStreamReceiveWindow { get; init; } = 1 << 20;

    /// <summary>The largest per-stream receive window: bounds the memory one stream's unread data may take.</summary>
    public int MaxStreamReceiveWindow { get; init; } = 16 << 20;

    /// <summary>The connection-wide receive window granted at the start.</summary>
    public int InitialConnectionReceiveWindow { get; init; } = 4 << 20;

    /// <summary>The largest connection-wide receive window.</summary>
    public int MaxConnectionReceiveWindow { get; init; } = 64 << 20;

    /// <summary>
    /// The longest this side delays an acknowledgement (sent to the peer as max_ack_delay). Every loss probe waits
    /// at least this long, so the RFC's 25 ms default makes tail losses on a sub-millisecond LAN cost 100× the RTT.
    /// </summary>
    public TimeSpan MaxAckDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// How many ack-eliciting packets, received since the last acknowledgement, make this side acknowledge at the end of
    /// the batch of datagrams it is handling, instead of when the delayed-ACK timer fires (ngtcp2's <c>ack_thresh</c>;
    /// RFC 9000 suggests 2). The default, 1, acknowledges every batch. ngtcp2 delays an acknowledgement by
    /// min(<see cref="MaxAckDelay"/>, smoothed RTT / 8) — a few microseconds on loopback, tens on a LAN — and a
    /// request/response exchange of one packet each way then woke the loop a few microseconds after every answer only to
    /// send a lone ACK, just as the caller queued its next request: 4 KiB pushes took ~63 µs at p50 with 2 and ~52 µs
    /// with 1 on loopback (docs/benchmarks.md). A receiver that finds two or more packets per batch acknowledges once per
    /// batch either way; one that kept up packet by packet would send up to twice as many ACKs with 1 (over a veth link
    /// shaped to 1 and 4 Gbit/s, GRO's batches kept the count the same with either). Set 2 for a bulk receiver whose
    /// batches hold one packet each. Initial and Handshake packets are always acknowledged at once, whatever this is.
    /// </summary>
    public int AckThreshold { get; init; } = 1;

    /// <summary>The congestion controller.</summary>
    public QuicCongestionControl CongestionControl { get; init; } = QuicCongestionControl.Bbr;

    /// <summary>
    /// The largest UDP payload this side sends. A connection to a loopback address uses it from the start (up to the
    /// 65487 bytes loopback carries); any other starts at 1200 bytes, and path MTU discovery raises the size as far as
    /// the path carries it, up to this: 1452 on Ethernet, 8952 on jumbo-frame LANs. Lower it to cap the packet size
    /// (1452 keeps every packet within a standard Ethernet frame).
    /// </summary>
    public int MaxDatagramSize { get; init; } = LoopbackDatagramSize;

    // The largest UDP payload both IPv4 and IPv6 loopback carry (the 65536-byte MTU less the IPv6 and UDP headers).
    internal const int LoopbackDatagramSize = 65487;

    /// <summary>
    /// Tests: probe the path MTU to loopback peers too (instead of using the largest size at once), so that a relay on
    /// 127.0.0.1 can stand in for a network path.
    /// </summary>
    internal bool ProbeLoopbackPaths { get; init; }

    /// <summary>Tests: a token a dialing connection puts in its Initial packets, as a forged or stale one would be.</summary>
    internal byte[]? InitialTokenForTests { get; init; }

    /// <summary>Tests: the length of the DCID a dialing connection makes up for its first Initial (normally 16).</summary>
    internal int? InitialDcidLengthForTests { get; init; }

    internal void Validate()
    {
        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(name, value, "Must be positive.");
            }
        }
        if (MaxInboundBidirectionalStreams is < 0 or > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInboundBidirectionalStreams), MaxInboundBidirectionalStreams, "Must be within 0..1048576.");
        }
        if (MaxInboundUnidirectionalStreams is < 0 or > 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInboundUnidirectionalStreams), MaxInboundUnidirectionalStreams, "Must be within 0..1048576.");
        }
        Positive(IdleTimeout, nameof(IdleTimeout));
        Positive(HandshakeTimeout, nameof(HandshakeTimeout));
        if (MaxAckDelay < TimeSpan.FromMilliseconds(1) || MaxAckDelay >= TimeSpan.FromMilliseconds(1 << 14))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAckDelay), MaxAckDelay, "Must be within 1 ms..16 s (RFC 9000 §18.2).");
        }
        if (AckThreshold is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(AckThreshold), AckThreshold, "Must be within 1..1024.");
        }
        if (KeepAliveInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(KeepAliveInterval), KeepAliveInterval, "Must not be negative.");
        }
        if (InitialStreamReceiveWindow < 1024 || MaxStreamReceiveWindow < InitialStreamReceiveWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxStreamReceiveWindow), "Stream windows must be at least 1 KiB, and the maximum at least the initial one.");
        }
        if (InitialConnectionReceiveWindow < InitialStreamReceiveWindow || MaxConnectionReceiveWindow < InitialConnectionReceiveWindow)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConnectionReceiveWindow), "Connection windows must be at least the stream window, and the maximum at least the initial one.");
        }
        if (MaxDatagramSize is < 1200 or > 65527)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDatagramSize), MaxDatagramSize, "A QUIC datagram is 1200 to 65527 bytes.");
        }
    }
}
