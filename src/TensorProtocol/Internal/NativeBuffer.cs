using System.Runtime.InteropServices;
using TensorProtocol.Interop;

namespace TensorProtocol.Internal;

/// <summary>
/// Anonymous private memory from <c>mmap</c>, for payloads too large for one array. The kernel commits pages only as
/// they are first written, and <c>munmap</c> gives them back at once when the last user lets go: the owning tensor's
/// <see cref="TensorData.Dispose"/>, or this handle's finalizer when a tensor is forgotten. Each pin taken by a write
/// in flight holds a reference (<see cref="SafeHandle.DangerousAddRef"/>), so disposing during a send defers the
/// unmapping until the transport no longer reads the memory.
/// </summary>
internal sealed unsafe class NativeBuffer : SafeHandle
{
    private static long s_liveBytes;

    private NativeBuffer(nint address, long length)
        : base(0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
        Interlocked.Add(ref s_liveBytes, length);
    }

    /// <summary>The size of the mapping in bytes.</summary>
    public long Length { get; }

    /// <summary>The first byte (page-aligned).</summary>
    public byte* Pointer => (byte*)handle;

    public override bool IsInvalid => handle == 0;

    /// <summary>Bytes mapped by buffers not yet released, process-wide; for tests and diagnostics.</summary>
    internal static long LiveBytes => Volatile.Read(ref s_liveBytes);

    /// <summary>Maps <paramref name="length"/> bytes of zero-filled, not yet committed memory.</summary>
    /// <exception cref="InsufficientMemoryException">The system refused the mapping.</exception>
    public static NativeBuffer Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        nint address = mman.mmap(0, (nuint)length, mman.PROT_READ | mman.PROT_WRITE, mman.MAP_PRIVATE | mman.MAP_ANONYMOUS, -1, 0);
        if (address == mman.MAP_FAILED)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new InsufficientMemoryException($"Mapping {length} bytes for a tensor payload failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
        return new NativeBuffer(address, length);
    }

    protected override bool ReleaseHandle()
    {
        // munmap of a range we mapped fails only for arguments we never pass; the finalizer must not throw either way.
        bool unmapped = mman.munmap(handle, (nuint)Length) == 0;
        Interlocked.Add(ref s_liveBytes, -Length);
        return unmapped;
    }
}
