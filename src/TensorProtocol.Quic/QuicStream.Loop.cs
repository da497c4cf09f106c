using System.Buffers;
using TensorProtocol.Quic.Interop;
using TensorProtocol.Quic.Internal;

namespace TensorProtocol.Quic;

// Everything here runs on the endpoint's loop thread only.
public sealed unsafe partial class QuicStream
{
    // ---- send side ----
    private readonly List<PendingWrite> _writes = [];
    private int _ackHead;        // first write not fully acknowledged
    private int _writeHead;      // first write not fully handed to ngtcp2
    private long _enqueued;
    private long _written;
    private long _acked;
    private bool _finRequested;
    private bool _finWritten;
    private bool _writeClosed;
    private QuicException? _writeError;
    internal bool InSendQueue;
    internal bool SendBlocked;

    // ---- receive side ----
    private Memory<byte> _readBuffer;
    private MemoryHandle _readPin;
    private byte* _readPointer;
    private int _readLength;
    private int _readFilled;
    private bool _readPending;
    // Data that arrived while no read was pending. Written by the loop; read by the loop (BeginRead) or, for bytes
    // already here, by the reader's own thread (TryReadBuffered), so every access holds _storeLock.
    private ReceiveBuffer? _bufferedStore;
    private readonly Lock _storeLock = new();
    private ReceiveBuffer _buffered
    {
        get
        {
            ReceiveBuffer? store = _bufferedStore;
            if (store is null)
            {
                store = new ReceiveBuffer(_connection.Endpoint.BlockPool);
                Volatile.Write(ref _bufferedStore, store);
            }
            return store;
        }
    }
    private bool _readFillAll;
    private bool _finReceived;
    private QuicException? _readError;
    private ulong _uncredited;
    // Bytes a reader took from the buffer on its own thread, not yet credited by the loop (GrantReaderCredit).
    private long _readerCredit;
    private Action? _grantReaderCredit;
    internal bool ReadReady;
    internal bool Closed;
    internal bool Accepted;          // the application took this peer-opened stream from the accept queue
    internal bool StreamCreditOwed;  // closed, but the peer's stream limit was not raised for it yet

    /// <summary>All the peer's data is here (FIN included) and nothing failed: what <see cref="QuicConnection.InboundStreamHandler"/> needs.</summary>
    internal bool HasAllData => _finReceived && _readError is null && !Closed;

    internal bool HasDataToSend => !_writeClosed && (_written < _enqueued || (_finRequested && !_finWritten));

    private void EnqueueWrite(PendingWrite write)
    {
        if (write.Source.IsCompleted)
        {
            write.Release(); // cancelled before the loop saw it (CancelWrite, which also reset the stream)
            return;
        }
        write.Queued = true;
        if (_writeError is not null || _writeClosed || _finRequested)
        {
            write.Complete((Exception?)_writeError ?? new InvalidOperationException("Writing on this stream was already completed or aborted."));
            write.Release();
            return;
        }
        if (_connection.TerminalError is { } error)
        {
            write.Complete(error);
            write.Release();
            return;
        }
        write.Start = _enqueued;
        _enqueued += write.Length;
        _writes.Add(write);
        if (write.Fin)
        {
            _finRequested = true;
        }
        if (write.Length == 0 && !write.Fin)
        {
            CompleteAcked();
        }
        _connection.ScheduleSend(this);
    }

    private void RequestFin()
    {
        if (_writeClosed || _finRequested)
        {
            return;
        }
        _finRequested = true;
        _connection.ScheduleSend(this);
    }

    /// <summary>Fills <paramref name="vecs"/> with unsent data; returns the count and whether FIN may ride along.</summary>
    internal int FillVectors(ngtcp2.ngtcp2_vec* vecs, int capacity, out bool fin)
    {
        int count = 0;
        long offset = _written;
        for (int i = _writeHead; i < _writes.Count && count < capacity; i++)
        {
            PendingWrite w = _writes[i];
            long skip = offset - w.Start;
            if (skip >= w.Length)
            {
                continue;
            }
            vecs[count].@base = w.Pointer + skip;
            vecs[count].len = (nuint)(w.Length - skip);
            offset = w.End;
            count++;
        }
        fin = _finRequested && !_finWritten && offset == _enqueued;
        return count;
    }

