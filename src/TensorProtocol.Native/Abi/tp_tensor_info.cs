namespace TensorProtocol.Native.Abi;

/// <summary>Mirror of <c>tp_tensor_info</c>: what a received tensor holds.</summary>
internal unsafe struct tp_tensor_info
{
    public byte* name;
    public byte* sender;
    public int dtype;
    public int rank;
    public long* shape;
    public void* data;
    public ulong data_len;
    public int requires_grad;
    public int metadata_count;
}
