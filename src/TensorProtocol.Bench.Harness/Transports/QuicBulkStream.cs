using TensorProtocol.Quic;

namespace TensorProtocol.Bench.Transports;

/// <summary>
/// A <see cref="QuicStream"/> as the benchmark sees it: <see cref="Stream"/> through the QUIC layer's adapter for the
/// request/response measurements, and the layer's own zero-copy API for bulk (<see cref="IBulkStream"/>).
/// </summary>
internal sealed class QuicBulkStream(QuicStream stream) : Stream, IBulkStream
{
    // Writes the sender keeps queued at once: each pins the same chunk and completes when the peer acknowledged it.
    private const int WritesInFlight = 8;

    private readonly Stream _adapter = stream.AsStream();

    public async Task SendRepeatedAsync(ReadOnlyMemory<byte> chunk, long bytes, CancellationToken cancellationToken)
    {
        var inFlight = new Queue<Task>();
        try
        {
            for (long remaining = bytes; remaining > 0;)
            {
                int n = (int)Math.Min(chunk.Length, remaining);
                inFlight.Enqueue(stream.WriteAsync(chunk[..n], cancellationToken).AsTask());
                remaining -= n;
                if (inFlight.Count >= WritesInFlight)
                {
                    await inFlight.Dequeue();
                }
            }
            while (inFlight.Count > 0)
            {
                await inFlight.Dequeue();
            }
        }
        finally
        {
            // After a failure the stream fails the writes still queued: observe them, the first error is what counts.
            foreach (Task write in inFlight)
            {
                await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    public ValueTask FillAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        stream.ReadExactlyAsync(buffer, cancellationToken);

    public override bool CanRead => _adapter.CanRead;
    public override bool CanWrite => _adapter.CanWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => _adapter.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _adapter.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _adapter.ReadAsync(buffer, offset, count, cancellationToken);
    public override void Write(byte[] buffer, int offset, int count) => _adapter.Write(buffer, offset, count);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _adapter.WriteAsync(buffer, cancellationToken);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _adapter.WriteAsync(buffer, offset, count, cancellationToken);
    public override void Flush() => _adapter.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _adapter.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => _adapter.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _adapter.Dispose();
        }
        base.Dispose(disposing);
    }
}
