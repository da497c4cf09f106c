namespace TensorProtocol.Native;

/// <summary>A <c>tp_node</c>: the node and the caller memory it serves for registered tensors.</summary>
internal sealed class NodeHandle
{
    private readonly Dictionary<string, TensorData> _registered = new(StringComparer.Ordinal);

    public NodeHandle(TensorNode node) => Node = node;

    public TensorNode Node { get; }

    /// <summary>Where operations started without a callback report (<c>tp_node_set_queue</c>).</summary>
    public CompletionQueue? Queue { get; set; }

    /// <summary>Operations not yet reported and release callbacks not yet run (waited for by <see cref="Shutdown"/>).</summary>
    public PendingCallbacks Pending { get; } = new();

    public void Register(string name, TensorData tensor)
    {
        TensorData? previous;
        lock (_registered)
        {
            Node.Register(name, tensor);
            _registered.Remove(name, out previous);
            _registered[name] = tensor;
        }
        // Pullers already sending the old tensor hold its memory; it is released when they finish.
        previous?.Dispose();
    }

    public bool Unregister(string name)
    {
        TensorData? previous;
        bool removed;
        lock (_registered)
        {
            removed = Node.Unregister(name);
            _registered.Remove(name, out previous);
        }
        previous?.Dispose();
        return removed;
    }

    public void Shutdown()
    {
        // Blocking is the contract of tp_node_shutdown; the node's shutdown never needs the calling thread.
        Node.ShutdownAsync().AsTask().GetAwaiter().GetResult();
        TensorData[] registered;
        lock (_registered)
        {
            registered = [.. _registered.Values];
            _registered.Clear();
        }
        foreach (TensorData tensor in registered)
        {
            tensor.Dispose();
        }
        // The shutdown failed every operation and closed every connection, so their reports and the releases of lent
        // memory follow within moments, on pool threads: wait for them (bounded), so none comes after this returns.
        Pending.WaitIdle(TimeSpan.FromSeconds(5));
    }
}
