using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Internal;

namespace TensorProtocol;

/// <summary>
/// A tensor: its <see cref="TensorMetadata"/> and its payload, the elements in C order, little-endian. The payload
/// is not copied: a tensor built from an array, memory or a pointer refers to it, so the caller must not change that
/// memory while the tensor is in use (for example while it is being sent).
/// </summary>
/// <remarks>
/// <para>
/// The payload is a <see cref="ReadOnlySequence{T}"/> (<see cref="PayloadSequence"/>) of one or more segments, so a
/// tensor may exceed 2 GiB. Tensors up to 2 GiB in one piece — everything built from an array or memory, every
/// received tensor up to 2 GiB, every tensor of a file up to 2 GiB — also offer it as one
/// <see cref="ReadOnlyMemory{T}"/> (<see cref="Payload"/>) and as spans (<see cref="AsSpan{T}"/>).
/// </para>
/// <para>
/// Received tensors above 2 GiB live in native memory that this tensor owns: <see cref="Dispose"/> returns it to the
/// system at once (a forgotten tensor's memory is released by a finalizer). Keep the tensor reachable while a span
/// of its payload is in use.
/// </para>
/// </remarks>
public sealed partial class TensorData : IDisposable
{
    private readonly ReadOnlySequence<byte> _payload;
    private readonly NativeRegion? _region;
    private readonly bool _ownsRegion;
    private bool _disposed;

    /// <summary>Pairs metadata with a payload of exactly <see cref="TensorMetadata.ByteLength"/> bytes.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="ArgumentException">The payload length differs from what the metadata describes.</exception>
    public TensorData(TensorMetadata metadata, ReadOnlyMemory<byte> payload)
        : this(metadata, new ReadOnlySequence<byte>(payload), region: null, ownsRegion: false)
    {
    }

    /// <summary>
    /// Pairs metadata with a payload in segments (without copying them), for tensors above 2 GiB or held in pieces.
    /// The segments may end anywhere, even inside an element.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="ArgumentException">The payload length differs from what the metadata describes.</exception>
    public TensorData(TensorMetadata metadata, ReadOnlySequence<byte> payload)
        : this(metadata, payload, region: null, ownsRegion: false)
    {
    }

