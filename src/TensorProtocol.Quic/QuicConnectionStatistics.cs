namespace TensorProtocol.Quic;

/// <summary>A snapshot of a connection's transport state.</summary>
public sealed record QuicConnectionStatistics
{
    /// <summary>Smoothed round-trip time.</summary>
    public TimeSpan SmoothedRtt { get; init; }

    /// <summary>Smallest round-trip time seen.</summary>
    public TimeSpan MinRtt { get; init; }

    /// <summary>Most recent round-trip sample.</summary>
    public TimeSpan LatestRtt { get; init; }

    /// <summary>Congestion window in bytes.</summary>
    public long CongestionWindow { get; init; }

    /// <summary>Bytes sent and not yet acknowledged or declared lost.</summary>
    public long BytesInFlight { get; init; }

    /// <summary>UDP payload bytes sent on this connection.</summary>
    public long BytesSent { get; init; }

    /// <summary>UDP payload bytes received on this connection.</summary>
    public long BytesReceived { get; init; }

    /// <summary>QUIC packets sent.</summary>
    public long PacketsSent { get; init; }

    /// <summary>QUIC packets received.</summary>
    public long PacketsReceived { get; init; }

    /// <summary>STREAM frames ngtcp2 declared lost and sent again (ngtcp2 1.x exposes losses per stream only).</summary>
    public long StreamFramesLost { get; init; }

    /// <summary>The largest UDP payload the path currently carries.</summary>
    public int MaxDatagramSize { get; init; }
}