    /// <summary>ngtcp2 took <paramref name="length"/> bytes (and FIN with them when <paramref name="fin"/>).</summary>
    internal void OnWritten(long length, bool fin)
    {
        _written += length;
        while (_writeHead < _writes.Count && _writes[_writeHead].End <= _written)
        {
            _writeHead++;
        }
        if (fin && _written == _enqueued)
        {
            _finWritten = true;
        }
    }

    /// <summary>The peer acknowledged [offset, offset+length): complete and unpin the writes it covers.</summary>
    internal void OnAcked(ulong offset, ulong length)
    {
        _acked = Math.Max(_acked, (long)(offset + length));
        CompleteAcked();
    }

    private void CompleteAcked()
    {
        while (_ackHead < _writes.Count && _writes[_ackHead].End <= _acked && (_writes[_ackHead].Length > 0 || !_writes[_ackHead].Fin || _finWritten))
        {
            PendingWrite w = _writes[_ackHead];
            _writes[_ackHead] = null!;
            _ackHead++;
            w.Release();
            w.Complete(null);
        }
        if (_ackHead == _writes.Count)
        {
            _writes.Clear();
            _ackHead = 0;
            _writeHead = 0;
        }
        else if (_ackHead > 64 && _ackHead > _writes.Count / 2)
        {
            _writes.RemoveRange(0, _ackHead);
            _writeHead -= _ackHead;
            _ackHead = 0;
        }
    }

    internal void OnSendBlocked()
    {
        if (!SendBlocked)
        {
            SendBlocked = true;
            _connection.OnStreamSendBlocked(true);
        }
    }

    internal void OnSendUnblocked()
    {
        if (SendBlocked)
        {
            SendBlocked = false;
            _connection.OnStreamSendBlocked(false);
        }
        if (HasDataToSend)
        {
            _connection.ScheduleSend(this);
        }
    }

    internal void CancelWrite(PendingWrite write, CancellationToken token)
    {
        if (write.Source.IsCompleted)
        {
            return;
        }
        if (!write.Queued)
        {
            // Still held (a QuicBatch, or its post racing the cancellation): its caller learns of the cancellation, and
            // EnqueueWrite unpins it when it comes. The stream is still reset below: writes queued after this one must
            // not reach the peer with its bytes missing.
            write.Complete(new OperationCanceledException(token));
        }
        // Bytes may already be on the wire; the only honest way to take them back is to reset the stream.
        AbortWrite(QuicConnection.CancelledErrorCode, new OperationCanceledException(token));
    }

    private void AbortWrite(long errorCode, Exception reason)
    {
        if (_writeClosed && _writes.Count == 0)
        {
            return;
        }
        _writeClosed = true;
        _writeError ??= reason as QuicException ?? new QuicException(QuicErrorKind.OperationAborted, "Writing on the stream was aborted locally.");
        _connection.ShutdownStreamWrite(Id, errorCode);
        FailWrites(reason, release: false);
    }

    /// <summary>Fails every pending write. Memory stays pinned until ngtcp2 closes the stream unless <paramref name="release"/>.</summary>
    private void FailWrites(Exception error, bool release)
    {
        for (int i = _ackHead; i < _writes.Count; i++)
        {
            PendingWrite w = _writes[i];
            w.Complete(error);
            if (release)
            {
                w.Release();
                _writes[i] = null!;
            }
        }
        if (release)
        {
            _writes.Clear();
            _ackHead = 0;
            _writeHead = 0;
        }
    }

    // ---- receive ----

    /// <summary>
    /// On the reader's thread: takes bytes that are already buffered without a round trip through the loop (a new
    /// stream's header and a small payload usually are), then posts only their flow-control credit. False sends the
    /// read the usual way: nothing buffered, an error to report, or a fill-all read that needs more than is here.
    /// </summary>
    private bool TryReadBuffered(Span<byte> destination, bool fillAll, out int copied)
    {
        copied = 0;
        ReceiveBuffer? store = Volatile.Read(ref _bufferedStore);
        if (store is null)
        {
            return false;
        }
        lock (_storeLock)
        {
            if (_readError is not null || store.Length == 0 || (fillAll && store.Length < destination.Length && !Volatile.Read(ref _finReceived)))
            {
                return false;
            }
            copied = store.Read(destination);
        }
        Interlocked.Add(ref _readerCredit, copied);
        _connection.Post(_grantReaderCredit ??= GrantReaderCredit); // one delegate per stream, not one per read
        return true;
    }

    /// <summary>Loop: grants the peer the credit for what readers took on their own threads (posted by each such read).</summary>
    private void GrantReaderCredit()
    {
        _uncredited += (ulong)Interlocked.Exchange(ref _readerCredit, 0);
        _connection.FlushCredit(this);
    }

