using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic;

// How work reaches the loop. A turn (drain the work queue, write what it made dirty) runs under _turn. Usually the
// loop thread runs it; while the loop sleeps in ppoll, a posting thread may borrow the turn and send its packets
// itself. On this project's VMs a thread wake-up costs more than the turn it would start: for a 4 KiB push, one
// wake fewer per message took the p50 from ~83 to ~62 µs and the client loop's CPU from ~56 to ~40 µs a message.
public sealed partial class QuicEndpoint
{
    // Held by whichever thread runs a turn: the loop thread, except while it sleeps in ppoll.
    private readonly Lock _turn = new();
    // The deadline the parked loop's ppoll was given: a borrowed turn that sets an earlier timer must wake it.
    private ulong _parkedUntil;
    // Work that threw in a borrowed turn: the loop rethrows it, as if it had run the work itself.
    private Exception? _borrowedTurnFailure;
    private long _borrowedTurns;
    private long _wakeTimerFired;
    private long _wakes;

    [ThreadStatic]
    private static QuicEndpoint? t_borrowedTurn;
    [ThreadStatic]
    private static QuicEndpoint? t_batch;
    [ThreadStatic]
    private static int t_batchDepth;
    [ThreadStatic]
    private static List<Action>? t_batchWork;

    /// <summary>
    /// Runs <paramref name="work"/> in a turn: the loop's, or one this thread borrows while the loop is parked. Inside
    /// a <see cref="QuicBatch"/> it is held until the batch ends. After the loop has stopped, work still runs (on the
    /// caller, serialized), so whatever it completes fails cleanly with the connection's terminal error instead of
    /// hanging.
    /// </summary>
    internal void Post(Action work)
    {
        if (t_batch == this)
        {
            (t_batchWork ??= []).Add(work);
            return;
        }
        PostUnbatched(work);
    }

    /// <summary><see cref="Post"/>, but never held by a batch (for work whose order across threads matters).</summary>
    internal void PostUnbatched(Action work)
    {
        _work.Enqueue(work);
        AfterEnqueue();
    }

    private void AfterEnqueue()
    {
        if (_stopped.Task.IsCompleted)
        {
            DrainAfterStop();
            return;
        }
        if (Thread.CurrentThread == _thread || t_borrowedTurn == this)
        {
            return; // the running turn drains the queue before it ends
        }
        // A running loop drains the queue before it parks again; a parked one is borrowed, or woken. The loop raises
        // the flag and then looks at the queue; we queued and now look at the flag: both sides need a full fence.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _parked) != 0 && !TryBorrowTurn())
        {
            Wake();
        }
    }

    /// <summary>
    /// Runs a turn on this thread if the loop is parked and no one else holds the turn. Returns false when the turn
    /// could not be taken (then the caller wakes the loop).
    /// </summary>
    private bool TryBorrowTurn()
    {
        if (!_turn.TryEnter())
        {
            return false;
        }
        try
        {
            if (Volatile.Read(ref _parked) == 0)
            {
                // Woken meanwhile (by a packet or another post): the loop drains the queue once it has the turn.
                return true;
            }
            QuicEndpoint? outer = t_borrowedTurn; // a turn of another endpoint this thread is inside of
            t_borrowedTurn = this;
            try
            {
                ulong now = Tick();
                DrainWork();
                WriteDirty(now);
            }
            catch (Exception e)
            {
                _borrowedTurnFailure = e;
                Wake();
                return true;
            }
            finally
            {
                t_borrowedTurn = outer;
            }
            _borrowedTurns++;
            if (!_work.IsEmpty)
            {
                Wake(); // work queued meanwhile
                return true;
            }
            ulong next = NextExpiry();
            if (next < _parkedUntil)
            {
                // A timer the parked loop does not know about (pacing, loss detection, a delayed ACK): have the kernel
                // wake it then, rather than waking it now only to let it compute a new timeout.
                if (_wakeTimer is { } timer && timer.TryArm(next))
                {
                    _parkedUntil = next;
                }
                else
                {
                    Wake();
                }
            }
            return true;
        }
        finally
        {
            _turn.Exit();
        }
    }

    /// <summary>How many turns posting threads ran instead of the loop thread (for tests and diagnostics).</summary>
    internal long BorrowedTurns
    {
        get
        {
            lock (_turn)
            {
                return _borrowedTurns;
            }
        }
    }

    /// <summary>
    /// How often the parked loop was woken by something other than a datagram or its own timeout: a post's eventfd
    /// write, or the wake timer a borrowed turn armed (for tests and diagnostics).
    /// </summary>
    internal long LoopWakes
    {
        get
        {
            lock (_turn)
            {
                return Interlocked.Read(ref _wakes) + _wakeTimerFired;
            }
        }
    }

    /// <summary>Whether the loop thread sleeps in ppoll (so that a post now would borrow or wake it).</summary>
    internal bool IsParked => Volatile.Read(ref _parked) != 0;

    /// <summary>Datagrams the kernel refused to send (for tests and diagnostics).</summary>
    internal long DatagramsRefused => Socket.DatagramsRefused;

    /// <summary>Receive calls that found the socket empty (for tests and diagnostics).</summary>
    internal long EmptyReceives
    {
        get
        {
            lock (_turn)
            {
                return Socket.EmptyReceives;
            }
        }
    }

    /// <summary>Connections the loop still tracks (for tests: a racy read of the loop's list, fine for polling).</summary>
    internal int ConnectionCountForTests => _connections.Count;

    /// <summary>Wakes a parked loop for one turn with nothing to do (for tests).</summary>
    internal void WakeIdle() => Wake();

    /// <summary>Starts holding this thread's posts to this endpoint back, until the matching <see cref="EndBatch"/>.</summary>
    /// <returns>Whether the batch counts: false inside another endpoint's batch, where this endpoint's posts go at once.</returns>
    internal bool BeginBatch()
    {
        if (t_batch is null)
        {
            t_batch = this;
            t_batchDepth = 1;
            return true;
        }
        if (t_batch == this)
        {
            t_batchDepth++;
            return true;
        }
        return false;
    }

    /// <summary>Ends a batch; the outermost end queues what was held, in order, and lets one turn run it.</summary>
    internal void EndBatch()
    {
        if (t_batch != this || --t_batchDepth > 0)
        {
            return;
        }
        t_batch = null;
        List<Action>? held = t_batchWork;
        if (held is null || held.Count == 0)
        {
            return;
        }
        foreach (Action work in held)
        {
            _work.Enqueue(work);
        }
        held.Clear();
        AfterEnqueue();
    }

    private unsafe void Wake()
    {
        if (Interlocked.Exchange(ref _parked, 0) == 0)
        {
            return;
        }
        Interlocked.Increment(ref _wakes);
        bool added = false;
        try
        {
            _eventFd.DangerousAddRef(ref added);
            ulong one = 1;
            libc.write((int)_eventFd.DangerousGetHandle(), &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // The loop is gone; Post drains the work itself.
        }
        finally
        {
            if (added)
            {
                _eventFd.DangerousRelease();
            }
        }
    }
}
