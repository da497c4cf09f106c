using System.Buffers;

namespace TensorProtocol.Quic;

/// <summary>
/// <see cref="Stream"/> over a <see cref="QuicStream"/>. Stream callers may reuse their buffer as soon as a write
/// returns, so this adapter copies each write into a pooled buffer and lets up to <see cref="MaxBufferedBytes"/>
/// wait for acknowledgement; disposing waits for all of it (after sending FIN). Use
/// <see cref="QuicStream.WriteAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/> directly for zero-copy sends.
/// </summary>
internal sealed class QuicStreamAdapter : Stream
{
    internal const int MaxBufferedBytes = 4 << 20;

    private readonly QuicStream _stream;
    private readonly Queue<(Task Task, byte[] Buffer, int Length)> _inFlight = new();
    private long _inFlightBytes;
    private bool _disposed;

    internal QuicStreamAdapter(QuicStream stream) => _stream = stream;

    public override bool CanRead => _stream.CanRead && !_disposed;
    public override bool CanWrite => _stream.CanWrite && !_disposed;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _stream.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _stream.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return;
        }
        byte[] copy = ArrayPool<byte>.Shared.Rent(buffer.Length);
        buffer.CopyTo(copy);
        Task task = _stream.WriteAsync(copy.AsMemory(0, buffer.Length), cancellationToken).AsTask();
        _inFlight.Enqueue((task, copy, buffer.Length));
        _inFlightBytes += buffer.Length;
        while (_inFlight.Count > 0 && (_inFlight.Peek().Task.IsCompleted || _inFlightBytes > MaxBufferedBytes))
        {
            await CompleteOldest().ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Every write is already queued on the connection, in order, when WriteAsync returns, so there is nothing to push
    /// out; like NetworkStream, flushing does not wait for the peer. Acknowledged buffers are recycled as writes go.
    /// </summary>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Task.CompletedTask;
    }

    /// <summary>Waits until the peer acknowledged everything written so far.</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_inFlight.Count > 0)
        {
            await CompleteOldest().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Flush() => ObjectDisposedException.ThrowIf(_disposed, this);

    private async Task CompleteOldest()
    {
        var (task, buffer, length) = _inFlight.Dequeue();
        _inFlightBytes -= length;
        await task.ConfigureAwait(false);
        // Only an acknowledged buffer goes back to the pool: ngtcp2 no longer reads it.
        ArrayPool<byte>.Shared.Return(buffer);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            if (_stream.CanWrite)
            {
                _stream.CompleteWrites();
                await DrainAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is QuicException or OperationCanceledException)
        {
            // The peer or the connection ended the stream first, or a write was cancelled: nothing left to flush.
        }
        finally
        {
            // Whatever happened above, the stream itself goes (FIN or STOP_SENDING, its credit back to the peer).
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
