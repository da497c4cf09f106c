namespace TensorProtocol.Quic.Internal;

/// <summary>
/// 64 KiB blocks for <see cref="ReceiveBuffer"/>: rented by the endpoint's loop thread as data arrives, returned by
/// whichever thread reads them out (the loop, or a reader taking already-buffered bytes on its own thread), hence the
/// lock — uncontended in practice. Unlike ArrayPool.Shared, whose per-thread and per-core caches are small, it keeps
/// enough blocks for a few full stream windows, so steady-state receiving allocates nothing.
/// </summary>
internal sealed class BlockPool
{
    internal const int BlockSize = 64 * 1024;

    private readonly Stack<byte[]> _free = new();
    private readonly int _maxFree;

    internal BlockPool(int maxFreeBytes) => _maxFree = Math.Max(1, maxFreeBytes / BlockSize);

    private readonly Lock _lock = new();

    internal byte[] Rent()
    {
        lock (_lock)
        {
            if (_free.TryPop(out byte[]? block))
            {
                return block;
            }
        }
        return GC.AllocateUninitializedArray<byte>(BlockSize);
    }

    internal void Return(byte[] block)
    {
        lock (_lock)
        {
            if (_free.Count < _maxFree)
            {
                _free.Push(block);
            }
        }
    }
}
