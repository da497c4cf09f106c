using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>
/// Up to 2 GiB of a dense, C-ordered <see cref="Tensor{T}"/>'s elements as memory of bytes, without copying: a tensor
/// built with <see cref="TensorData.FromTensor{T}"/> sends the tensor's own array. The array is pinned only while
/// the transport holds a pin, not for the tensor's life.
/// </summary>
/// <remarks>
/// The first element comes from <see cref="TensorMarshal.GetReference{T}(in ReadOnlyTensorSpan{T})"/>: in
/// System.Numerics.Tensors 10.0, <c>Tensor&lt;T&gt;.GetPinnableReference()</c> and <c>GetPinnedHandle().Pointer</c>
/// point at the backing array's first element even when the tensor starts further in.
/// </remarks>
internal sealed unsafe class TensorMemoryManager<T>(Tensor<T> tensor, long byteOffset, int length) : MemoryManager<byte>
    where T : unmanaged
{
    public override Span<byte> GetSpan() => MemoryMarshal.CreateSpan(ref Start, length);

    /// <param name="elementIndex">An offset in bytes: the elements of this manager are bytes.</param>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)length, nameof(elementIndex));
        MemoryHandle array = tensor.GetPinnedHandle();
        // Pinned now, so the address of the first element stays put until the handle is released.
        byte* pointer = (byte*)Unsafe.AsPointer(ref Start) + elementIndex;
        return new MemoryHandle(pointer, pinnable: new ArrayPin(array));
    }

    // Each Pin returns a handle that releases its own pin of the array (see ArrayPin).
    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }

    private ref byte Start
    {
        get
        {
            ReadOnlyTensorSpan<T> span = tensor.AsReadOnlyTensorSpan();
            ref T first = ref Unsafe.AsRef(in TensorMarshal.GetReference(in span));
            return ref Unsafe.AddByteOffset(ref Unsafe.As<T, byte>(ref first), (nint)byteOffset);
        }
    }

    /// <summary>Releases one pin of the array when the <see cref="MemoryHandle"/> handed out by Pin is disposed.</summary>
    private sealed class ArrayPin(MemoryHandle array) : IPinnable
    {
        private MemoryHandle _array = array;

        public MemoryHandle Pin(int elementIndex) => throw new NotSupportedException();

        public void Unpin() => _array.Dispose();
    }
}
