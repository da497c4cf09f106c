using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Interop;

// The few libc socket calls .NET's Socket does not expose: batched and segmented UDP I/O (recvmmsg, sendmsg with
// UDP_SEGMENT), the ICMP error queue, poll, an eventfd for waking the loop and a timerfd for its earlier deadlines.
// x86-64/aarch64 Linux layouts.
internal static unsafe partial class libc
{
    internal const ushort AF_INET = 2;
    internal const ushort AF_INET6 = 10;

    internal const int SOL_SOCKET = 1;
    internal const int SO_SNDBUF = 7;
    internal const int SO_RCVBUF = 8;
    internal const int SO_SNDBUFFORCE = 32;
    internal const int SO_RCVBUFFORCE = 33;
    internal const int IPPROTO_IP = 0;
    internal const int IPPROTO_IPV6 = 41;
    internal const int IP_RECVERR = 11;
    internal const int IPV6_RECVERR = 25;
    internal const int IP_MTU_DISCOVER = 10;
    internal const int IPV6_MTU_DISCOVER = 23;
    internal const int IP_PMTUDISC_PROBE = 3;
    internal const int IPV6_PMTUDISC_PROBE = 3;
    internal const int SOL_UDP = 17;
    internal const int UDP_SEGMENT = 103;
    internal const int UDP_GRO = 104;

    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_ERRQUEUE = 0x2000;

    internal const short POLLIN = 0x001;
    internal const short POLLERR = 0x008;

    internal const int EAGAIN = 11;
    internal const int EINTR = 4;
    internal const int EIO = 5;
    internal const int EINVAL = 22;
    internal const int ECONNREFUSED = 111;
    internal const int EMSGSIZE = 90;
    internal const int ENOBUFS = 105;

    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;

    internal const byte SO_EE_ORIGIN_ICMP = 2;
    internal const byte SO_EE_ORIGIN_ICMP6 = 3;

    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_in
    {
        public ushort sin_family;
        public ushort sin_port;      // network byte order
        public uint sin_addr;        // network byte order
        public ulong sin_zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_in6
    {
        public ushort sin6_family;
        public ushort sin6_port;     // network byte order
        public uint sin6_flowinfo;
        public fixed byte sin6_addr[16];
        public uint sin6_scope_id;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct mmsghdr
    {
        public msghdr msg_hdr;
        public uint msg_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct sock_extended_err
    {
        public uint ee_errno;
        public byte ee_origin;
        public byte ee_type;
        public byte ee_code;
        public byte ee_pad;
        public uint ee_info;
        public uint ee_data;
    }

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int setsockopt(int sockfd, int level, int optname, void* optval, uint optlen);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int getsockopt(int sockfd, int level, int optname, void* optval, uint* optlen);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int recvmmsg(int sockfd, mmsghdr* msgvec, uint vlen, int flags, void* timeout);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint recvmsg(int sockfd, msghdr* msg, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint sendmsg(int sockfd, msghdr* msg, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int sendmmsg(int sockfd, mmsghdr* msgvec, uint vlen, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int poll(pollfd* fds, nuint nfds, int timeout);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int eventfd(uint initval, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int close(int fd);
}

internal static unsafe partial class libc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    internal const short POLLOUT = 0x004;

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int ppoll(pollfd* fds, nuint nfds, timespec* tmo_p, void* sigmask);
}

internal static unsafe partial class libc
{
    internal const int PR_SET_TIMERSLACK = 29;

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}

internal static unsafe partial class libc
{
    internal const int CLOCK_MONOTONIC = 1;
    internal const int TFD_NONBLOCK = 0x800;
    internal const int TFD_CLOEXEC = 0x80000;
    internal const int TFD_TIMER_ABSTIME = 1;

    [StructLayout(LayoutKind.Sequential)]
    internal struct itimerspec
    {
        public timespec it_interval;
        public timespec it_value;
    }

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int timerfd_create(int clockid, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int timerfd_settime(int fd, int flags, itimerspec* new_value, itimerspec* old_value);
}