    private void BeginRead(Memory<byte> buffer, bool fillAll, CancellationToken cancellationToken)
    {
        if (_readError is not null)
        {
            _readSource.TrySetException(_readError);
            return;
        }
        if (cancellationToken.IsCancellationRequested)
        {
            // The cancellation's own post found no pending read (a QuicBatch held this one): end it here.
            _readSource.TrySetException(new OperationCanceledException(cancellationToken));
            return;
        }
        // Data that arrived while nobody was reading goes first.
        int copied;
        lock (_storeLock)
        {
            copied = _buffered.Read(buffer.Span);
        }
        if (copied > 0)
        {
            Credit(copied);
            _connection.FlushCredit(this);
        }
        if (copied == buffer.Length || (copied > 0 && !fillAll) || (_finReceived && _buffered.Length == 0))
        {
            _readSource.TrySetResult(copied);
            return;
        }
        try
        {
            // The caller's memory may come from its own MemoryManager, whose Pin runs here on the loop: a throwing
            // one fails this read, not the endpoint.
            _readPin = buffer.Pin();
        }
        catch (Exception e)
        {
            _readSource.TrySetException(e);
            return;
        }
        _readBuffer = buffer;
        _readPointer = (byte*)_readPin.Pointer;
        _readLength = buffer.Length;
        _readFilled = copied;
        _readFillAll = fillAll;
        _readPending = true;
    }

    private void CancelRead(short version, CancellationToken token)
    {
        if (!_readPending || _readSource.Version != version)
        {
            return;
        }
        int filled = _readFilled;
        EndPendingRead();
        if (filled > 0)
        {
            _readSource.TrySetResult(filled); // data already landed in the caller's buffer: deliver it, not an error
        }
        else
        {
            _readSource.TrySetException(new OperationCanceledException(token));
        }
    }

    /// <summary>Stream data from ngtcp2, in order: straight into the pending read, the rest into a bounded buffer.</summary>
    internal void OnData(byte* data, int length, bool fin)
    {
        if (_readError is not null)
        {
            return; // aborted locally: discard
        }
        if (_readPending && length > 0)
        {
            int n = Math.Min(length, _readLength - _readFilled);
            if (_readLength >= StreamingCopy.MinReadLength)
            {
                StreamingCopy.Copy(data, _readPointer + _readFilled, n);
            }
            else
            {
                Buffer.MemoryCopy(data, _readPointer + _readFilled, n, n);
            }
            _readFilled += n;
            Credit(n);
            data += n;
            length -= n;
            // Also for a fill-all read that is not full yet: the batch's end grants the credit for these bytes.
            MarkReadReady();
            if (_readFilled == _readLength)
            {
                // Full: complete now so the rest of this frame is not held back behind it.
                int filled = _readFilled;
                EndPendingRead();
                _readSource.TrySetResult(filled);
            }
        }
        if (length > 0)
        {
            // Bounded by flow control: the peer cannot send past the credit we granted for consumed bytes.
            lock (_storeLock)
            {
                _buffered.Write(new ReadOnlySpan<byte>(data, length));
            }
        }
        if (fin)
        {
            _finReceived = true;
            MarkReadReady();
        }
    }

    private void MarkReadReady()
    {
        if (!ReadReady)
        {
            ReadReady = true;
            _connection.AddReadReady(this);
        }
    }

    /// <summary>After a batch of packets: completes the pending read with what it got.</summary>
    internal void FlushRead()
    {
        ReadReady = false;
        if (!_readPending)
        {
            return;
        }
        if (_readFilled > 0 && (!_readFillAll || _readFilled == _readLength || _finReceived))
        {
            int n = _readFilled;
            EndPendingRead();
            _readSource.TrySetResult(n);
        }
        else if (_finReceived && _buffered.Length == 0)
        {
            EndPendingRead();
            _readSource.TrySetResult(0);
        }
    }

    private void EndPendingRead()
    {
        _readPending = false;
        MemoryHandle pin = _readPin;
        _readPin = default;
        PendingWrite.Unpin(pin);
        _readPointer = null;
        _readBuffer = default;
    }

    private void Credit(int n) => _uncredited += (ulong)n;

    internal ulong TakeCredit()
    {
        ulong n = _uncredited;
        _uncredited = 0;
        return n;
    }

