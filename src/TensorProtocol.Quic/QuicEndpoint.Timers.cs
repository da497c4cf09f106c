namespace TensorProtocol.Quic;

// Timers without a scan of every connection per turn. Each turn used to ask every connection for its expiry (a call
// into ngtcp2 each) two or three times: 2 000 idle connections took a bulk transfer on another connection from ~1 230
// to ~790 MiB/s. Now a min-heap holds each connection's expiry, and only connections something happened to in the
// turn are asked again: any use of QuicConnection.Conn (every ngtcp2 call) and every entry into Closing/Draining
// marks the connection. Heap entries are not removed when an expiry moves; a popped entry that no longer matches the
// connection's ScheduledExpiry is stale and dropped. Everything here is loop-only.
public sealed partial class QuicEndpoint
{
    // The heap holds each connection's slot, not the connection: a released connection's stale entries, which leave only
    // when they reach the top (an old idle timeout can be IdleTimeout away), must not keep it and its buffers alive.
    private readonly PriorityQueue<TimerSlot, ulong> _timers = new();
    private readonly List<QuicConnection> _timerMoved = [];
    private readonly List<QuicConnection> _terminated = [];

    /// <summary>Closing or Draining: reaped once its Deadline passes (which the heap also wakes the loop for).</summary>
    internal void OnTerminated(QuicConnection c)
    {
        if (!c.InTerminatedList)
        {
            c.InTerminatedList = true;
            _terminated.Add(c);
        }
        MarkTimerMoved(c);
    }

    /// <summary>Has the end of the turn ask <paramref name="c"/> for its expiry again.</summary>
    internal void MarkTimerMoved(QuicConnection c)
    {
        if (!c.TimerMayHaveMoved)
        {
            c.TimerMayHaveMoved = true;
            _timerMoved.Add(c);
        }
    }

    internal sealed class TimerSlot(QuicConnection connection)
    {
        public QuicConnection? Connection = connection;
    }

    private void AddConnection(QuicConnection c)
    {
        c.ListIndex = _connections.Count;
        _connections.Add(c);
        MarkTimerMoved(c);
    }

    /// <summary>Takes a connection out of the list of all connections in O(1) (the order means nothing).</summary>
    private void RemoveFromList(QuicConnection c)
    {
        int index = c.ListIndex;
        int last = _connections.Count - 1;
        if (index < 0 || index > last || _connections[index] != c)
        {
            return;
        }
        QuicConnection moved = _connections[last];
        _connections[index] = moved;
        moved.ListIndex = index;
        _connections.RemoveAt(last);
        c.ListIndex = -1;
        if (c.TimerSlot is { } slot)
        {
            slot.Connection = null; // its heap entries are stale from now on
        }
    }

    /// <summary>Asks the connections marked since the last flush for their expiry and files the changed ones.</summary>
    private void FlushTimerChanges()
    {
        for (int i = 0; i < _timerMoved.Count; i++)
        {
            QuicConnection c = _timerMoved[i];
            ulong expiry = c.Expiry;
            c.TimerMayHaveMoved = false;
            if (expiry != c.ScheduledExpiry)
            {
                c.ScheduledExpiry = expiry;
                if (expiry != ulong.MaxValue) // never for a released connection
                {
                    _timers.Enqueue(c.TimerSlot ??= new TimerSlot(c), expiry);
                }
            }
        }
        _timerMoved.Clear();
        // Stale entries leave only when they reach the top; an expiry that keeps moving earlier leaves later ones
        // behind. Bound the heap by rebuilding it from the live expiries.
        if (_timers.Count > 4 * _connections.Count + 1024)
        {
            _timers.Clear();
            foreach (QuicConnection c in _connections)
            {
                if (c.ScheduledExpiry != ulong.MaxValue)
                {
                    _timers.Enqueue(c.TimerSlot!, c.ScheduledExpiry);
                }
            }
        }
    }

    private void RunTimers(ulong now)
    {
        FlushTimerChanges();
        while (_timers.TryPeek(out TimerSlot? slot, out ulong expiry) && expiry <= now)
        {
            _timers.Dequeue();
            if (slot.Connection is not { } c || expiry != c.ScheduledExpiry || c.IsReleased)
            {
                continue; // stale
            }
            // Consumed: the flush at the end of the turn files whatever comes next.
            c.ScheduledExpiry = ulong.MaxValue;
            MarkTimerMoved(c);
            if (!c.IsTerminated)
            {
                c.OnExpiry(now);
            }
        }
    }

    private ulong NextExpiry()
    {
        FlushTimerChanges();
        while (_timers.TryPeek(out TimerSlot? slot, out ulong expiry))
        {
            if (slot.Connection is { } c && expiry == c.ScheduledExpiry && !c.IsReleased)
            {
                return expiry;
            }
            _timers.Dequeue();
        }
        return ulong.MaxValue;
    }

    private void Reap(ulong now)
    {
        for (int i = _terminated.Count - 1; i >= 0; i--)
        {
            QuicConnection c = _terminated[i];
            if (c.IsReleased || c.Deadline <= now)
            {
                _terminated[i] = _terminated[^1];
                _terminated.RemoveAt(_terminated.Count - 1);
                if (!c.IsReleased)
                {
                    RemoveConnection(c);
                }
            }
        }
    }
}
