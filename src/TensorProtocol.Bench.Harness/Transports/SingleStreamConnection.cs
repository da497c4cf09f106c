namespace TensorProtocol.Bench.Transports;

/// <summary>
/// Adapts a TCP-style connection, which is a single byte stream, to the connection/stream shape of
/// <see cref="IBenchClientConnection"/> and <see cref="IBenchServerConnection"/>: the connection hands out its one
/// stream once.
/// </summary>
/// <param name="stream">The connection's byte stream; owns the socket underneath.</param>
/// <param name="acceptHandshake">
/// Server-side work to finish before the stream is usable (the TLS handshake). It runs in
/// <see cref="AcceptStreamAsync"/> rather than at accept time so the accept loop never waits on a peer.
/// </param>
internal sealed class SingleStreamConnection(Stream stream, Func<CancellationToken, Task>? acceptHandshake = null)
    : IBenchClientConnection, IBenchServerConnection
{
    private int _handedOut;

    public Task<Stream> OpenStreamAsync(CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _handedOut, 1) == 0
            ? Task.FromResult(stream)
            : throw new InvalidOperationException("This transport carries one stream per connection.");

    public async Task<Stream?> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _handedOut, 1) != 0)
        {
            return null;
        }
        if (acceptHandshake is not null)
        {
            await acceptHandshake(cancellationToken);
        }
        return stream;
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}
