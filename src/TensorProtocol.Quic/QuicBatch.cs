namespace TensorProtocol.Quic;

/// <summary>
/// Holds back what this thread asks of a connection's endpoint (opens, writes, reads) until disposed, then hands it
/// all to the loop in one turn, so writes made back to back leave in shared packets (as TCP_CORK does for a socket).
/// A ref struct, so it cannot live across an <c>await</c>: a batch ends within the synchronous code that began it.
/// Do not block inside a batch on an operation of the same endpoint: its work is held until the batch ends.
/// </summary>
public readonly ref struct QuicBatch
{
    private readonly QuicEndpoint? _endpoint;

    internal QuicBatch(QuicEndpoint endpoint) => _endpoint = endpoint.BeginBatch() ? endpoint : null;

    /// <summary>Hands the held-back work to the loop.</summary>
    public void Dispose() => _endpoint?.EndBatch();
}
