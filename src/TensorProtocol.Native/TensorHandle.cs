using System.Buffers;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>
/// A <c>tp_tensor</c>: a received tensor whose payload stays pinned where the receiver wrote it (no copy), plus its
/// name, sender, shape and metadata as native strings and arrays that C reads until <see cref="Free"/>.
/// </summary>
internal sealed unsafe class TensorHandle
{
    private readonly TensorData _tensor;
    private readonly MemoryHandle[] _pins;
    private readonly byte* _data;
    private readonly byte* _name;
    private readonly byte* _sender;
    private readonly long* _shape;
    private readonly byte** _metadataKeys;
    private readonly byte** _metadataValues;
    private readonly int _metadataCount;

    public TensorHandle(string name, NodeId sender, TensorData tensor)
    {
        _tensor = tensor;
        // A received payload is one block of memory: an array, or above 2 GiB one mapping exposed as 1 GiB
        // segments. Pin every segment (no copy) and hand C the start, after checking the segments are contiguous.
        var pins = new List<MemoryHandle>();
        byte* expected = null;
        foreach (ReadOnlyMemory<byte> segment in tensor.PayloadSequence)
        {
            MemoryHandle pin = segment.Pin();
            pins.Add(pin);
            if (expected is not null && (byte*)pin.Pointer != expected)
            {
                foreach (MemoryHandle taken in pins)
                {
                    taken.Dispose();
                }
                throw new InvalidOperationException("The received payload is not one contiguous block of memory.");
            }
            _data = _data is null ? (byte*)pin.Pointer : _data;
            expected = (byte*)pin.Pointer + segment.Length;
        }
        _pins = [.. pins];
        _name = NativeText.Allocate(name);
        _sender = NativeText.Allocate(sender.ToString());
        int rank = tensor.Shape.Length;
        _shape = (long*)NativeMemory.Alloc((nuint)Math.Max(rank, 1), sizeof(long));
        tensor.Shape.AsSpan().CopyTo(new Span<long>(_shape, rank));
        IReadOnlyDictionary<string, string> metadata = tensor.Metadata.Metadata;
        _metadataCount = metadata.Count;
        if (_metadataCount > 0)
        {
            _metadataKeys = (byte**)NativeMemory.Alloc((nuint)_metadataCount, (nuint)sizeof(byte*));
            _metadataValues = (byte**)NativeMemory.Alloc((nuint)_metadataCount, (nuint)sizeof(byte*));
            int i = 0;
            foreach ((string key, string value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                _metadataKeys[i] = NativeText.Allocate(key);
                _metadataValues[i] = NativeText.Allocate(value);
                i++;
            }
        }
    }

    public void GetInfo(tp_tensor_info* info)
    {
        info->name = _name;
        info->sender = _sender;
        info->dtype = _tensor.DType.Code;
        info->rank = _tensor.Shape.Length;
        info->shape = _shape;
        info->data = _data;
        info->data_len = (ulong)_tensor.ByteLength;
        info->requires_grad = _tensor.Metadata.RequiresGrad ? 1 : 0;
        info->metadata_count = _metadataCount;
    }

    public bool TryGetMetadata(int index, out byte* key, out byte* value)
    {
        if ((uint)index >= (uint)_metadataCount)
        {
            key = value = null;
            return false;
        }
        key = _metadataKeys[index];
        value = _metadataValues[index];
        return true;
    }

    public void Free()
    {
        foreach (MemoryHandle pin in _pins)
        {
            pin.Dispose();
        }
        _tensor.Dispose(); // a mapped payload (above 2 GiB) is unmapped now, not at the next GC
        NativeMemory.Free(_name);
        NativeMemory.Free(_sender);
        NativeMemory.Free(_shape);
        for (int i = 0; i < _metadataCount; i++)
        {
            NativeMemory.Free(_metadataKeys[i]);
            NativeMemory.Free(_metadataValues[i]);
        }
        NativeMemory.Free(_metadataKeys);
        NativeMemory.Free(_metadataValues);
    }
}
