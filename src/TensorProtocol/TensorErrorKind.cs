namespace TensorProtocol;

/// <summary>Why a tensor operation failed. The first four are the original tensor-iroh kinds.</summary>
public enum TensorErrorKind
{
    /// <summary>Local I/O failed (files, identity key).</summary>
    Io,

    /// <summary>A tensor could not be encoded or decoded (shape, dtype, payload length).</summary>
    Serialization,

    /// <summary>The peer could not be reached, or the connection failed mid-operation.</summary>
    Connection,

    /// <summary>The peer broke the wire protocol (or sent a status we do not know).</summary>
    Protocol,

    /// <summary>The peer has no tensor registered under that name.</summary>
    NotFound,

    /// <summary>The peer's allowlist does not include this node.</summary>
    NotAllowed,

    /// <summary>The tensor exceeds the peer's (or this node's) size limit.</summary>
    TooLarge,

    /// <summary>The peer's receive queue (or its receive memory budget) is full; retry later.</summary>
    QueueFull,

    /// <summary>The operation did not finish in time.</summary>
    Timeout,

    /// <summary>This node (or the peer) is shutting down.</summary>
    Shutdown,
}
