using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using TensorProtocol.Internal;

namespace TensorProtocol;

// Interop with System.Numerics.Tensors. Its Tensor<T> owns a managed array and has no rank 0: a scalar TensorData
// appears there as a rank-1 tensor of one element.
public sealed partial class TensorData
{
    /// <summary>
    /// Builds a tensor from a <see cref="Tensor{T}"/>. A dense tensor in C (row-major) order — what
    /// <see cref="Tensor.Create{T}(T[], ReadOnlySpan{nint})"/> and <see cref="Tensor.CreateFromShape{T}(ReadOnlySpan{nint}, bool)"/>
    /// make — is wrapped without copying: its array is sent as it is, so it must not change while the tensor is in
    /// use. Any other layout (a slice with gaps, a transposed or broadcast view) is copied in row-major order, since
    /// the wire carries C-ordered elements only.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <typeparamref name="T"/> is not a tensor element type, or a layout that needs a copy has more elements than an
    /// array holds.
    /// </exception>
    public static TensorData FromTensor<T>(Tensor<T> tensor, bool requiresGrad = false, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(tensor);
        DType dtype = ElementType<T>.Require(nameof(tensor));
        var description = new TensorMetadata(dtype, ToShape(tensor.Lengths), requiresGrad, metadata);
        if (description.ByteLength == 0)
        {
            return new TensorData(description, ReadOnlyMemory<byte>.Empty);
        }
        if (!IsRowMajorDense(tensor.Lengths, tensor.Strides))
        {
            return new TensorData(description, FlattenCopy(tensor.AsReadOnlyTensorSpan(), nameof(tensor)));
        }
        long length = description.ByteLength;
        if (length <= int.MaxValue)
        {
            return new TensorData(description, new TensorMemoryManager<T>(tensor, 0, (int)length).Memory);
        }
        // Above 2 GiB (an array of more than 2^31 bytes): 1 GiB segments, as for native memory.
        var segments = new List<ReadOnlyMemory<byte>>();
        for (long offset = 0; offset < length; offset += PayloadSegments.NativeSegmentLength)
        {
            segments.Add(new TensorMemoryManager<T>(tensor, offset, (int)Math.Min(PayloadSegments.NativeSegmentLength, length - offset)).Memory);
        }
        return FromSegments(description, segments);
    }

    /// <summary>
    /// Copies the elements of a tensor span, in row-major order, into a new tensor (a span cannot be kept, so this
    /// always copies; for a dense <see cref="Tensor{T}"/> use <see cref="FromTensor{T}"/>, which does not).
    /// </summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not a tensor element type, or there are more elements than an array holds.</exception>
    public static TensorData FromTensorSpan<T>(scoped in ReadOnlyTensorSpan<T> tensor, bool requiresGrad = false, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged
    {
        DType dtype = ElementType<T>.Require(nameof(tensor));
        var description = new TensorMetadata(dtype, ToShape(tensor.Lengths), requiresGrad, metadata);
        return new TensorData(description, description.ByteLength == 0 ? ReadOnlyMemory<byte>.Empty : FlattenCopy(tensor, nameof(tensor)));
    }

    /// <summary>
    /// The payload as a read-only tensor span of the tensor's shape, without copying — also above 2 GiB when the
    /// payload lies in one piece of memory (received tensors, <see cref="FromNativeMemory"/>, file readers). A
    /// scalar is viewed with shape [1]. The tensor must stay reachable (and undisposed) while the span is in use.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// <typeparamref name="T"/> does not match the element type; the payload is in separate pieces of memory (copy it
    /// with <see cref="ToTensor{T}"/>); it is not aligned for <typeparamref name="T"/>; or a <see cref="DType.BOOL"/>
    /// payload holds a byte other than 0 or 1.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The tensor's memory was released.</exception>
    public unsafe ReadOnlyTensorSpan<T> AsTensorSpan<T>()
        where T : unmanaged
    {
        CheckElementType<T>();
        nint[] lengths = ToLengths(Shape.AsSpan());
        if (ByteLength == 0)
        {
            // The package refuses a null reference even for no elements; an empty array is not null.
            return new ReadOnlyTensorSpan<T>(Array.Empty<T>(), lengths);
        }
        if (_payload.IsSingleSegment)
        {
            return new ReadOnlyTensorSpan<T>(AsSpan<T>(), lengths);
        }
        if (_region is null)
        {
            throw new InvalidOperationException(
                $"The payload is in {nameof(PayloadSequence)} segments that are not one piece of memory; ToTensor<{typeof(T).Name}>() copies it instead.");
        }
        ObjectDisposedException.ThrowIf(_region.Handle.IsClosed, this);
        CheckBooleans<T>();
        if (_region.Address % ElementType<T>.Alignment != 0)
        {
            throw new InvalidOperationException($"The payload is not aligned to {ElementType<T>.Alignment} bytes, as {typeof(T).Name} needs; ToTensor<{typeof(T).Name}>() copies it instead.");
        }
        return new ReadOnlyTensorSpan<T>((T*)_region.Address, (nint)Metadata.ElementCount, lengths);
    }

    /// <summary>
    /// Copies the payload into a new <see cref="Tensor{T}"/> of the tensor's shape (a scalar gets shape [1]).
    /// <see cref="Tensor{T}"/> holds a managed array of <typeparamref name="T"/>, so it cannot view a received payload
    /// in place; <see cref="AsTensorSpan{T}"/> can.
    /// </summary>
    /// <exception cref="InvalidOperationException">As for <see cref="ToArray{T}"/>.</exception>
    public Tensor<T> ToTensor<T>()
        where T : unmanaged =>
        Tensor.Create(ToArray<T>(), ToLengths(Shape.AsSpan()));

    private static long[] ToShape(ReadOnlySpan<nint> lengths)
    {
        var shape = new long[lengths.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            shape[i] = lengths[i];
        }
        return shape;
    }

    private static nint[] ToLengths(ReadOnlySpan<long> shape)
    {
        if (shape.IsEmpty)
        {
            return [1];
        }
        var lengths = new nint[shape.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            lengths[i] = checked((nint)shape[i]);
        }
        return lengths;
    }

    /// <summary>Whether the elements lie back to back in C order (dimensions of length 1 may have any stride).</summary>
    private static bool IsRowMajorDense(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides)
    {
        nint expected = 1;
        for (int i = lengths.Length - 1; i >= 0; i--)
        {
            if (lengths[i] != 1 && strides[i] != expected)
            {
                return false;
            }
            expected *= lengths[i];
        }
        return true;
    }

    private static byte[] FlattenCopy<T>(scoped in ReadOnlyTensorSpan<T> tensor, string paramName)
        where T : unmanaged
    {
        long bytes = (long)tensor.FlattenedLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (bytes > Array.MaxLength)
        {
            throw new ArgumentException(
                $"Copying {tensor.FlattenedLength} elements ({bytes} bytes) needs one array, which holds at most {Array.MaxLength} bytes; make the tensor dense first.",
                paramName);
        }
        byte[] copy = GC.AllocateUninitializedArray<byte>((int)bytes);
        tensor.FlattenTo(MemoryMarshal.Cast<byte, T>(copy.AsSpan()));
        return copy;
    }
}
