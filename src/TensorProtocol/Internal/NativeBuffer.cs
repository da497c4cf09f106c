using System.Runtime.InteropServices;
using TensorProtocol.Interop;

namespace TensorProtocol.Internal;

/// <summary>
/// Anonymous private memory from <c>mmap</c>, for payloads too large for one array. The kernel commits pages only as
/// they are first written, and <c>munmap</c> gives them back at once when the last user lets go: the owning tensor's
/// <see cref="TensorData.Dispose"/>, or this handle's finalizer when a tensor is forgotten. Each pin taken by a write
/// in flight holds a reference (<see cref="SafeHandle.DangerousAddRef"/>), so disposing during a send defers the
/// unmapping until the transport no longer reads the memory. A buffer rented from a node's
/// <see cref="ReceiveBufferPool"/> and disposed (not finalized, not <see cref="Discard"/>ed) goes back to it instead,
/// while the pool has room.
/// </summary>
/// <remarks>
/// The collector is told about the memory (<see cref="GC.AddMemoryPressure"/>): a program that drops large received
/// tensors without disposing them gets collections as if they were arrays, instead of native memory piling up
/// unseen until something else triggers one.
/// </remarks>
internal sealed unsafe class NativeBuffer : SafeHandle
{
    private static long s_liveBytes;

    private readonly ReceiveBufferPool? _pool;
    private volatile bool _discarded;
    private volatile bool _keep;

    private NativeBuffer(nint address, long length, ReceiveBufferPool? pool)
        : base(0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
        _pool = pool;
        Interlocked.Add(ref s_liveBytes, length);
        GC.AddMemoryPressure(length);
    }

    /// <summary>The size of the mapping in bytes.</summary>
    public long Length { get; }

    /// <summary>The first byte (page-aligned).</summary>
    public byte* Pointer => (byte*)handle;

    public override bool IsInvalid => handle == 0;

    /// <summary>Bytes mapped by buffers not yet released, process-wide; for tests and diagnostics.</summary>
    internal static long LiveBytes => Volatile.Read(ref s_liveBytes);

    /// <summary>
    /// Maps <paramref name="length"/> bytes of zero-filled, not yet committed memory; released to
    /// <paramref name="pool"/> if it takes it, else unmapped.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The system refused the mapping.</exception>
    public static NativeBuffer Allocate(long length, ReceiveBufferPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        nint address = mman.mmap(0, (nuint)length, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_PRIVATE | mman.MAP_ANONYMOUS, -1, 0);
        if (address == mman.MAP_FAILED)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new InsufficientMemoryException($"Mapping {length} bytes for a tensor payload failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
        return new NativeBuffer(address, length, pool);
    }

    /// <summary>Lets go of memory whose contents are of no further use to anyone (a receive that failed midway): unmapped, never kept.</summary>
    internal void Discard()
    {
        _discarded = true;
        Dispose();
    }

    /// <summary>
    /// Only a disposal (the owning tensor's <see cref="TensorData.Dispose"/>) may hand the memory to the pool, once the
    /// last pin is gone. The finalizer unmaps instead: whoever forgot the tensor may still hold a span into it, and a
    /// span must never come to show another tensor's bytes.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        _keep = disposing && !_discarded;
        base.Dispose(disposing);
    }

    /// <summary>Takes ownership of a mapping <paramref name="pool"/> kept (its contents are an earlier payload's).</summary>
    internal static NativeBuffer Adopt(nint address, long length, ReceiveBufferPool pool) => new(address, length, pool);

    protected override bool ReleaseHandle()
    {
        // Runs once nothing references the memory any more: no pin, no tensor. munmap of a range we mapped fails only
        // for arguments we never pass; the finalizer must not throw either way.
        Interlocked.Add(ref s_liveBytes, -Length);
        GC.RemoveMemoryPressure(Length);
        return (_keep && _pool is not null && _pool.TryRetain(handle, Length)) || mman.munmap(handle, (nuint)Length) == 0;
    }
}
