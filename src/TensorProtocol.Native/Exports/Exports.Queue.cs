using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native.Exports;

internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tp_queue_create", CallConvs = [typeof(CallConvCdecl)])]
    private static int QueueCreate(nint* queue, int* fd)
    {
        try
        {
            if (queue is null || fd is null)
            {
                throw new ArgumentNullException(queue is null ? nameof(queue) : nameof(fd), "queue and fd must not be NULL.");
            }
            var created = new CompletionQueue();
            *queue = Handles.Create(created);
            *fd = created.FileDescriptor;
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_queue_poll", CallConvs = [typeof(CallConvCdecl)])]
    private static int QueuePoll(nint queue, tp_event* events, int capacity, int* count)
    {
        try
        {
            if (events is null || count is null || capacity < 1)
            {
                throw new ArgumentException("events and count must not be NULL and capacity must be at least 1.", nameof(events));
            }
            *count = Handles.Get<CompletionQueue>(queue, nameof(queue)).Poll(events, capacity);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_queue_wait", CallConvs = [typeof(CallConvCdecl)])]
    private static int QueueWait(nint queue, int timeoutMilliseconds, int* ready)
    {
        try
        {
            bool any = Handles.Get<CompletionQueue>(queue, nameof(queue)).Wait(timeoutMilliseconds);
            if (ready is not null)
            {
                *ready = any ? 1 : 0;
            }
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_queue_free", CallConvs = [typeof(CallConvCdecl)])]
    private static void QueueFree(nint queue)
    {
        try
        {
            Handles.Free<CompletionQueue>(queue)?.Dispose();
        }
        catch (Exception e)
        {
            Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_node_set_queue", CallConvs = [typeof(CallConvCdecl)])]
    private static int NodeSetQueue(nint node, nint queue)
    {
        try
        {
            Handles.Get<NodeHandle>(node, nameof(node)).Queue = Handles.GetOptional<CompletionQueue>(queue, nameof(queue));
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }
}
