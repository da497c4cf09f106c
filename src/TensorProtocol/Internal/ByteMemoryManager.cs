using System.Buffers;
using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>
/// Presents a <see cref="ReadOnlyMemory{T}"/> of elements as memory of bytes without copying: a tensor built from a
/// <c>float[]</c> sends that very array. <see cref="Memory{T}"/> cannot be reinterpreted directly, hence the manager.
/// </summary>
/// <remarks>The caller checks that the byte length fits in an <see cref="int"/>.</remarks>
internal sealed unsafe class ByteMemoryManager<T> : MemoryManager<byte>
    where T : unmanaged
{
    private readonly ReadOnlyMemory<T> _source;

    public ByteMemoryManager(ReadOnlyMemory<T> source) => _source = source;

    // The payload is exposed as ReadOnlyMemory<byte>, so the writable span never reaches a caller of TensorData.
    public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(MemoryMarshal.AsMemory(_source).Span);

    /// <param name="elementIndex">An offset in bytes: the elements of this manager are bytes.</param>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)(_source.Length * sizeof(T)), nameof(elementIndex));
        MemoryHandle source = _source.Pin();
        return new MemoryHandle((byte*)source.Pointer + elementIndex, pinnable: new SourcePin(source));
    }

    // Each Pin returns a handle that releases its own pin of the source (see SourcePin).
    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }

    /// <summary>Releases one pin of the source when the <see cref="MemoryHandle"/> handed out by Pin is disposed.</summary>
    private sealed class SourcePin(MemoryHandle source) : IPinnable
    {
        private MemoryHandle _source = source;

        public MemoryHandle Pin(int elementIndex) => throw new NotSupportedException();

        public void Unpin() => _source.Dispose();
    }
}
