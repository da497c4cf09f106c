namespace TensorProtocol.Native;

/// <summary>A <c>tp_node</c>: the node and the caller memory it serves for registered tensors.</summary>
internal sealed class NodeHandle
{
    private readonly Dictionary<string, LentMemory> _registered = new(StringComparer.Ordinal);

    public NodeHandle(TensorNode node) => Node = node;

    public TensorNode Node { get; }

    /// <summary>Where operations started without a callback report (<c>tp_node_set_queue</c>).</summary>
    public CompletionQueue? Queue { get; set; }

    public void Register(string name, TensorData tensor, LentMemory memory)
    {
        LentMemory? previous;
        lock (_registered)
        {
            Node.Register(name, tensor);
            _registered.Remove(name, out previous);
            _registered[name] = memory;
        }
        // Pullers already sending the old tensor keep it pinned; its memory is released when they finish.
        previous?.Return();
    }

    public bool Unregister(string name)
    {
        LentMemory? previous;
        bool removed;
        lock (_registered)
        {
            removed = Node.Unregister(name);
            _registered.Remove(name, out previous);
        }
        previous?.Return();
        return removed;
    }

    public void Shutdown()
    {
        // Blocking is the contract of tp_node_shutdown; the node's shutdown never needs the calling thread.
        Node.ShutdownAsync().AsTask().GetAwaiter().GetResult();
        LentMemory[] registered;
        lock (_registered)
        {
            registered = [.. _registered.Values];
            _registered.Clear();
        }
        foreach (LentMemory memory in registered)
        {
            memory.Return();
        }
    }
}
