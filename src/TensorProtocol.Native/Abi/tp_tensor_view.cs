namespace TensorProtocol.Native.Abi;

/// <summary>Mirror of <c>tp_tensor_view</c>: a tensor over the caller's memory.</summary>
internal unsafe struct tp_tensor_view
{
    public int dtype;
    public int rank;
    public long* shape;
    public void* data;
    public ulong data_len;
    public int requires_grad;
    public int metadata_count;
    public byte** metadata_keys;
    public byte** metadata_values;
}
