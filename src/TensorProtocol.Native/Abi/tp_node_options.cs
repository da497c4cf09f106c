namespace TensorProtocol.Native.Abi;

/// <summary>Mirror of <c>tp_node_options</c>; zero or null in a field means its default.</summary>
internal unsafe struct tp_node_options
{
    public uint struct_size;
    public ushort port;
    public ushort reserved;
    public byte* identity_path;
    public byte* bind_address;
    public byte* alpn;
    public ulong max_tensor_bytes;
    public ulong receive_memory_budget;
    public int receive_queue_capacity;
    public int queue_full_wait;
    public int max_pooled_connections;
    public uint connect_timeout_ms;
    public uint request_timeout_ms;
    public uint pool_idle_timeout_ms;
    public byte** allowed_senders;
    public byte** allowed_pullers;
    public int allowed_senders_count;
    public int allowed_pullers_count;
    public long receive_buffer_retention;
    public uint receive_buffer_lifetime_ms;
    public uint min_transfer_rate_kib;
}
