namespace TensorProtocol.Native;

/// <summary>
/// The asynchronous operations behind tp_node_send / tp_node_request / tp_node_receive: each ends by calling the
/// caller's completion exactly once, on a thread-pool thread.
/// </summary>
internal static class Operations
{
    public static async Task SendAsync(TensorNode node, NodeTicket peer, string name, TensorData tensor, LentMemory lent, CancellationToken cancellationToken, Completion completion)
    {
        // Leave the caller's thread first: SendAsync may run synchronously up to its first wait, and the caller (a
        // Python thread holding the GIL) must get its return code before the completion can run.
        await Task.Yield();
        Exception? failure = null;
        try
        {
            await node.SendAsync(peer, name, tensor, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            // Writes still pinned (a failed send's unacknowledged bytes) hold the memory until the QUIC layer lets go.
            lent.Return();
        }
        Complete(completion, failure, 0);
    }

    public static async Task RequestAsync(TensorNode node, NodeTicket peer, string name, CancellationToken cancellationToken, Completion completion)
    {
        await Task.Yield();
        nint result = 0;
        Exception? failure = null;
        try
        {
            TensorData tensor = await node.RequestAsync(peer, name, cancellationToken).ConfigureAwait(false);
            result = Handles.Create(new TensorHandle(name, peer.NodeId, tensor));
        }
        catch (Exception e)
        {
            failure = e;
        }
        Complete(completion, failure, result);
    }

    public static async Task ReceiveAsync(TensorNode node, CancellationToken cancellationToken, Completion completion)
    {
        await Task.Yield();
        nint result = 0;
        Exception? failure = null;
        try
        {
            ReceivedTensor received = await node.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            result = Handles.Create(new TensorHandle(received.Name, received.Sender, received.Data));
        }
        catch (Exception e)
        {
            failure = e;
        }
        Complete(completion, failure, result);
    }

    /// <summary>Runs the caller's completion; whatever happens, nothing escapes into the thread pool.</summary>
    private static void Complete(Completion completion, Exception? failure, nint tensor)
    {
        try
        {
            if (failure is null)
            {
                completion.Succeed(tensor);
            }
            else
            {
                completion.Fail(failure);
            }
        }
        catch (Exception e)
        {
            // Only our own marshalling can throw here (a C callback cannot throw into .NET); keep it visible.
            LastError.Set($"Completing an operation failed: {e.Message}");
        }
    }
}
