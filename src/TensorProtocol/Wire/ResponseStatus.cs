namespace TensorProtocol.Wire;

/// <summary>The outcome a response reports. The values are wire codes: never renumber.</summary>
internal enum ResponseStatus : byte
{
    /// <summary>Done: a pushed tensor is in the receiver's queue, or a pulled tensor follows.</summary>
    Ok = 0,

    /// <summary>No tensor by that name (pull), or no queue by that name (push, if the node only accepts known names).</summary>
    NotFound = 1,

    /// <summary>The peer may not do this (the node's access rules).</summary>
    NotAllowed = 2,

    /// <summary>The tensor is larger than the receiver accepts.</summary>
    TooLarge = 3,

    /// <summary>The receiver's queue for that name is full; try later.</summary>
    QueueFull = 4,

    /// <summary>The request broke the protocol; the message says how.</summary>
    BadRequest = 5,

    /// <summary>The node is stopping and takes no more work.</summary>
    ShuttingDown = 6,

    /// <summary>The node failed for a reason of its own.</summary>
    InternalError = 7,
}
