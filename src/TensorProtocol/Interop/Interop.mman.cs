using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Interop;

// <sys/mman.h>: anonymous mappings for payloads too large for one array, and page pre-faulting. The constants are
// those of Linux on x86-64 and aarch64, the platforms the node runs on.
internal static unsafe partial class mman
{
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;

    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;

    internal const int MADV_POPULATE_WRITE = 23; // Linux 5.14+

    internal static readonly nint MAP_FAILED = -1;

    [LibraryImport("libc", SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int madvise(nint addr, nuint length, int advice);
}