    internal void OnReset(long errorCode)
    {
        FailReads(new QuicException(QuicErrorKind.StreamAborted, $"The peer reset stream {Id} with error code {errorCode}.", applicationErrorCode: errorCode));
    }

    /// <summary>
    /// ngtcp2 refused our data because the peer sent STOP_SENDING (it then resets the stream itself). ngtcp2 1.11
    /// reports the peer's code only when the whole stream closes, so the code may be unknown here.
    /// </summary>
    internal void OnPeerStoppedReading()
    {
        if (_writeClosed && _writes.Count == 0)
        {
            return;
        }
        var error = new QuicException(QuicErrorKind.StreamAborted, $"The peer stopped reading stream {Id} (STOP_SENDING); its error code arrives only when the stream closes.");
        _writeError ??= error;
        _writeClosed = true;
        FailWrites(error, release: false);
    }

    /// <summary>Whether a write is waiting on this stream (for probing flow-blocked streams).</summary>
    internal bool HasPendingWrites => _ackHead < _writes.Count;

    private void FailReads(QuicException error)
    {
        long discarded = 0;
        lock (_storeLock)
        {
            _readError ??= error;
            if (_bufferedStore is { } store)
            {
                discarded = store.Length;
                store.Clear();
            }
        }
        // ngtcp2 returns to the connection's window only the bytes it never handed us. Those it did, unread or read but
        // not yet credited, are ours to give back, or every discarded stream would shrink the window for good (a
        // refused push leaves up to a stream window of payload here).
        ulong owed = _uncredited + (ulong)discarded;
        _uncredited = 0;
        _connection.ReturnConnectionCredit(owed);
        if (_readPending)
        {
            EndPendingRead();
            _readSource.TrySetException(_readError);
        }
    }

    private void AbortOnLoop(QuicAbortDirection direction, long errorCode)
    {
        if ((direction & QuicAbortDirection.Write) != 0 && CanWrite)
        {
            AbortWrite(errorCode, new QuicException(QuicErrorKind.OperationAborted, $"Writing on stream {Id} was aborted locally with error code {errorCode}."));
        }
        if ((direction & QuicAbortDirection.Read) != 0 && CanRead && _readError is null)
        {
            _connection.ShutdownStreamRead(Id, errorCode);
            FailReads(new QuicException(QuicErrorKind.OperationAborted, $"Reading on stream {Id} was aborted locally with error code {errorCode}."));
        }
    }

    private void DisposeOnLoop()
    {
        if (CanWrite && !_writeClosed && !_finRequested)
        {
            RequestFin();
        }
        if (CanRead && _readError is null && !(_finReceived && _buffered.Length == 0))
        {
            _connection.ShutdownStreamRead(Id, 0);
            FailReads(new QuicException(QuicErrorKind.OperationAborted, $"Stream {Id} was disposed."));
        }
    }

    /// <summary>ngtcp2 forgot the stream: nothing can reach its memory any more.</summary>
    internal void OnClosed(long? errorCode)
    {
        Closed = true;
        OnSendUnblocked(); // keeps the connection's count of blocked streams right
        InSendQueue = false;
        _writeClosed = true;
        var error = _connection.TerminalError ?? (errorCode is { } code && code != 0
            ? new QuicException(QuicErrorKind.StreamAborted, $"Stream {Id} was closed with error code {code}.", applicationErrorCode: code)
            : new QuicException(QuicErrorKind.OperationAborted, $"Stream {Id} closed before its data was acknowledged."));
        _writeError ??= error;
        FailWrites(_writeError, release: true);
        EndReads(error);
    }

    /// <summary>
    /// The connection ended: fail every write and unpin. Data that arrived in full (FIN included) stays readable, as
    /// when only the stream closes: the peer saw it acknowledged, so it counts as delivered.
    /// </summary>
    internal void OnConnectionTerminated(QuicException error)
    {
        Closed = true;
        OnSendUnblocked();
        _writeClosed = true;
        _writeError ??= error;
        FailWrites(error, release: true);
        EndReads(error);
    }

    /// <summary>
    /// Nothing more can arrive. Data that arrived in full (FIN included) stays readable, and a read waiting past its
    /// end completes; anything short of that fails the reads with <paramref name="error"/> (or the earlier one).
    /// </summary>
    private void EndReads(QuicException error)
    {
        if (!_finReceived || _readError is not null)
        {
            FailReads(error);
        }
        else if (_readPending && _buffered.Length == 0)
        {
            EndPendingRead();
            _readSource.TrySetResult(_readFilled);
        }
    }
}
