using System.Threading.Channels;

namespace TensorProtocol.Node;

/// <summary>
/// The node's bounded receive queue. A push first reserves a place and its payload bytes (count and memory budget)
/// before anything is allocated; the reservation is released when the application takes the tensor out.
/// </summary>
internal sealed class ReceiveQueue
{
    private readonly Channel<ReceivedTensor> _channel = Channel.CreateUnbounded<ReceivedTensor>(new UnboundedChannelOptions { SingleReader = false });
    private readonly object _lock = new();
    private readonly int _capacity;
    private readonly long _budget;
    private int _count;
    private volatile bool _completed;
    private long _bytes;
    private TaskCompletionSource _spaceFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstWait = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ReceiveQueue(int capacity, long budget)
    {
        _capacity = capacity;
        _budget = budget;
    }

    internal int Count => _channel.Reader.Count;

    /// <summary>Completes when a push first waits for room (tests use it to know one is waiting).</summary>
    internal Task FirstWait => _firstWait.Task;

    /// <summary>Whether <see cref="Complete"/> was called: nothing more is reserved or queued.</summary>
    internal bool IsCompleted => _completed;

    /// <summary>
    /// Reserves room for one tensor of <paramref name="bytes"/> bytes; false when the queue or budget is full, or the
    /// queue is completed.
    /// </summary>
    internal bool TryReserve(long bytes)
    {
        lock (_lock)
        {
            if (_completed || _count + 1 > _capacity || _bytes + bytes > _budget)
            {
                return false;
            }
            _count++;
            _bytes += bytes;
            return true;
        }
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) for room; false if none came, or the queue was completed.</summary>
    internal async ValueTask<bool> ReserveAsync(long bytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (bytes > _budget)
        {
            return false; // would never fit
        }
        using var timer = new CancellationTokenSource();
        timer.CancelAfterOrNever(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        while (true)
        {
            Task freed;
            lock (_lock)
            {
                if (_completed)
                {
                    return false;
                }
                if (_count + 1 <= _capacity && _bytes + bytes <= _budget)
                {
                    _count++;
                    _bytes += bytes;
                    return true;
                }
                freed = _spaceFreed.Task;
            }
            _firstWait.TrySetResult();
            try
            {
                await freed.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    internal void Release(long bytes)
    {
        TaskCompletionSource freed;
        lock (_lock)
        {
            _count--;
            _bytes -= bytes;
            freed = _spaceFreed;
            _spaceFreed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        freed.TrySetResult();
    }

    /// <summary>Adds a tensor whose room was reserved.</summary>
    internal bool Enqueue(ReceivedTensor tensor) => _channel.Writer.TryWrite(tensor);

    internal bool TryDequeue(out ReceivedTensor? tensor)
    {
        if (_channel.Reader.TryRead(out tensor))
        {
            Release(tensor.Data.ByteLength);
            return true;
        }
        return false;
    }

    internal async ValueTask<ReceivedTensor> DequeueAsync(CancellationToken cancellationToken)
    {
        ReceivedTensor tensor = await _channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        Release(tensor.Data.ByteLength);
        return tensor;
    }

    internal async IAsyncEnumerable<ReceivedTensor> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The token is checked before every tensor, not only when the queue runs empty: a peer that keeps pushing must
        // not keep a cancelled consumer going. Checked before the dequeue, so a cancellation never drops a tensor.
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryDequeue(out ReceivedTensor? tensor))
            {
                yield return tensor!;
            }
            else if (!await _channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                yield break;
            }
        }
    }

    /// <summary>No more tensors will come: pushes waiting for room stop waiting; readers drain what is queued, then end.</summary>
    internal void Complete()
    {
        TaskCompletionSource waiting;
        lock (_lock)
        {
            _completed = true;
            waiting = _spaceFreed;
        }
        _channel.Writer.TryComplete();
        waiting.TrySetResult();
    }
}
