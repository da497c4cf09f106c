namespace TensorProtocol.Native;

/// <summary>
/// Counts a node's operations that have yet to report and its release callbacks that have yet to run, so that
/// <c>tp_node_shutdown</c> returns only once none is left: a host that exits right after (Python at interpreter exit)
/// must not be called back from a library thread while it finalizes.
/// </summary>
internal sealed class PendingCallbacks
{
    private readonly object _gate = new();
    private int _count;

    public void Enter()
    {
        lock (_gate)
        {
            _count++;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            if (--_count == 0)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Waits until nothing is pending, at most <paramref name="timeout"/>; false if something still is.</summary>
    public bool WaitIdle(TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (_count > 0)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_gate, (int)Math.Min(left, int.MaxValue)))
                {
                    return _count == 0;
                }
            }
            return true;
        }
    }
}
