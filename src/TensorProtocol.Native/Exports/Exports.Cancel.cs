using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native.Exports;

internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tp_cancel_create", CallConvs = [typeof(CallConvCdecl)])]
    private static int CancelCreate(nint* cancel)
    {
        try
        {
            if (cancel is null)
            {
                throw new ArgumentNullException(nameof(cancel), "cancel is NULL.");
            }
            *cancel = Handles.Create(new CancelHandle());
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_cancel_trigger", CallConvs = [typeof(CallConvCdecl)])]
    private static int CancelTrigger(nint cancel)
    {
        try
        {
            // Cancellation callbacks run here, on the caller's thread; they only complete operations, whose
            // continuations (and so the caller's completion callbacks) run on thread-pool threads.
            Handles.Get<CancelHandle>(cancel, nameof(cancel)).Trigger();
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_cancel_free", CallConvs = [typeof(CallConvCdecl)])]
    private static void CancelFree(nint cancel)
    {
        try
        {
            // Operations hold the token itself, so freeing the handle never affects them.
            Handles.Free<CancelHandle>(cancel);
        }
        catch (Exception e)
        {
            Errors.Fail(e);
        }
    }
}
