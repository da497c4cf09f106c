namespace TensorProtocol.Quic;

/// <summary>The congestion controller ngtcp2 runs for a connection.</summary>
public enum QuicCongestionControl
{
    /// <summary>BBR (v2 in ngtcp2): the default; it measured far ahead of CUBIC on low-RTT paths.</summary>
    Bbr,

    /// <summary>CUBIC.</summary>
    Cubic,

    /// <summary>NewReno.</summary>
    Reno,
}
