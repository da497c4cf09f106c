using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Internal;

namespace TensorProtocol;

/// <summary>
/// A tensor: its <see cref="TensorMetadata"/> and its payload, the elements in C order, little-endian. The payload
/// is not copied: a tensor built from an array or memory refers to it, so the caller must not change that memory
/// while the tensor is in use (for example while it is being sent).
/// </summary>
/// <remarks>
/// The payload is one <see cref="ReadOnlyMemory{T}"/>, so a <see cref="TensorData"/> holds at most
/// <see cref="int.MaxValue"/> bytes. The wire protocol itself allows larger tensors.
/// </remarks>
public sealed class TensorData
{
    /// <summary>Pairs metadata with a payload of exactly <see cref="TensorMetadata.ByteLength"/> bytes.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="ArgumentException">The payload length differs from what the metadata describes.</exception>
    public TensorData(TensorMetadata metadata, ReadOnlyMemory<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (payload.Length != metadata.ByteLength)
        {
            string limit = metadata.ByteLength > int.MaxValue
                ? $" A TensorData holds at most {int.MaxValue} bytes."
                : "";
            throw new ArgumentException(
                $"The payload has {payload.Length} bytes but a tensor of dtype {metadata.DType} and shape " +
                $"{TensorMetadata.FormatShape(metadata.Shape.AsSpan())} needs {metadata.ByteLength} " +
                $"({metadata.ElementCount} elements × {metadata.DType.ElementSize} bytes).{limit}",
                nameof(payload));
        }
        Metadata = metadata;
        Payload = payload;
    }

    /// <summary>The element type, shape and the rest of the description.</summary>
    public TensorMetadata Metadata { get; }

    /// <summary>The elements in C order, little-endian; exactly <see cref="TensorMetadata.ByteLength"/> bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Shorthand for <c>Metadata.DType</c>.</summary>
    public DType DType => Metadata.DType;

    /// <summary>Shorthand for <c>Metadata.Shape</c>.</summary>
    public ImmutableArray<long> Shape => Metadata.Shape;

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
    /// Wraps memory (an array slice, or memory from a <see cref="System.Buffers.MemoryManager{T}"/>) as a tensor of
    /// the given shape without copying it.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// <typeparamref name="T"/> is not a tensor element type, the shape does not describe exactly the elements, or
    /// they take more than 2 GiB.
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
    /// <typeparamref name="T"/> does not match the element type; the payload is not aligned for
    /// <typeparamref name="T"/> (use <see cref="ToArray{T}"/>, which copies); or a <see cref="DType.BOOL"/> payload
    /// holds a byte other than 0 or 1.
    /// </exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = CheckedBytes<T>();
        // Received payloads sit wherever the transport put them. Unaligned access works on x64 and arm64, but the
        // runtime does not promise it for every instruction the JIT may pick, so a misaligned view is refused.
        if (!bytes.IsEmpty && !IsAligned(bytes, ElementType<T>.Alignment))
        {
            throw new InvalidOperationException(
                $"The payload is not aligned to {ElementType<T>.Alignment} bytes, as a span of {typeof(T).Name} needs; ToArray<{typeof(T).Name}>() copies it instead.");
        }
        return MemoryMarshal.Cast<byte, T>(bytes);
    }

    /// <summary>Copies the payload into a new array of <typeparamref name="T"/>; works at any alignment.</summary>
    /// <exception cref="InvalidOperationException">As for <see cref="AsSpan{T}"/>, except alignment.</exception>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = CheckedBytes<T>();
        var values = new T[Metadata.ElementCount];
        bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    /// <summary>A short description such as <c>F32[2, 3]</c>.</summary>
    public override string ToString() => Metadata.ToString();

    private ReadOnlySpan<byte> CheckedBytes<T>()
        where T : unmanaged
    {
        if (ElementType<T>.DType != Metadata.DType)
        {
            throw new InvalidOperationException(
                $"The tensor holds {Metadata.DType} elements, which cannot be read as {typeof(T).Name}" +
                (ElementType<T>.DType is { } other ? $" ({other})." : "."));
        }
        ReadOnlySpan<byte> bytes = Payload.Span;
        // Any bit pattern is a valid float or integer, but a .NET bool must be 0 or 1: other values break comparisons.
        if (typeof(T) == typeof(bool))
        {
            int bad = bytes.IndexOfAnyExcept((byte)0, (byte)1);
            if (bad >= 0)
            {
                throw new InvalidOperationException($"Byte {bad} of the BOOL payload is {bytes[bad]}; BOOL elements must be 0 or 1.");
            }
        }
        return bytes;
    }

    // Objects move, but only by multiples of 8 bytes on 64-bit runtimes, so the answer stays true after a GC.
    private static unsafe bool IsAligned(ReadOnlySpan<byte> bytes, int alignment) =>
        (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes)) % (nuint)alignment == 0;

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
                $"{metadata.ByteLength} bytes of {metadata.DType} elements do not fit in one ReadOnlyMemory<byte> (at most {int.MaxValue} bytes).",
                paramName);
        }
    }
}
