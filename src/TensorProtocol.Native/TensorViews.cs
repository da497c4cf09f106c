using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>Turns a caller's <c>tp_tensor_view</c> into a <see cref="TensorData"/> over the caller's memory.</summary>
internal static unsafe class TensorViews
{
    private const int MaxRank = 64; // the wire format's limit; checked here so a bad rank never reads far
    private const int MaxMetadataEntries = 1024;

    /// <summary>
    /// Validates the view and wraps its memory without copying. On success the returned <see cref="LentMemory"/>
    /// owns the obligation to notify <paramref name="release"/>; on an exception nothing was taken.
    /// </summary>
    public static TensorData ToTensor(tp_tensor_view* view, ReleaseTarget release, out LentMemory lent)
    {
        if (view is null)
        {
            throw new ArgumentNullException(nameof(view), "The tensor view is NULL.");
        }
        if (view->dtype is < 0 or > 255 || !DType.TryFromCode((byte)view->dtype, out DType? dtype))
        {
            throw new ArgumentException($"{view->dtype} is not a tp_dtype.", nameof(view));
        }
        if (view->rank is < 0 or > MaxRank || (view->rank > 0 && view->shape is null))
        {
            throw new ArgumentException($"The rank {view->rank} is invalid (0..{MaxRank}, with a shape array when above 0).", nameof(view));
        }
        if (view->data is null && view->data_len != 0)
        {
            throw new ArgumentException("The data pointer is NULL but data_len is not 0.", nameof(view));
        }
        if (view->data_len > int.MaxValue)
        {
            throw new ArgumentException($"The payload is {view->data_len} bytes; this version sends at most {int.MaxValue} bytes per tensor.", nameof(view));
        }
        Dictionary<string, string>? metadata = null;
        if (view->metadata_count != 0)
        {
            if (view->metadata_count is < 0 or > MaxMetadataEntries || view->metadata_keys is null || view->metadata_values is null)
            {
                throw new ArgumentException($"The metadata count {view->metadata_count} is invalid (0..{MaxMetadataEntries}, with key and value arrays).", nameof(view));
            }
            metadata = new Dictionary<string, string>(view->metadata_count, StringComparer.Ordinal);
            for (int i = 0; i < view->metadata_count; i++)
            {
                metadata[NativeText.Read(view->metadata_keys[i], "metadata_keys[i]")] = NativeText.Read(view->metadata_values[i], "metadata_values[i]");
            }
        }
        // TensorMetadata checks every dimension and the element count with checked arithmetic.
        var tensorMetadata = new TensorMetadata(dtype, new ReadOnlySpan<long>(view->shape, view->rank), view->requires_grad != 0, metadata);
        // If the length disagrees with the shape this throws and the unused LentMemory is dropped: the caller keeps
        // ownership and learns it from the return code, never from the release callback.
        var memory = new LentMemory(view->data, (int)view->data_len, release);
        var tensor = new TensorData(tensorMetadata, memory.Memory);
        lent = memory;
        return tensor;
    }
}
