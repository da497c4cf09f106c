namespace TensorProtocol.Quic.Internal;

/// <summary>
/// 64 KiB blocks for <see cref="ReceiveBuffer"/>, recycled by the endpoint's loop thread (the only user, so no
/// locking). Unlike ArrayPool.Shared, whose per-thread and per-core caches are small, it keeps enough blocks for a
/// few full stream windows, so steady-state receiving allocates nothing.
/// </summary>
internal sealed class BlockPool
{
    internal const int BlockSize = 64 * 1024;

    private readonly Stack<byte[]> _free = new();
    private readonly int _maxFree;

    internal BlockPool(int maxFreeBytes) => _maxFree = Math.Max(1, maxFreeBytes / BlockSize);

    internal byte[] Rent() => _free.TryPop(out byte[]? block) ? block : GC.AllocateUninitializedArray<byte>(BlockSize);

    internal void Return(byte[] block)
    {
        if (_free.Count < _maxFree)
        {
            _free.Push(block);
        }
    }
}
