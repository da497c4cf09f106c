namespace TensorProtocol.Native;

/// <summary>
/// The owner given to <see cref="TensorData.FromNativeMemory"/> for a caller's memory: the node disposes it once the
/// tensor is disposed and no send still reads the memory, and that is when the caller is told. It is armed only
/// once the operation was accepted: a call that fails returns an error code and never also releases.
/// </summary>
internal sealed class LentMemoryOwner(ReleaseTarget release) : IDisposable
{
    private int _armed;
    private int _disposed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    /// <summary>The operation was refused after all (before anyone else could see the tensor).</summary>
    public void Disarm() => Volatile.Write(ref _armed, 0);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && Volatile.Read(ref _armed) == 1)
        {
            release.Notify();
        }
    }
}
