namespace TensorProtocol.Quic;

/// <summary>
/// The single exception type of the QUIC layer. <see cref="Kind"/> says what happened; <see cref="Scope"/> says
/// what is still usable afterwards (the stream, the connection, the endpoint).
/// </summary>
public sealed class QuicException : IOException
{
    /// <summary>Creates an exception of the given kind.</summary>
    public QuicException(QuicErrorKind kind, string message, long? applicationErrorCode = null, ulong? transportErrorCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        ApplicationErrorCode = applicationErrorCode;
        TransportErrorCode = transportErrorCode;
    }

    /// <summary>What went wrong.</summary>
    public QuicErrorKind Kind { get; }

    /// <summary>The application error code the peer sent (connection close, stream reset or stop-sending).</summary>
    public long? ApplicationErrorCode { get; }

    /// <summary>The QUIC transport error code, when the failure was a transport or TLS error (0x100+alert for TLS).</summary>
    public ulong? TransportErrorCode { get; }

    /// <summary>What the failure leaves unusable.</summary>
    public QuicErrorScope Scope => Kind switch
    {
        QuicErrorKind.StreamAborted => QuicErrorScope.Stream,
        QuicErrorKind.AddressInUse => QuicErrorScope.Endpoint,
        QuicErrorKind.InternalError => QuicErrorScope.Connection,
        _ => QuicErrorScope.Connection,
    };
}

/// <summary>How much of the QUIC machinery a <see cref="QuicException"/> takes down.</summary>
public enum QuicErrorScope
{
    /// <summary>Only this stream is lost; the connection and its other streams go on.</summary>
    Stream,

    /// <summary>The connection is gone (or never came up); the endpoint goes on.</summary>
    Connection,

    /// <summary>The endpoint cannot be used.</summary>
    Endpoint,
}
