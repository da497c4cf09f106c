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
    private MemoryHandle _pin;
    private readonly byte* _name;
    private readonly byte* _sender;
    private readonly long* _shape;
    private readonly byte** _metadataKeys;
    private readonly byte** _metadataValues;
    private readonly int _metadataCount;

    public TensorHandle(string name, NodeId sender, TensorData tensor)
    {
        _tensor = tensor;
        _pin = tensor.Payload.Pin();
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
        info->data = _pin.Pointer;
        info->data_len = (ulong)_tensor.Payload.Length;
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
        _pin.Dispose();
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
