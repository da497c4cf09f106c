using System.Buffers;
using TensorProtocol.Quic.Internal;

namespace TensorProtocol.Quic;

/// <summary>
/// One QUIC stream. Writes are zero-copy: the caller's memory is pinned and handed to ngtcp2, and
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/> completes when the peer has acknowledged
/// every byte of it (so the buffer may then be reused). Several writes may be outstanding at once; they go out in
/// order. Reads copy straight from the decrypted packet into the caller's buffer and grant the peer new
/// flow-control credit only as data is consumed, so a reader that stops reading stops the writer.
/// One read at a time; all members are thread-safe against the loop.
/// </summary>
public sealed partial class QuicStream : IAsyncDisposable
{
    private readonly QuicConnection _connection;
    private readonly CompletionSource<int> _readSource = new();
    private int _readInProgress;
    private int _disposed;
    private int _finQueued; // the application asked for FIN (the loop may not have seen it yet)

    internal QuicStream(QuicConnection connection, long id, bool isLocal)
    {
        _connection = connection;
        Id = id;
        IsLocal = isLocal;
        bool bidi = (id & 0x2) == 0;
        Type = bidi ? QuicStreamType.Bidirectional : QuicStreamType.Unidirectional;
        CanRead = bidi || !isLocal;
        CanWrite = bidi || isLocal;
        if (!CanRead)
        {
            _finReceived = true;
        }
        if (!CanWrite)
        {
            _writeClosed = true;
        }
    }

    /// <summary>The QUIC stream ID.</summary>
    public long Id { get; }

    /// <summary>Bidirectional or unidirectional.</summary>
    public QuicStreamType Type { get; }

    /// <summary>Whether this side opened the stream.</summary>
    public bool IsLocal { get; }

    /// <summary>Whether this side may read.</summary>
    public bool CanRead { get; }

    /// <summary>Whether this side may write.</summary>
    public bool CanWrite { get; }

    /// <summary>
    /// True once the peer's FIN has arrived and every byte before it was read: the next read would return 0. Lets a
    /// reader that just finished an exact-length read confirm the end without another round through the loop
    /// (false only means "not known yet"; read to find out).
    /// </summary>
    public bool ReadsCompleted => Volatile.Read(ref _finReceived) && BufferedLength == 0 && Volatile.Read(ref _readInProgress) == 0;

    /// <summary>
    /// Bytes that arrived and wait to be read. Reading them (<see cref="ReadBuffered"/>, or a read no larger than
    /// this) takes no round trip through the loop.
    /// </summary>
    public long BufferedLength => Volatile.Read(ref _bufferedStore)?.Length ?? 0; // never creates the store: any thread

    /// <summary>The memory behind <see cref="BufferedLength"/> (for tests and diagnostics).</summary>
    internal long BufferedCapacity => Volatile.Read(ref _bufferedStore)?.Capacity ?? 0;

    /// <summary>The connection the stream belongs to.</summary>
    public QuicConnection Connection => _connection;

    /// <summary>
    /// Queues <paramref name="buffer"/> for sending without copying it and completes once the peer has acknowledged
    /// all of it. <paramref name="completeWrites"/> sends FIN after it. The memory stays pinned until acknowledged
    /// (or until the stream ends) even if the returned task is cancelled; do not change it before completion.
    /// </summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default)
    {
        if (!CanWrite)
        {
            throw new InvalidOperationException("This stream is not writable.");
        }
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        if (buffer.IsEmpty && !completeWrites)
        {
            return ValueTask.CompletedTask;
        }
        if (completeWrites)
        {
            Volatile.Write(ref _finQueued, 1);
        }
        var write = new PendingWrite(this, buffer, completeWrites);
        if (cancellationToken.CanBeCanceled)
        {
            // Before the loop can see the write: registered after Post, a write the loop completed first kept its
            // registration (and through it the stream and connection) reachable from the token for the token's life.
            write.RegisterCancellation(cancellationToken);
        }
        try
        {
            _connection.Post(() => EnqueueWrite(write));
        }
        catch (Exception e)
        {
            // The endpoint is gone: the loop will never see this write, so unpin the caller's memory here.
            write.Release();
            write.Complete(e);
            throw;
        }
        return write.Source.AsValueTask;
    }

    /// <summary>Queues <paramref name="buffer"/>; see <see cref="WriteAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/>.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        WriteAsync(buffer, completeWrites: false, cancellationToken);

    /// <summary>Sends FIN after everything already queued: the peer's reads end after that data.</summary>
    public void CompleteWrites()
    {
        if (!CanWrite)
        {
            return;
        }
        Volatile.Write(ref _finQueued, 1);
        _connection.Post(RequestFin);
    }

    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/> (as much as has arrived, up to its length); 0 means
    /// the peer finished the stream and everything was read.
    /// </summary>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, fillAll: false, cancellationToken);

