using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Interop;

namespace TensorProtocol.Internal;

/// <summary>
/// The destination of one received payload, allocated once after every limit was checked: an array up to
/// <see cref="Array.MaxLength"/> bytes, else an anonymous mapping (<see cref="NativeBuffer"/>) that the finished tensor
/// owns. The receiver fills it chunk by chunk (<see cref="Chunk"/>), straight from the QUIC stream.
/// </summary>
/// <remarks>
/// Pages are pre-faulted a little ahead of the writer on a thread-pool thread (madvise MADV_POPULATE_WRITE, which
/// maps pages writable without touching their contents): otherwise the QUIC loop pays a first-touch page fault (a
/// zeroed 4 KiB page, slow in VMs) for every 4 KiB it writes — measured at 18.7 % of all samples for a 1 GiB push.
/// Only a bounded window ahead is populated, so memory is committed as bytes arrive, not when a header merely
/// announces them: a peer that stalls after a large header holds reserved budget, not resident memory.
/// </remarks>
internal sealed unsafe class PayloadBuffer : IDisposable
{
    /// <summary>Payloads from this size on are pre-faulted; smaller ones are not worth a thread-pool hop.</summary>
    internal const int PrefaultThreshold = 8 << 20;

    /// <summary>
    /// How far beyond the chunk being written pages are populated: enough that the populating thread, several times
    /// faster than the network, stays ahead of the writer.
    /// </summary>
    internal const long PrefaultAhead = 64 << 20;

    private readonly byte[]? _array;
    private readonly NativeBuffer? _native;
    private long _prefaultEnd;
    private Task _prefaulted = Task.CompletedTask;
    private bool _detached;

    private PayloadBuffer(long length, byte[]? array, NativeBuffer? native)
    {
        Length = length;
        _array = array;
        _native = native;
    }

    public long Length { get; }

    /// <summary>Whether the payload goes to native memory (too large for an array).</summary>
    public bool IsNative => _native is not null;

    /// <summary>Completes when the pre-faulting requested so far is done (it holds native memory until then).</summary>
    internal Task Prefaulted => _prefaulted;

    /// <summary>
    /// Allocates an uninitialized destination of <paramref name="length"/> bytes; nothing is committed yet. Native
    /// memory from <paramref name="nativeThreshold"/> bytes on (always above the largest array), from
    /// <paramref name="pool"/> when given (a reused mapping is committed already and needs no pre-faulting).
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The system refused a native mapping.</exception>
    public static PayloadBuffer Allocate(long length, long nativeThreshold = TensorNodeOptions.DefaultNativeReceiveThreshold, ReceiveBufferPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0 || (length <= Array.MaxLength && length < nativeThreshold))
        {
            // (An empty payload needs no mapping even with a threshold of 0: mmap refuses a length of 0.)
            return new PayloadBuffer(length, GC.AllocateUninitializedArray<byte>((int)length), null);
        }
        bool reused = false;
        NativeBuffer native = pool is not null ? pool.Rent(length, out reused) : NativeBuffer.Allocate(length);
        var buffer = new PayloadBuffer(length, null, native);
        if (reused)
        {
            buffer._prefaultEnd = length; // its pages are mapped already
        }
        return buffer;
    }

    /// <summary>
    /// The destination for bytes from <paramref name="offset"/>: at most <paramref name="maxLength"/> of them, and
    /// never across a 1 GiB boundary of native memory (one <see cref="Memory{T}"/> holds at most 2 GiB). Starts
    /// pre-faulting the window after it.
    /// </summary>
    public Memory<byte> Chunk(long offset, int maxLength)
    {
        int length = (int)Math.Min(maxLength, Length - offset);
        Memory<byte> chunk;
        if (_array is not null)
        {
            chunk = _array.AsMemory((int)offset, length);
        }
        else
        {
            long segmentEnd = (offset / PayloadSegments.NativeSegmentLength + 1) * PayloadSegments.NativeSegmentLength;
            length = (int)Math.Min(length, segmentEnd - offset);
            chunk = new NativeMemorySegment(_native!, _native!.Pointer + offset, length).Memory;
        }
        PrefaultThrough(Math.Min(Length, offset + length + PrefaultAhead));
        return chunk;
    }

    /// <summary>
    /// Whether every byte is 0 or 1: what a BOOL payload must hold. numpy would show other values as True, but torch
    /// leaves them undefined, so a peer's other bytes are refused rather than handed on.
    /// </summary>
    public bool HoldsOnlyBooleans()
    {
        if (_array is not null)
        {
            return _array.AsSpan(0, (int)Length).IndexOfAnyExcept((byte)0, (byte)1) < 0;
        }
        for (long offset = 0; offset < Length; offset += int.MaxValue)
        {
            int n = (int)Math.Min(int.MaxValue, Length - offset);
            if (new ReadOnlySpan<byte>(_native!.Pointer + offset, n).IndexOfAnyExcept((byte)0, (byte)1) >= 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Hands the filled buffer to a tensor, which owns it from then on (native memory is freed with it).</summary>
    public TensorData ToTensor(TensorMetadata metadata)
    {
        _detached = true;
        if (_array is not null)
        {
            return new TensorData(metadata, _array);
        }
        ReadOnlySequence<byte> payload = PayloadSegments.OverNative(_native!, _native!.Pointer, Length);
        return new TensorData(metadata, payload, new NativeRegion(_native, (nint)_native.Pointer), ownsRegion: true);
    }

    /// <summary>Frees native memory at once unless a tensor took it; an array is left to the GC.</summary>
    public void Dispose()
    {
        if (!_detached)
        {
            _native?.Discard(); // a receive that did not complete: partly faulted in, not worth keeping
        }
    }

    /// <summary>Queues population of the pages up to <paramref name="end"/> not requested yet.</summary>
    private void PrefaultThrough(long end)
    {
        if (Length < PrefaultThreshold || end <= _prefaultEnd || !OperatingSystem.IsLinux())
        {
            return;
        }
        long begin = _prefaultEnd;
        _prefaultEnd = end;
        // madvise wants page-aligned ranges. Windows meet at a rounded-down boundary, so none is left out; a page the
        // array shares with its neighbours on the heap may be populated too, which changes nothing for them. The last
        // partial page faults normally.
        long first = _array is not null ? (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array)) : (long)_native!.Pointer;
        long start = (first + begin) & ~4095L;
        long stop = (first + end) & ~4095L;
        if (stop <= start)
        {
            return;
        }
        // The native mapping is referenced until the call is done, so it cannot be unmapped under it.
        bool added = false;
        _native?.DangerousAddRef(ref added);
        // Safe to race with the writer: populating never changes data. An array is on the large object heap, which the
        // GC does not move, and the work keeps it alive. On kernels without MADV_POPULATE_WRITE the call fails and
        // changes nothing. Windows run one after another, in order: one thread zeroing pages is enough to stay ahead,
        // and two would take both cores from the loops.
        _prefaulted = _prefaulted.ContinueWith(static (previous, boxed) =>
        {
            var state = ((long Start, long Stop, byte[]? Keep, NativeBuffer? Native, bool Added))boxed!;
            _ = mman.madvise((nint)state.Start, (nuint)(state.Stop - state.Start), mman.MADV_POPULATE_WRITE);
            if (state.Added)
            {
                state.Native!.DangerousRelease();
            }
        }, (Start: start, Stop: stop, Keep: _array, Native: _native, Added: added), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }
}
