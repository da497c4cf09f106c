using System.Buffers;
using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>
/// Up to 2 GiB of native memory kept alive by a <see cref="SafeHandle"/> (a mapping or caller-owned memory) as
/// <see cref="Memory{T}"/>, so it can be sent by the transport like an array. A pin holds a reference on the handle:
/// the memory stays valid for a write in flight even if its owner is disposed meanwhile. Spans are refused once the
/// handle is closed; a span taken before must not outlive it.
/// </summary>
internal sealed unsafe class NativeMemorySegment(SafeHandle owner, byte* pointer, int length) : MemoryManager<byte>
{
    // Payloads are exposed as ReadOnlyMemory; the writable span never reaches a caller of TensorData.
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(owner.IsClosed, owner);
        return new Span<byte>(pointer, length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)length, nameof(elementIndex));
        bool added = false;
        owner.DangerousAddRef(ref added); // throws ObjectDisposedException once the owner is closed
        return new MemoryHandle(pointer + elementIndex, pinnable: this);
    }

    public override void Unpin() => owner.DangerousRelease();

    // The owner, not this view, decides when the memory goes away.
    protected override void Dispose(bool disposing)
    {
    }
}