    /// <summary>
    /// <paramref name="fillAll"/> keeps the read pending until the buffer is full (or the stream ends), so data that
    /// arrives meanwhile is copied once, straight into it, instead of waiting in an intermediate buffer.
    /// </summary>
    private ValueTask<int> ReadCoreAsync(Memory<byte> buffer, bool fillAll, CancellationToken cancellationToken)
    {
        ThrowIfNotReadable();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _readInProgress, 1) != 0)
        {
            throw new InvalidOperationException("A read is already in progress on this stream.");
        }
        if (cancellationToken.IsCancellationRequested)
        {
            Volatile.Write(ref _readInProgress, 0);
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        if (buffer.IsEmpty)
        {
            Volatile.Write(ref _readInProgress, 0);
            return ValueTask.FromResult(0);
        }
        if (TryReadBuffered(buffer.Span, fillAll, out int immediate))
        {
            Volatile.Write(ref _readInProgress, 0);
            return ValueTask.FromResult(immediate);
        }
        _readSource.Reset();
        short version = _readSource.Version;
        _connection.Post(() => BeginRead(buffer, fillAll, cancellationToken));
        if (cancellationToken.CanBeCanceled)
        {
            CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (stream, v) = ((QuicStream, short))state!;
                stream._connection.Post(() => stream.CancelRead(v, token));
            }, (this, version));
            return AwaitRead(registration);
        }
        return FinishRead(_readSource.ValueTask);
    }

    private async ValueTask<int> AwaitRead(CancellationTokenRegistration registration)
    {
        try
        {
            return await FinishRead(_readSource.ValueTask).ConfigureAwait(false);
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }
    }

    private ValueTask<int> FinishRead(ValueTask<int> inner)
    {
        if (inner.IsCompletedSuccessfully)
        {
            int n = inner.Result;
            Volatile.Write(ref _readInProgress, 0);
            return ValueTask.FromResult(n);
        }
        return Slow(inner);

        async ValueTask<int> Slow(ValueTask<int> task)
        {
            try
            {
                return await task.ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _readInProgress, 0);
            }
        }
    }

    /// <summary>
    /// Takes up to <paramref name="destination"/>.Length bytes that already arrived, without waiting; 0 when none are
    /// buffered (which says nothing about the end of the stream: see <see cref="ReadsCompleted"/>). Like a read, it
    /// frees flow-control credit for the peer.
    /// </summary>
    /// <exception cref="QuicException">The stream or its connection failed, or reading was aborted.</exception>
    public int ReadBuffered(Span<byte> destination)
    {
        ThrowIfNotReadable();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _readInProgress, 1) != 0)
        {
            throw new InvalidOperationException("A read is already in progress on this stream.");
        }
        try
        {
            if (destination.IsEmpty)
            {
                return 0;
            }
            if (TryReadBuffered(destination, fillAll: false, out int copied))
            {
                return copied;
            }
            if (Volatile.Read(ref _readError) is { } error)
            {
                throw error;
            }
            return 0;
        }
        finally
        {
            Volatile.Write(ref _readInProgress, 0);
        }
    }

    /// <summary>
    /// Copies up to <paramref name="destination"/>.Length bytes that already arrived, without consuming them: a
    /// later read returns them again. For deciding how to read what is there (a length prefix, a header).
    /// </summary>
    public int Peek(Span<byte> destination)
    {
        ThrowIfNotReadable();
        ReceiveBuffer? store = Volatile.Read(ref _bufferedStore);
        if (store is null)
        {
            return 0;
        }
        lock (_storeLock)
        {
            return store.Peek(destination);
        }
    }

    private void ThrowIfNotReadable()
    {
        if (!CanRead)
        {
            throw new InvalidOperationException("This stream is not readable.");
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full; throws <see cref="EndOfStreamException"/> if the stream ends first.</summary>
    public async ValueTask ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int n = await ReadCoreAsync(buffer, fillAll: true, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException("The stream ended before the expected number of bytes arrived.");
            }
            buffer = buffer[n..];
        }
    }

    /// <summary>
    /// Aborts one or both directions with an application error code: RESET_STREAM for writes (unacknowledged data
    /// is dropped), STOP_SENDING for reads. Pending operations on the aborted side fail.
    /// </summary>
    public void Abort(QuicAbortDirection direction, long errorCode)
    {
        QuicConnection.ThrowIfNotAnErrorCode(errorCode);
        _connection.Post(() => AbortOnLoop(direction, errorCode));
    }

    /// <summary>A <see cref="Stream"/> over this QUIC stream, for APIs that want one.</summary>
    public Stream AsStream() => new QuicStreamAdapter(this);

    /// <summary>
    /// Finishes the stream politely: sends FIN if writing was not completed, and tells the peer to stop sending if
    /// not everything was read. Queued writes still go out.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }
        if ((!CanWrite || Volatile.Read(ref _finQueued) != 0) && (!CanRead || ReadsCompleted))
        {
            return ValueTask.CompletedTask; // FIN is on its way and everything was read: the loop has nothing to do
        }
        _connection.Post(DisposeOnLoop);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public override string ToString() => $"QuicStream {Id} on {_connection}";
}

/// <summary>Which direction <see cref="QuicStream.Abort"/> ends.</summary>
[Flags]
public enum QuicAbortDirection
{
    /// <summary>Stop receiving (STOP_SENDING).</summary>
    Read = 1,

    /// <summary>Stop sending (RESET_STREAM).</summary>
    Write = 2,

    /// <summary>Both directions.</summary>
    Both = Read | Write,
}
