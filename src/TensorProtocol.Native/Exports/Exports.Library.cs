using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Native.Exports;

/// <summary>
/// The exported functions of include/tensor_protocol.h, one static method each. Every one catches everything: an
/// exception never crosses into C; it becomes a status code and the thread's <c>tp_last_error</c>.
/// </summary>
internal static unsafe partial class Exports
{
    /// <summary>Bumped with TP_ABI_VERSION in the header.</summary>
    private const int AbiVersion = 1;

    [UnmanagedCallersOnly(EntryPoint = "tp_abi_version", CallConvs = [typeof(CallConvCdecl)])]
    private static int AbiVersionExport() => AbiVersion;

    [UnmanagedCallersOnly(EntryPoint = "tp_last_error", CallConvs = [typeof(CallConvCdecl)])]
    private static byte* LastErrorExport() => LastError.Pointer;
}
