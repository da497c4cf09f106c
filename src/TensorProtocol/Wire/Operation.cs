namespace TensorProtocol.Wire;

/// <summary>What a request asks for; one bidirectional QUIC stream carries one operation.</summary>
internal enum Operation : byte
{
    /// <summary>The requester sends a tensor for the responder's queue of that name.</summary>
    Push = 1,

    /// <summary>The requester asks for the next tensor in the responder's queue of that name.</summary>
    Pull = 2,
}
