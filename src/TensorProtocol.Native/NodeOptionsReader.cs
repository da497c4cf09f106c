using System.Net;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>Builds <see cref="TensorNodeOptions"/> from a caller's <c>tp_node_options</c>; zero means default.</summary>
internal static unsafe class NodeOptionsReader
{
    private const uint MinimumSize = 8; // struct_size, port, reserved

    // Every received tensor is owned by a handle its caller frees (tp_tensor_free): from 1 MiB on, that returns its
    // memory then, not whenever the garbage collector next runs.
    internal const long NativeReceiveThreshold = 1 << 20;

    public static TensorNodeOptions Read(tp_node_options* given)
    {
        var defaults = new TensorNodeOptions { NativeReceiveThreshold = NativeReceiveThreshold };
        if (given is null)
        {
            return defaults;
        }
        if (given->struct_size < MinimumSize)
        {
            throw new ArgumentException($"options->struct_size is {given->struct_size}; set it to sizeof(tp_node_options).", "options");
        }
        // A caller built against an older, shorter struct: the fields it does not know stay zero (default).
        tp_node_options o = default;
        NativeMemory.Copy(given, &o, Math.Min(given->struct_size, (uint)sizeof(tp_node_options)));
        if (o.reserved != 0)
        {
            throw new ArgumentException("options->reserved must be 0.", "options");
        }
        if (o.max_tensor_bytes > long.MaxValue || o.receive_memory_budget > long.MaxValue)
        {
            throw new ArgumentException("options->max_tensor_bytes and options->receive_memory_budget must be at most 2^63 - 1.", "options");
        }
        if (o.receive_buffer_retention < -1)
        {
            throw new ArgumentException($"options->receive_buffer_retention {o.receive_buffer_retention} is invalid (-1: keep none, 0: default).", "options");
        }
        IPAddress address = IPAddress.IPv6Any;
        if (NativeText.ReadOptional(o.bind_address) is { } text && !IPAddress.TryParse(text, out address!))
        {
            throw new ArgumentException($"options->bind_address \"{text}\" is not an IP address.", "options");
        }
        return defaults with
        {
            LocalEndPoint = new IPEndPoint(address, o.port),
            IdentityPath = NativeText.ReadOptional(o.identity_path),
            ApplicationProtocol = NativeText.ReadOptional(o.alpn) ?? defaults.ApplicationProtocol,
            MaxTensorBytes = o.max_tensor_bytes == 0 ? defaults.MaxTensorBytes : (long)o.max_tensor_bytes,
            ReceiveMemoryBudget = o.receive_memory_budget == 0 ? defaults.ReceiveMemoryBudget : (long)o.receive_memory_budget,
            ReceiveQueueCapacity = o.receive_queue_capacity == 0 ? defaults.ReceiveQueueCapacity : o.receive_queue_capacity,
            QueueFullBehavior = o.queue_full_wait != 0 ? QueueFullBehavior.Wait : QueueFullBehavior.Refuse,
            MaxPooledConnections = o.max_pooled_connections == 0 ? defaults.MaxPooledConnections : o.max_pooled_connections,
            ConnectTimeout = o.connect_timeout_ms == 0 ? defaults.ConnectTimeout : TimeSpan.FromMilliseconds(o.connect_timeout_ms),
            RequestTimeout = o.request_timeout_ms == 0 ? defaults.RequestTimeout : TimeSpan.FromMilliseconds(o.request_timeout_ms),
            MinTransferRate = o.min_transfer_rate_kib == 0 ? defaults.MinTransferRate : o.min_transfer_rate_kib * 1024L,
            PoolIdleTimeout = o.pool_idle_timeout_ms == 0 ? defaults.PoolIdleTimeout : TimeSpan.FromMilliseconds(o.pool_idle_timeout_ms),
            AllowedSenders = ReadNodeIds(o.allowed_senders, o.allowed_senders_count, "allowed_senders"),
            AllowedPullers = ReadNodeIds(o.allowed_pullers, o.allowed_pullers_count, "allowed_pullers"),
            ReceiveBufferRetention = o.receive_buffer_retention switch { 0 => defaults.ReceiveBufferRetention, -1 => 0, var bytes => bytes },
            ReceiveBufferLifetime = o.receive_buffer_lifetime_ms == 0 ? defaults.ReceiveBufferLifetime : TimeSpan.FromMilliseconds(o.receive_buffer_lifetime_ms),
        };
    }

    private static HashSet<NodeId>? ReadNodeIds(byte** ids, int count, string field)
    {
        if (ids is null)
        {
            return null;
        }
        if (count is < 0 or > 1_000_000)
        {
            throw new ArgumentException($"options->{field}_count {count} is invalid.", "options");
        }
        var set = new HashSet<NodeId>(count);
        for (int i = 0; i < count; i++)
        {
            string text = NativeText.Read(ids[i], $"options->{field}[{i}]");
            if (!NodeId.TryParse(text, out NodeId id))
            {
                throw new ArgumentException($"options->{field}[{i}] \"{text}\" is not a NodeId.", "options");
            }
            set.Add(id);
        }
        return set;
    }
}
