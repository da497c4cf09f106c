using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace TensorProtocol.Node;

/// <summary>
/// Turns the bytes of one transfer into <see cref="TransferProgress"/> reports at a bounded rate: the first one, then
/// at most one per interval, then the completing one. Only <see cref="Complete"/> reports every byte, so a report
/// with <see cref="TransferProgress.IsComplete"/> means the transfer succeeded (a push's bytes can all be acknowledged
/// before the receiver has answered). Callers are thread-pool continuations (never the QUIC loop);
/// a lock keeps reports in order when a send's acknowledgements and its final answer race. An exception thrown by
/// the sink stops the reports and is rethrown by <see cref="Complete"/>, so it reaches the transfer's caller instead
/// of vanishing in a background continuation.
/// </summary>
internal sealed class ProgressReporter
{
    private readonly IProgress<TransferProgress> _progress;
    private readonly long _total;
    private readonly long _start;
    private readonly long _intervalTicks;
    private readonly object _lock = new();
    private long _done;
    private long _lastReport;
    private long _lastReported = -1;
    private bool _finished;
    private ExceptionDispatchInfo? _failure;

    private ProgressReporter(IProgress<TransferProgress> progress, long total, long start, TimeSpan interval)
    {
        _progress = progress;
        _total = total;
        _start = start;
        _intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>
    /// A reporter that reports at once (0 of <paramref name="total"/>, unless there is nothing to transfer); null
    /// without a progress sink.
    /// </summary>
    internal static ProgressReporter? Start(IProgress<TransferProgress>? progress, long total, long startTimestamp, TimeSpan interval)
    {
        if (progress is null)
        {
            return null;
        }
        var reporter = new ProgressReporter(progress, total, startTimestamp, interval);
        if (total > 0)
        {
            reporter.Report(Stopwatch.GetTimestamp());
        }
        return reporter;
    }

    /// <summary><paramref name="bytes"/> more are done; reports if the interval has passed since the last report.</summary>
    internal void Advance(long bytes)
    {
        lock (_lock)
        {
            if (_finished)
            {
                return;
            }
            _done = Math.Min(_total, _done + bytes);
            long now = Stopwatch.GetTimestamp();
            if (_done < _total && now - _lastReport >= _intervalTicks)
            {
                Report(now);
            }
        }
    }

    /// <summary>
    /// The transfer starts over (a dead pooled connection is redialed once): counting restarts from 0, but nothing is
    /// reported until the count passes what was reported already, so reports never go backwards.
    /// </summary>
    internal void Restart()
    {
        lock (_lock)
        {
            _done = 0;
        }
    }

    /// <summary>
    /// Everything is done: reports the total (unless just reported) and ignores later advances. Throws what the sink
    /// threw, if it did.
    /// </summary>
    internal void Complete()
    {
        lock (_lock)
        {
            if (!_finished)
            {
                _done = _total;
                Report(Stopwatch.GetTimestamp());
                _finished = true;
            }
        }
        _failure?.Throw();
    }

    private void Report(long now)
    {
        if (_done <= _lastReported || _failure is not null)
        {
            return;
        }
        _lastReport = now;
        _lastReported = _done;
        try
        {
            _progress.Report(new TransferProgress(_done, _total, Stopwatch.GetElapsedTime(_start, now)));
        }
#pragma warning disable CA1031 // Whatever the sink throws goes to the transfer's caller, through Complete.
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
#pragma warning restore CA1031
    }
}
