using System.Buffers;

namespace TensorProtocol.Native;

/// <summary>
/// Memory a C caller lends for a send or a registration (<c>tp_tensor_view.data</c>), read in place. The caller's
/// <c>tp_release_fn</c> runs exactly once, when nothing can touch the memory any more: the lender's reference has
/// been returned (<see cref="Return"/>) and every pin taken by a QUIC write (which holds it until the peer
/// acknowledges the bytes) has been released. A pin asked for after that fails instead of reading freed memory.
/// </summary>
internal sealed unsafe class LentMemory : MemoryManager<byte>
{
    private readonly byte* _pointer;
    private readonly int _length;
    private readonly ReleaseTarget _release;
    private int _references = 1; // the lender's
    private int _returned;

    public LentMemory(void* pointer, int length, ReleaseTarget release)
    {
        _pointer = (byte*)pointer;
        _length = length;
        _release = release;
    }

    /// <summary>The lender's reference is no longer needed (the send ended, the registration was withdrawn). Idempotent.</summary>
    public void Return()
    {
        if (Interlocked.Exchange(ref _returned, 1) == 0)
        {
            Release();
        }
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        int references = Volatile.Read(ref _references);
        while (true)
        {
            ObjectDisposedException.ThrowIf(references == 0, this);
            int seen = Interlocked.CompareExchange(ref _references, references + 1, references);
            if (seen == references)
            {
                return new MemoryHandle(_pointer + elementIndex, pinnable: this);
            }
            references = seen;
        }
    }

    public override void Unpin() => Release();

    protected override void Dispose(bool disposing)
    {
        // The memory is the caller's: nothing to free here. Lifetime is governed by Return and the pins.
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0)
        {
            return;
        }
        _release.Notify();
    }
}
