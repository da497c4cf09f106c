using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native.Exports;

internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "tp_tensor_get_info", CallConvs = [typeof(CallConvCdecl)])]
    private static int TensorGetInfo(nint tensor, tp_tensor_info* info)
    {
        try
        {
            if (info is null)
            {
                throw new ArgumentNullException(nameof(info), "info is NULL.");
            }
            Handles.Get<TensorHandle>(tensor, nameof(tensor)).GetInfo(info);
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_tensor_get_metadata", CallConvs = [typeof(CallConvCdecl)])]
    private static int TensorGetMetadata(nint tensor, int index, byte** key, byte** value)
    {
        try
        {
            if (key is null || value is null)
            {
                throw new ArgumentNullException(key is null ? nameof(key) : nameof(value), "key and value must not be NULL.");
            }
            if (!Handles.Get<TensorHandle>(tensor, nameof(tensor)).TryGetMetadata(index, out *key, out *value))
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, "No metadata entry has this index.");
            }
            return (int)tp_status.TP_OK;
        }
        catch (Exception e)
        {
            return Errors.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tp_tensor_free", CallConvs = [typeof(CallConvCdecl)])]
    private static void TensorFree(nint tensor)
    {
        try
        {
            Handles.Free<TensorHandle>(tensor)?.Free();
        }
        catch (Exception e)
        {
            Errors.Fail(e);
        }
    }

    /// <summary>Hands a received tensor to C as a new <c>tp_tensor</c>.</summary>
    private static nint NewTensorHandle(string name, NodeId sender, TensorData tensor) =>
        Handles.Create(new TensorHandle(name, sender, tensor));
}
