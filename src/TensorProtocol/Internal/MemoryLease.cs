using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>One reference on a <see cref="SafeHandle"/>, released once: the memory behind it stays until then.</summary>
internal sealed class MemoryLease : IDisposable
{
    private SafeHandle? _handle;

    /// <exception cref="ObjectDisposedException">The handle is already closed.</exception>
    public MemoryLease(SafeHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
    }

    public void Dispose() => Interlocked.Exchange(ref _handle, null)?.DangerousRelease();
}
