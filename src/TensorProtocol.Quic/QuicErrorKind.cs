namespace TensorProtocol.Quic;

/// <summary>What went wrong, in terms a caller can act on.</summary>
public enum QuicErrorKind
{
    /// <summary>A bug or an unexpected native failure.</summary>
    InternalError,

    /// <summary>Nobody answered at the address (ICMP unreachable), or the peer refused the connection.</summary>
    ConnectionRefused,

    /// <summary>The handshake or the operation did not finish in the allowed time.</summary>
    Timeout,

    /// <summary>The peer's public key is not the expected one, or its certificate is unusable.</summary>
    AuthenticationFailed,

    /// <summary>The two endpoints share no application protocol (ALPN).</summary>
    AlpnMismatch,

    /// <summary>The peer closed the connection; <see cref="QuicException.ApplicationErrorCode"/> has its code.</summary>
    ConnectionAborted,

    /// <summary>This side closed or disposed the connection (or its endpoint) while the operation was pending.</summary>
    OperationAborted,

    /// <summary>The peer reset or stopped the stream; <see cref="QuicException.ApplicationErrorCode"/> has its code.</summary>
    StreamAborted,

    /// <summary>Nothing was heard from the peer for longer than the idle timeout.</summary>
    IdleTimeout,

    /// <summary>The peer broke the QUIC or TLS protocol; <see cref="QuicException.TransportErrorCode"/> has the code.</summary>
    ProtocolViolation,

    /// <summary>The peer (or this side) could not agree on a QUIC version.</summary>
    VersionNegotiationFailed,

    /// <summary>The local address is already in use, or the socket could not be created.</summary>
    AddressInUse,
}
