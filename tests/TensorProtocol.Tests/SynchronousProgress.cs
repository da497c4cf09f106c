namespace TensorProtocol.Tests;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its handler on the reporting thread (System.Progress posts to the thread
/// pool, which may reorder reports), so tests see exactly the reports in the order they were made.
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    private readonly object _lock = new();

    public void Report(T value)
    {
        lock (_lock)
        {
            handler(value);
        }
    }
}
