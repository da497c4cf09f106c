using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>Turns a caller's <c>tp_tensor_view</c> into a <see cref="TensorData"/> over the caller's memory.</summary>
internal static unsafe class TensorViews
{
    private const int MaxRank = 64; // the wire format's limit; checked here so a bad rank never reads far
    private const int MaxMetadataEntries = 1024;

    /// <summary>
    /// Validates the view and wraps its memory without copying, at any size. The caller arms
    /// <paramref name="owner"/> once the operation is accepted, and disposes the tensor when it no longer needs it
    /// (after a send, on unregistering); the release is announced once no send reads the memory any more.
    /// </summary>
    public static TensorData ToTensor(tp_tensor_view* view, ReleaseTarget release, out LentMemoryOwner owner)
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
        if (view->data_len > long.MaxValue)
        {
            throw new ArgumentException($"data_len {view->data_len} is not a length.", nameof(view));
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
        // FromNativeMemory checks the length against the shape (and the address range); on an exception nothing was
        // taken and the unarmed owner never announces a release.
        var lentOwner = new LentMemoryOwner(release);
        TensorData tensor = TensorData.FromNativeMemory(tensorMetadata, (nint)view->data, (long)view->data_len, lentOwner);
        owner = lentOwner;
        return tensor;
    }
}