    internal TensorData(TensorMetadata metadata, ReadOnlySequence<byte> payload, NativeRegion? region, bool ownsRegion)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        CheckLength(metadata, payload.Length, nameof(payload));
        Metadata = metadata;
        _payload = payload;
        _region = region;
        _ownsRegion = ownsRegion;
    }

    /// <summary>The element type, shape and the rest of the description.</summary>
    public TensorMetadata Metadata { get; }

    /// <summary>The size of the payload in bytes (<see cref="TensorMetadata.ByteLength"/>).</summary>
    public long ByteLength => Metadata.ByteLength;

    /// <summary>
    /// The elements in C order, little-endian, as one block of memory: available when the payload is in one
    /// segment, which every tensor up to 2 GiB built from an array or memory, received, or read from a file is.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The payload is in several segments (always so above 2 GiB, which no <see cref="ReadOnlyMemory{T}"/> can
    /// hold): read it through <see cref="PayloadSequence"/>.
    /// </exception>
    public ReadOnlyMemory<byte> Payload => _payload.IsSingleSegment ? _payload.First : throw NotOneSegment();

    /// <summary>The elements in C order, little-endian, in one or more segments; exactly <see cref="ByteLength"/> bytes.</summary>
    public ReadOnlySequence<byte> PayloadSequence => _payload;

    /// <summary>Shorthand for <c>Metadata.DType</c>.</summary>
    public DType DType => Metadata.DType;

    /// <summary>Shorthand for <c>Metadata.Shape</c>.</summary>
    public ImmutableArray<long> Shape => Metadata.Shape;

    /// <summary>
    /// Builds a tensor over segments without copying them (see
    /// <see cref="TensorData(TensorMetadata, ReadOnlySequence{byte})"/>); empty segments are skipped.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> or <paramref name="segments"/> is null.</exception>
    /// <exception cref="ArgumentException">The segments' total length (computed with overflow checks) differs from what the metadata describes.</exception>
    public static TensorData FromSegments(TensorMetadata metadata, IEnumerable<ReadOnlyMemory<byte>> segments)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(segments);
        return new TensorData(metadata, PayloadSegments.FromSegments(segments, nameof(segments)));
    }

    /// <summary>
    /// Builds a tensor over native memory the caller owns — for example a numpy array's or a torch tensor's buffer —
    /// without copying it; any size, also above 2 GiB. The memory must stay valid and unchanged until
    /// <paramref name="owner"/> is disposed, which happens once this tensor is disposed (or, if it is forgotten,
    /// finalized) and no send in flight still reads the memory: a send that has returned may still retransmit.
    /// </summary>
    /// <param name="metadata">The tensor's description; its <see cref="TensorMetadata.ByteLength"/> must equal <paramref name="length"/>.</param>
    /// <param name="address">The first byte; may be 0 only when <paramref name="length"/> is 0.</param>
    /// <param name="length">The number of bytes.</param>
    /// <param name="owner">
    /// Disposed exactly once when the memory may be released (possibly on the finalizer thread; it must not throw).
    /// Null when the memory outlives the tensor and every transfer of it.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null, or <paramref name="address"/> is 0 for a non-empty tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative, or the range wraps around the address space.</exception>
    /// <exception cref="ArgumentException"><paramref name="length"/> differs from what the metadata describes.</exception>
    /// <remarks>On an exception the owner is not disposed: the memory is still the caller's.</remarks>
    public static unsafe TensorData FromNativeMemory(TensorMetadata metadata, nint address, long length, IDisposable? owner)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        CheckLength(metadata, length, nameof(length));
        if (address == 0 && length > 0)
        {
            throw new ArgumentNullException(nameof(address), "The address is 0 but the tensor has bytes.");
        }
        if ((ulong)address > ulong.MaxValue - (ulong)length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"{length} bytes from address 0x{address:x} wrap around the address space.");
        }
        var memory = new ExternalMemory(address, owner);
        ReadOnlySequence<byte> payload = PayloadSegments.OverNative(memory, (byte*)address, length);
        return new TensorData(metadata, payload, new NativeRegion(memory, address), ownsRegion: true);
    }

    /// <summary>
    /// Wraps an array as a one-dimensional tensor without copying it. The element type follows from
    /// <typeparamref name="T"/>: <c>float</c> is <see cref="DType.F32"/>, <see cref="Half"/> is
    /// <see cref="DType.F16"/>, <c>bool</c> is <see cref="DType.BOOL"/>, and so on.
    /// </summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not a tensor element type, or the array is larger than 2 GiB.</exception>
    public static TensorData FromArray<T>(T[] values)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromMemory<T>(values, [values.LongLength]);
    }

    /// <summary>Wraps an array as a tensor of the given shape without copying it.</summary>
    /// <exception cref="ArgumentException">
    /// <typeparamref name="T"/> is not a tensor element type, the shape does not describe exactly the array's
    /// elements, or the array is larger than 2 GiB.
    /// </exception>
    public static TensorData FromArray<T>(T[] values, ReadOnlySpan<long> shape, bool requiresGrad = false, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(values);
        return FromMemory<T>(values, shape, requiresGrad, metadata);
    }

    /// <summary>
    /// Wraps memory (an array slice, or memory from a <see cref="MemoryManager{T}"/>) as a tensor of the given shape
    /// without copying it.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <typeparamref name="T"/> is not a tensor element type, the shape does not describe exactly the elements, or
    /// they take more than 2 GiB (build larger tensors with <see cref="FromSegments"/> or <see cref="FromNativeMemory"/>).
    /// </exception>
    public static TensorData FromMemory<T>(ReadOnlyMemory<T> values, ReadOnlySpan<long> shape, bool requiresGrad = false, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged
    {
        DType dtype = ElementType<T>.Require(nameof(values));
        var description = new TensorMetadata(dtype, shape, requiresGrad, metadata);
        CheckElementCount(description, values.Length, nameof(values));
        ReadOnlyMemory<byte> payload = typeof(T) == typeof(byte)
            ? Unsafe.As<ReadOnlyMemory<T>, ReadOnlyMemory<byte>>(ref values)
            : new ByteMemoryManager<T>(values).Memory;
        return new TensorData(description, payload);
    }

    /// <summary>Copies elements into a new tensor of the given shape (a span cannot be kept, so this copies).</summary>
    /// <exception cref="ArgumentException">
    /// <typeparamref name="T"/> is not a tensor element type, the shape does not describe exactly the elements, or
    /// they take more than 2 GiB.
    /// </exception>
    public static TensorData FromSpan<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape, bool requiresGrad = false, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged
    {
        DType dtype = ElementType<T>.Require(nameof(values));
        var description = new TensorMetadata(dtype, shape, requiresGrad, metadata);
        CheckElementCount(description, values.Length, nameof(values));
        return new TensorData(description, MemoryMarshal.AsBytes(values).ToArray());
    }

    /// <summary>
    /// The payload as elements of <typeparamref name="T"/>, without copying. <typeparamref name="T"/> must be the
    /// .NET type of the element type (<c>float</c> for <see cref="DType.F32"/>, <see cref="Half"/> for
    /// <see cref="DType.F16"/>, ...); types without one (<see cref="DType.BF16"/>, the 8-bit floats,
    /// <see cref="DType.C64"/>) are read through <see cref="Payload"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// <typeparamref name="T"/> does not match the element type; the payload is in several segments (see
    /// <see cref="Payload"/>); the payload is not aligned for <typeparamref name="T"/> (use <see cref="ToArray{T}"/>,
    /// which copies); or a <see cref="DType.BOOL"/> payload holds a byte other than 0 or 1.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The tensor's native memory was released.</exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        CheckElementType<T>();
        ReadOnlySpan<byte> bytes = Payload.Span;
        CheckBooleans<T>();
        // Received payloads sit wherever the transport put them. Unaligned access works on x64 and arm64, but the
        // runtime does not promise it for every instruction the JIT may pick, so a misaligned view is refused.
        if (!bytes.IsEmpty && !IsAligned(bytes, ElementType<T>.Alignment))
        {
            throw new InvalidOperationException(
                $"The payload is not aligned to {ElementType<T>.Alignment} bytes, as a span of {typeof(T).Name} needs; ToArray<{typeof(T).Name}>() copies it instead.");
        }
        return MemoryMarshal.Cast<byte, T>(bytes);
    }

    /// <summary>Copies the payload, in any number of segments, into a new array of <typeparamref name="T"/>; works at any alignment.</summary>
    /// <exception cref="InvalidOperationException">
    /// As for <see cref="AsSpan{T}"/>, except alignment and segments; or there are more elements than an array can hold.
    /// </exception>
    public unsafe T[] ToArray<T>()
        where T : unmanaged
    {
        CheckElementType<T>();
        CheckBooleans<T>();
        if (Metadata.ElementCount > Array.MaxLength)
        {
            throw new InvalidOperationException(
                $"The tensor has {Metadata.ElementCount} elements, more than an array holds ({Array.MaxLength}); read it through {nameof(PayloadSequence)}.");
        }
        T[] values = GC.AllocateUninitializedArray<T>((int)Metadata.ElementCount);
        fixed (T* start = values)
        {
            // Segments may end inside an element, so copy bytes; each segment is at most 2 GiB, as a span allows.
            byte* destination = (byte*)start;
            foreach (ReadOnlyMemory<byte> segment in _payload)
            {
                segment.Span.CopyTo(new Span<byte>(destination, segment.Length));
                destination += segment.Length;
            }
        }
        return values;
    }

    /// <summary>
    /// Releases native memory this tensor owns: a received payload above 2 GiB, or the memory given to
    /// <see cref="FromNativeMemory"/> (its owner is disposed). A send still in flight keeps the memory until it no
    /// longer reads it. Tensors over arrays or a file reader's mapping own nothing: for them this does nothing.
    /// Afterwards the payload must not be used; once its memory is released, reading it throws
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (_ownsRegion)
        {
            Volatile.Write(ref _disposed, true);
            _region!.Handle.Dispose();
        }
    }

    /// <summary>
    /// Keeps the native memory under the payload (owned, or a file reader's mapping) alive for a whole transfer, even
    /// if the tensor or reader is disposed meanwhile: the transport's pins hold it only chunk by chunk, and between
    /// two chunks none may be held. Null for managed memory, which the GC keeps alive.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The memory is already released.</exception>
    internal IDisposable? KeepMemoryAlive() => _region is null ? null : new MemoryLease(_region.Handle);

    /// <summary>Whether the payload lies in native memory (owned, or a reader's mapping) rather than managed memory.</summary>
    internal bool HasNativeMemory => _region is not null;

    /// <summary>Whether the tensor was disposed, or the native memory under it (a reader's mapping) is gone.</summary>
    internal bool IsReleased => Volatile.Read(ref _disposed) || (_region?.Handle.IsClosed ?? false);

    /// <summary>Refuses an owning tensor that was disposed, before any work starts with it.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);

    /// <summary>A short description such as <c>F32[2, 3]</c>.</summary>
    public override string ToString() => Metadata.ToString();

    private void CheckElementType<T>()
        where T : unmanaged
    {
        if (ElementType<T>.DType != Metadata.DType)
        {
            throw new InvalidOperationException(
                $"The tensor holds {Metadata.DType} elements, which cannot be read as {typeof(T).Name}" +
                (ElementType<T>.DType is { } other ? $" ({other})." : "."));
        }
    }

    // Any bit pattern is a valid float or integer, but a .NET bool must be 0 or 1: other values break comparisons.
    private void CheckBooleans<T>()
        where T : unmanaged
    {
        if (typeof(T) != typeof(bool))
        {
            return;
        }
        long offset = 0;
        foreach (ReadOnlyMemory<byte> segment in _payload)
        {
            ReadOnlySpan<byte> bytes = segment.Span;
            int bad = bytes.IndexOfAnyExcept((byte)0, (byte)1);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"Byte {offset + bad} of the BOOL payload is {bytes[bad]}; BOOL elements must be 0 or 1.");
            }
            offset += bytes.Length;
        }
    }

    private InvalidOperationException NotOneSegment()
    {
        int segments = 0;
        foreach (ReadOnlyMemory<byte> _ in _payload)
        {
            segments++;
        }
        string why = ByteLength > int.MaxValue
            ? $"{ByteLength} bytes, more than one ReadOnlyMemory<byte> holds (2 GiB), in {segments} segments"
            : $"{ByteLength} bytes in {segments} segments";
        return new InvalidOperationException(
            $"The payload has {why}: read it through {nameof(PayloadSequence)}, or copy it with ToArray<T>() or view it with AsTensorSpan<T>() where they apply.");
    }

    // Objects move, but only by multiples of 8 bytes on 64-bit runtimes, so the answer stays true after a GC.
    private static unsafe bool IsAligned(ReadOnlySpan<byte> bytes, int alignment) =>
        (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes)) % (nuint)alignment == 0;

    private static void CheckLength(TensorMetadata metadata, long length, string paramName)
    {
        if (length != metadata.ByteLength)
        {
            throw new ArgumentException(
                $"The payload has {length} bytes but a tensor of dtype {metadata.DType} and shape " +
                $"{TensorMetadata.FormatShape(metadata.Shape.AsSpan())} needs {metadata.ByteLength} " +
                $"({metadata.ElementCount} elements × {metadata.DType.ElementSize} bytes).",
                paramName);
        }
    }

    private static void CheckElementCount(TensorMetadata metadata, int count, string paramName)
    {
        if (metadata.ElementCount != count)
        {
            throw new ArgumentException(
                $"The shape {TensorMetadata.FormatShape(metadata.Shape.AsSpan())} has {metadata.ElementCount} elements but {count} were given.",
                paramName);
        }
        if (metadata.ByteLength > int.MaxValue)
        {
            throw new ArgumentException(
                $"{metadata.ByteLength} bytes of {metadata.DType} elements do not fit in one ReadOnlyMemory<byte> (at most {int.MaxValue} bytes); " +
                $"use {nameof(FromSegments)} or {nameof(FromNativeMemory)}.",
                paramName);
        }
    }
}
