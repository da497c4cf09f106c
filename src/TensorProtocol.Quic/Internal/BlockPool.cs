namespace TensorProtocol.Quic.Internal;

/// <summary>
/// Blocks for <see cref="ReceiveBuffer"/>, in sizes from 4 KiB to 64 KiB: rented by the endpoint's loop thread as data
/// arrives, returned by whichever thread reads them out (the loop, or a reader taking already-buffered bytes on its
/// own thread), hence the lock — uncontended in practice. Unlike ArrayPool.Shared, whose per-thread and per-core caches
/// are small, it keeps enough blocks for a few full stream windows, so steady-state receiving allocates nothing.
/// Small sizes exist for streams that hold little: a peer can open hundreds of streams with a byte on each, and a
/// 64 KiB block apiece would turn a few kilobytes of its traffic into megabytes of ours.
/// </summary>
internal sealed class BlockPool
{
    internal const int BlockSize = 64 * 1024;
    internal const int SmallestBlockSize = 4 * 1024;
    private const int SizeClasses = 5; // 4, 8, 16, 32, 64 KiB

    private readonly Stack<byte[]>[] _free = new Stack<byte[]>[SizeClasses];
    private readonly int[] _maxFree = new int[SizeClasses];
    private readonly Lock _lock = new();

    /// <param name="maxFreeBytes">How much the largest blocks kept for reuse may hold; smaller sizes keep an eighth of it each.</param>
    internal BlockPool(int maxFreeBytes)
    {
        for (int i = 0; i < SizeClasses; i++)
        {
            _free[i] = new Stack<byte[]>();
            int budget = i == SizeClasses - 1 ? maxFreeBytes : maxFreeBytes / 8;
            _maxFree[i] = Math.Max(1, budget / (SmallestBlockSize << i));
        }
    }

    /// <summary>A 64 KiB block.</summary>
    internal byte[] Rent() => Rent(BlockSize);

    /// <summary>The smallest block of at least <paramref name="minimum"/> bytes (4 KiB at least, 64 KiB at most).</summary>
    internal byte[] Rent(int minimum)
    {
        int index = ClassOf(minimum);
        lock (_lock)
        {
            if (_free[index].TryPop(out byte[]? block))
            {
                return block;
            }
        }
        return GC.AllocateUninitializedArray<byte>(SmallestBlockSize << index);
    }

    internal void Return(byte[] block)
    {
        int index = ClassOf(block.Length);
        if ((SmallestBlockSize << index) != block.Length)
        {
            return; // not one of ours
        }
        lock (_lock)
        {
            if (_free[index].Count < _maxFree[index])
            {
                _free[index].Push(block);
            }
        }
    }

    private static int ClassOf(int size)
    {
        int index = 0;
        while (index < SizeClasses - 1 && (SmallestBlockSize << index) < size)
        {
            index++;
        }
        return index;
    }
}
