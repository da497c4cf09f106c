namespace TensorProtocol.Native;

/// <summary>
/// The asynchronous operations behind tp_node_send / tp_node_request / tp_node_receive: each ends by calling the
/// caller's completion exactly once, on a thread-pool thread.
/// </summary>
internal static class Operations
{
    public static async Task SendAsync(TensorNode node, NodeTicket peer, string name, TensorData tensor, CancellationToken cancellationToken, Completion completion, PendingCallbacks pending)
    {
        Exception? failure = null;
        try
        {
            // Started on the caller's thread (which released the GIL for the call), so the first packets leave
            // without a hop through the thread pool.
            await Detached(node.SendAsync(peer, name, tensor, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            // The node holds the memory while any write still needs it (a failed send's unacknowledged bytes); the
            // caller's release is announced once it lets go.
            tensor.Dispose();
        }
        Complete(completion, failure, 0, pending);
    }

    public static async Task RequestAsync(TensorNode node, NodeTicket peer, string name, CancellationToken cancellationToken, Completion completion, PendingCallbacks pending)
    {
        nint result = 0;
        Exception? failure = null;
        try
        {
            TensorData tensor = await Detached(node.RequestAsync(peer, name, cancellationToken)).ConfigureAwait(false);
            result = Handles.Create(new TensorHandle(name, peer.NodeId, tensor));
        }
        catch (Exception e)
        {
            failure = e;
        }
        Complete(completion, failure, result, pending);
    }

    public static async Task ReceiveAsync(TensorNode node, CancellationToken cancellationToken, Completion completion, PendingCallbacks pending)
    {
        nint result = 0;
        Exception? failure = null;
        try
        {
            ReceivedTensor received = await Detached(node.ReceiveAsync(cancellationToken).AsTask()).ConfigureAwait(false);
            result = Handles.Create(new TensorHandle(received.Name, received.Sender, received.Data));
        }
        catch (Exception e)
        {
            failure = e;
        }
        Complete(completion, failure, result, pending);
    }

    /// <summary>Runs the caller's completion; whatever happens, nothing escapes into the thread pool.</summary>
    private static void Complete(Completion completion, Exception? failure, nint tensor, PendingCallbacks pending)
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
        finally
        {
            pending.Exit(); // reported (or failed to): shutting the node down no longer waits for it
        }
    }

    /// <summary>
    /// The operation's task, but never completing on the thread that started it: the header promises that a
    /// completion is never called inside the initiating call (a caller may hold a lock its callback takes). Only an
    /// operation that finished synchronously (an immediate failure, a tensor already queued) pays a thread-pool hop.
    /// </summary>
    private static async Task Detached(Task operation)
    {
        if (operation.IsCompleted)
        {
            await Task.Yield();
        }
        await operation.ConfigureAwait(false);
    }

    private static async Task<T> Detached<T>(Task<T> operation)
    {
        if (operation.IsCompleted)
        {
            await Task.Yield();
        }
        return await operation.ConfigureAwait(false);
    }
}
