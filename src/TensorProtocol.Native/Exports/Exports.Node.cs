using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native.Exports;

internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tp_node_create", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeCreate(tp_node_options* options, nint* node)
    {
        try
        {
            if (node is null)
            {
                throw new ArgumentNullException(nameof(node), "node is NULL.");
            }
            *node = Handles.Create(new NodeHandle(new TensorNode(NodeOptionsReader.Read(options))));
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_start", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeStart(nint node)
    {
        try
        {
            Handles.Get<NodeHandle>(node, nameof(node)).Node.Start();
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_ticket", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeTicket(nint node, byte* buffer, nuint capacity, nuint* length) =>
        CopyOutText(node, static n => n.Ticket.ToString(), buffer, capacity, length);

    [UnmanagedCallersOnly(EntryPoint = "tp_node_id", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeIdExport(nint node, byte* buffer, nuint capacity, nuint* length) =>
        CopyOutText(node, static n => n.NodeId.ToString(), buffer, capacity, length);

    [UnmanagedCallersOnly(EntryPoint = "tp_node_pool_size", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodePoolSize(nint node, int* size) => CopyOutCount(node, static n => n.PoolSize, size);

    [UnmanagedCallersOnly(EntryPoint = "tp_node_queued_count", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeQueuedCount(nint node, int* count) => CopyOutCount(node, static n => n.QueuedCount, count);

    private static int CopyOutText(nint node, Func<TensorNode, string> read, byte* buffer, nuint capacity, nuint* length)
    {
        try
        {
            return NativeText.CopyOut(read(Handles.Get<NodeHandle>(node, nameof(node)).Node), buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    private static int CopyOutCount(nint node, Func<TensorNode, int> read, int* value)
    {
        try
        {
            TensorNode tensorNode = Handles.Get<NodeHandle>(node, nameof(node)).Node;
            if (value is null)
            {
                throw new ArgumentNullException(nameof(value), "The output pointer is NULL.");
            }
            *value = read(tensorNode);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_send", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeSend(
        nint node, byte* ticket, byte* name, tp_tensor_view* tensor,
        delegate* unmanaged[Cdecl]<nint, void> release, nint releaseData, nint cancel,
        delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> done, nint doneData)
    {
        try
        {
            NodeHandle handle = Handles.Get<NodeHandle>(node, nameof(node));
            Completion completion = CompletionFor(done, doneData, handle);
            // Everything that can be checked without the network is checked here, so a bad ticket, name or tensor
            // is a return code and nothing is dialed.
            NodeTicket peer = ReadTicket(ticket);
            string tensorName = RequireName(name);
            CancellationToken token = TokenOf(cancel);
            TensorData data = TensorViews.ToTensor(tensor, new ReleaseTarget(release, releaseData, handle.Queue, handle.Pending), out LentMemoryOwner owner);
            owner.Arm(); // from here on the operation runs and the release will be announced
            handle.Pending.Enter();
            _ = Operations.SendAsync(handle.Node, peer, tensorName, data, token, completion, handle.Pending);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_request", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeRequest(
        nint node, byte* ticket, byte* name, nint cancel,
        delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> done, nint doneData)
    {
        try
        {
            NodeHandle handle = Handles.Get<NodeHandle>(node, nameof(node));
            Completion completion = CompletionFor(done, doneData, handle);
            NodeTicket peer = ReadTicket(ticket);
            string tensorName = RequireName(name);
            handle.Pending.Enter();
            _ = Operations.RequestAsync(handle.Node, peer, tensorName, TokenOf(cancel), completion, handle.Pending);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_register", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeRegister(nint node, byte* name, tp_tensor_view* tensor, delegate* unmanaged[Cdecl]<nint, void> release, nint releaseData)
    {
        try
        {
            NodeHandle handle = Handles.Get<NodeHandle>(node, nameof(node));
            string tensorName = RequireName(name);
            TensorData data = TensorViews.ToTensor(tensor, new ReleaseTarget(release, releaseData, handle.Queue, handle.Pending), out LentMemoryOwner owner);
            owner.Arm(); // before registering: a concurrent unregister may dispose it at once, and must announce
            try
            {
                handle.Register(tensorName, data);
            }
            catch
            {
                owner.Disarm(); // not registered (e.g. the node is shut down): the error code says so, no release
                data.Dispose();
                throw;
            }
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_unregister", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeUnregister(nint node, byte* name, int* removed)
    {
        try
        {
            bool result = Handles.Get<NodeHandle>(node, nameof(node)).Unregister(RequireName(name));
            if (removed is not null)
            {
                *removed = result ? 1 : 0;
            }
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_try_receive", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeTryReceive(nint node, nint* tensor)
    {
        try
        {
            TensorNode tensorNode = Handles.Get<NodeHandle>(node, nameof(node)).Node;
            if (tensor is null)
            {
                throw new ArgumentNullException(nameof(tensor), "tensor is NULL.");
            }
            *tensor = 0;
            if (!tensorNode.TryReceive(out ReceivedTensor? received))
            {
                return (int)tp_status.TP_EMPTY;
            }
            *tensor = NewTensorHandle(received.Name, received.Sender, received.Data);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_receive", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeReceive(nint node, nint cancel, delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> done, nint doneData)
    {
        try
        {
            NodeHandle handle = Handles.Get<NodeHandle>(node, nameof(node));
            Completion completion = CompletionFor(done, doneData, handle);
            handle.Pending.Enter();
            _ = Operations.ReceiveAsync(handle.Node, TokenOf(cancel), completion, handle.Pending);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_shutdown", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeShutdown(nint node)
    {
        try
        {
            Handles.Get<NodeHandle>(node, nameof(node)).Shutdown();
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_free", CallConvs = [typeof(CallConvCdecl)])]
    private static void NodeFree(nint node)
    {
        try
        {
            Handles.Free<NodeHandle>(node)?.Shutdown();
        }
        catch (Exception e)
        {
            Errors.Fail(e);
        }
    }

    /// <summary>Where an operation reports: its callback, or the node's queue when the callback is NULL.</summary>
    private static Completion CompletionFor(delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> done, nint doneData, NodeHandle node)
    {
        if (done is null && node.Queue is null)
        {
            throw new ArgumentNullException(nameof(done), "done (the completion callback) is NULL and the node has no completion queue.");
        }
        return new Completion(done, doneData, node.Queue);
    }

    // The ticket last parsed on this thread: a caller sending again and again to one peer (the usual case) passes the
    // same text each time, and parsing it (base32, addresses) was a tenth of a small send's cost on the calling thread.
    // Only the library uses these tickets, so sharing one instance is safe.
    [ThreadStatic]
    private static string? t_lastTicketText;
    [ThreadStatic]
    private static NodeTicket? t_lastTicket;

    private static NodeTicket ReadTicket(byte* ticket)
    {
        string text = NativeText.Read(ticket, nameof(ticket));
        if (t_lastTicket is { } last && string.Equals(text, t_lastTicketText, StringComparison.Ordinal))
        {
            return last;
        }
        NodeTicket parsed = global::TensorProtocol.NodeTicket.Parse(text);
        (t_lastTicketText, t_lastTicket) = (text, parsed);
        return parsed;
    }

    private static CancellationToken TokenOf(nint cancel) => Handles.GetOptional<CancelHandle>(cancel, nameof(cancel))?.Token ?? default;

    private static string RequireName(byte* name)
    {
        string text = NativeText.Read(name, nameof(name));
        return text.Length == 0 ? throw new ArgumentException("The tensor name is empty.", nameof(name)) : text;
    }
}
