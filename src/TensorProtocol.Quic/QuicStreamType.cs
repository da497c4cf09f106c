namespace TensorProtocol.Quic;

/// <summary>Whether a stream carries data both ways or only from its opener.</summary>
public enum QuicStreamType
{
    /// <summary>Both sides read and write.</summary>
    Bidirectional,

    /// <summary>Only the opener writes; only the peer reads.</summary>
    Unidirectional,
}
