using System.Threading.Tasks.Sources;

namespace TensorProtocol.Quic.Internal;

/// <summary>
/// A small resettable <see cref="IValueTaskSource{TResult}"/> completed by the loop thread. Continuations always run
/// asynchronously, so user code never runs on the loop.
/// </summary>
internal sealed class CompletionSource<T> : IValueTaskSource<T>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };
    private int _completed;

    internal ValueTask<T> ValueTask => new(this, _core.Version);

    internal ValueTask AsValueTask => new(this, _core.Version);

    internal short Version => _core.Version;

    internal bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Readies the source for another operation; only once the previous result was consumed.</summary>
    internal void Reset()
    {
        _core.Reset();
        Volatile.Write(ref _completed, 0);
    }

    internal bool TrySetResult(T result)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }
        _core.SetResult(result);
        return true;
    }

    internal bool TrySetException(Exception error)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }
        _core.SetException(error);
        return true;
    }

    public T GetResult(short token) => _core.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
