using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Internal;

/// <summary>
/// The endpoint's UDP socket with the kernel features that make QUIC cheap: recvmmsg batches, GRO on receive
/// (many datagrams in one buffer), GSO on send (one sendmsg for up to 64 equal segments), and the ICMP error queue
/// (so a dial to a closed port fails at once). Created and bound through <see cref="Socket"/>; the hot path calls
/// libc directly. Used by the loop thread only.
/// </summary>
internal sealed unsafe class UdpSocket : IDisposable
{
    internal const int BatchSize = 32;
    internal const int ReceiveBufferSize = 65536;  // one GRO-coalesced datagram at most
    private const int ControlSize = 64;
    private const int NameSize = 32;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly byte* _rxBuffers;
    private readonly byte* _rxNames;
    private readonly byte* _rxControl;
    private readonly libc.mmsghdr* _rxMsgs;
    private readonly libc.iovec* _rxIov;
    private bool _disposed;

    internal UdpSocket(IPEndPoint localEndPoint, int bufferSize, bool useGso)
    {
        _socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6 && localEndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }
            _socket.Bind(localEndPoint);
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new QuicException(QuicErrorKind.AddressInUse, $"Cannot bind the UDP socket to {localEndPoint}: {e.Message}", innerException: e);
        }
        _socket.Blocking = false;
        _fd = (int)_socket.Handle;
        Family = localEndPoint.AddressFamily;
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;

        SetBuffer(libc.SO_RCVBUFFORCE, libc.SO_RCVBUF, bufferSize);
        SetBuffer(libc.SO_SNDBUFFORCE, libc.SO_SNDBUF, bufferSize);
        int one = 1;
        GroEnabled = libc.setsockopt(_fd, libc.SOL_UDP, libc.UDP_GRO, &one, sizeof(int)) == 0;
        GsoEnabled = useGso; // probed by the first segmented send; switched off on EIO/EINVAL
        // ICMP errors (port unreachable) go to the error queue instead of being lost.
        libc.setsockopt(_fd, libc.IPPROTO_IP, libc.IP_RECVERR, &one, sizeof(int));
        int probe = libc.IP_PMTUDISC_PROBE;
        libc.setsockopt(_fd, libc.IPPROTO_IP, libc.IP_MTU_DISCOVER, &probe, sizeof(int));
        if (Family == AddressFamily.InterNetworkV6)
        {
            libc.setsockopt(_fd, libc.IPPROTO_IPV6, libc.IPV6_RECVERR, &one, sizeof(int));
            libc.setsockopt(_fd, libc.IPPROTO_IPV6, libc.IPV6_MTU_DISCOVER, &probe, sizeof(int));
        }

        _rxBuffers = (byte*)NativeMemory.AlignedAlloc(BatchSize * ReceiveBufferSize, 64);
        _rxNames = (byte*)NativeMemory.AllocZeroed(BatchSize * NameSize);
        _rxControl = (byte*)NativeMemory.AllocZeroed(BatchSize * ControlSize);
        _rxMsgs = (libc.mmsghdr*)NativeMemory.AllocZeroed((nuint)(BatchSize * sizeof(libc.mmsghdr)));
        _rxIov = (libc.iovec*)NativeMemory.AllocZeroed((nuint)(BatchSize * sizeof(libc.iovec)));
        for (int i = 0; i < BatchSize; i++)
        {
            _rxIov[i].iov_base = _rxBuffers + (i * ReceiveBufferSize);
            _rxIov[i].iov_len = ReceiveBufferSize;
        }
    }

    internal int Fd => _fd;
    internal AddressFamily Family { get; }
    internal IPEndPoint LocalEndPoint { get; }
    internal bool GroEnabled { get; }
    internal bool GsoEnabled { get; private set; }
    internal long DatagramsSent { get; private set; }

    /// <summary>Datagrams the kernel refused to send (too large for the link, no route, ...): lost before they left.</summary>
    internal long DatagramsRefused { get; private set; }
    internal long DatagramsReceived { get; private set; }

    /// <summary>Receive calls that returned no datagram (nothing waiting, or a failed call): each a wasted system call.</summary>
    internal long EmptyReceives { get; private set; }

    /// <summary>One received (possibly GRO-coalesced) datagram.</summary>
    internal readonly struct Received
    {
        internal readonly byte* Data;
        internal readonly int Length;
        internal readonly int SegmentSize; // == Length when not coalesced
        internal readonly byte* Address;
        internal readonly int AddressLength;

        internal Received(byte* data, int length, int segmentSize, byte* address, int addressLength)
        {
            Data = data;
            Length = length;
            SegmentSize = segmentSize;
            Address = address;
            AddressLength = addressLength;
        }
    }

    /// <summary>Receives up to <see cref="BatchSize"/> datagrams without blocking; 0 when none are waiting.</summary>
    internal int ReceiveBatch(Span<Received> results)
    {
        int count = Math.Min(results.Length, BatchSize);
        for (int i = 0; i < count; i++)
        {
            ref libc.msghdr h = ref _rxMsgs[i].msg_hdr;
            h.msg_name = _rxNames + (i * NameSize);
            h.msg_namelen = NameSize;
            h.msg_iov = &_rxIov[i];
            h.msg_iovlen = 1;
            h.msg_control = _rxControl + (i * ControlSize);
            h.msg_controllen = ControlSize; // reset every time: the kernel shrinks it to what it wrote
            h.msg_flags = 0;
        }
        int n = libc.recvmmsg(_fd, _rxMsgs, (uint)count, libc.MSG_DONTWAIT, null);
        if (n <= 0)
        {
            EmptyReceives++;
            return 0;
        }
        for (int i = 0; i < n; i++)
        {
            ref libc.msghdr h = ref _rxMsgs[i].msg_hdr;
            int length = (int)_rxMsgs[i].msg_len;
            int segment = length;
            if (GroEnabled && h.msg_controllen > 0)
            {
                int gso = FindControlInt(h.msg_control, (int)h.msg_controllen, libc.SOL_UDP, libc.UDP_GRO);
                if (gso > 0)
                {
                    segment = gso;
                }
            }
            results[i] = new Received(_rxBuffers + (i * ReceiveBufferSize), length, segment, (byte*)h.msg_name, (int)h.msg_namelen);
        }
        DatagramsReceived += n;
        return n;
    }

    /// <summary>
    /// Drains the ICMP error queue, reporting the destinations that answered "unreachable" (connection refused).
    /// </summary>
    internal void DrainErrors(Action<IPEndPoint, int> onError)
    {
        byte* name = stackalloc byte[NameSize];
        byte* control = stackalloc byte[256];
        byte* data = stackalloc byte[64];
        for (int guard = 0; guard < 64; guard++)
        {
            var iov = new libc.iovec { iov_base = data, iov_len = 64 };
            var msg = new libc.msghdr
            {
                msg_name = name,
                msg_namelen = NameSize,
                msg_iov = &iov,
                msg_iovlen = 1,
                msg_control = control,
                msg_controllen = 256,
            };
            if (libc.recvmsg(_fd, &msg, libc.MSG_ERRQUEUE | libc.MSG_DONTWAIT) < 0)
            {
                return;
            }
            for (var c = NextControl(control, (int)msg.msg_controllen, null); c != null; c = NextControl(control, (int)msg.msg_controllen, c))
            {
                bool ipError = (c->cmsg_level == libc.IPPROTO_IP && c->cmsg_type == libc.IP_RECVERR) ||
                               (c->cmsg_level == libc.IPPROTO_IPV6 && c->cmsg_type == libc.IPV6_RECVERR);
                if (!ipError)
                {
                    continue;
                }
                var ee = (libc.sock_extended_err*)((byte*)c + sizeof(libc.cmsghdr));
                if ((ee->ee_origin == libc.SO_EE_ORIGIN_ICMP || ee->ee_origin == libc.SO_EE_ORIGIN_ICMP6) && msg.msg_namelen > 0)
                {
                    onError(SocketAddressNative.Read(name), (int)ee->ee_errno);
                }
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes made of segments of <paramref name="segmentSize"/> (the last may be
    /// shorter) to one destination: a single GSO sendmsg where possible, else one datagram per segment.
    /// </summary>
    internal void Send(byte* data, int length, int segmentSize, void* address, int addressLength)
    {
        if (length > segmentSize && GsoEnabled)
        {
            byte* control = stackalloc byte[32];
            new Span<byte>(control, 32).Clear();
            var c = (libc.cmsghdr*)control;
            c->cmsg_level = libc.SOL_UDP;
            c->cmsg_type = libc.UDP_SEGMENT;
            c->cmsg_len = (nuint)(sizeof(libc.cmsghdr) + sizeof(ushort));
            *(ushort*)(control + sizeof(libc.cmsghdr)) = (ushort)segmentSize;
            var iov = new libc.iovec { iov_base = data, iov_len = (nuint)length };
            var msg = new libc.msghdr
            {
                msg_name = address,
                msg_namelen = (uint)addressLength,
                msg_iov = &iov,
                msg_iovlen = 1,
                msg_control = control,
                msg_controllen = (nuint)Align(sizeof(libc.cmsghdr) + sizeof(ushort)),
            };
            int error = SendMessage(&msg);
            if (error == 0)
            {
                DatagramsSent += (length + segmentSize - 1) / segmentSize;
                return;
            }
            if (error is libc.EIO or libc.EINVAL)
            {
                // The kernel or the device cannot segment: never try again, send one by one.
                GsoEnabled = false;
            }
            else
            {
                DatagramsRefused += (length + segmentSize - 1) / segmentSize;
                return; // dropped; QUIC's loss recovery resends it
            }
        }
        SendEach(data, length, segmentSize, address, addressLength);
    }

    /// <summary>Without GSO: one sendmmsg for all the segments (still a single system call per batch).</summary>
    private void SendEach(byte* data, int length, int segmentSize, void* address, int addressLength)
    {
        const int MaxBatch = 64;
        libc.mmsghdr* msgs = stackalloc libc.mmsghdr[MaxBatch];
        libc.iovec* iovs = stackalloc libc.iovec[MaxBatch];
        int offset = 0;
        while (offset < length)
        {
            int count = 0;
            for (; count < MaxBatch && offset < length; count++)
            {
                int size = Math.Min(segmentSize, length - offset);
                iovs[count] = new libc.iovec { iov_base = data + offset, iov_len = (nuint)size };
                msgs[count] = default;
                msgs[count].msg_hdr.msg_name = address;
                msgs[count].msg_hdr.msg_namelen = (uint)addressLength;
                msgs[count].msg_hdr.msg_iov = &iovs[count];
                msgs[count].msg_hdr.msg_iovlen = 1;
                offset += size;
            }
            for (int sent = 0; sent < count;)
            {
                int n = libc.sendmmsg(_fd, msgs + sent, (uint)(count - sent), 0);
                if (n > 0)
                {
                    sent += n;
                    DatagramsSent += n;
                    continue;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == libc.EINTR)
                {
                    continue;
                }
                if (errno is libc.EAGAIN or libc.ENOBUFS && WaitWritable())
                {
                    continue;
                }
                if (errno == libc.EMSGSIZE)
                {
                    sent++; // larger than the local link (a path MTU probe): lose that one, send the rest
                    DatagramsRefused++;
                    continue;
                }
                DatagramsRefused += count - sent;
                return; // dropped; QUIC's loss recovery resends
            }
        }
    }

    private int _writableWaits;

    /// <summary>Waits up to 5 ms for room in the send buffer; gives up after a few tries per call site.</summary>
    private bool WaitWritable()
    {
        if (++_writableWaits > 3)
        {
            _writableWaits = 0;
            return false;
        }
        var pfd = new libc.pollfd { fd = _fd, events = libc.POLLOUT };
        libc.poll(&pfd, 1, 5);
        return true;
    }

    /// <summary>Sends, waiting briefly for room when the socket buffer is full. Returns 0 or the errno.</summary>
    private int SendMessage(libc.msghdr* msg)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (libc.sendmsg(_fd, msg, 0) >= 0)
            {
                return 0;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == libc.EINTR)
            {
                continue;
            }
            if ((errno == libc.EAGAIN || errno == libc.ENOBUFS) && attempt < 3)
            {
                // The send buffer is full. Waiting for room (bounded) beats dropping: a drop reads as congestion.
                var pfd = new libc.pollfd { fd = _fd, events = libc.POLLOUT };
                libc.poll(&pfd, 1, 5);
                continue;
            }
            return errno;
        }
    }

    private void SetBuffer(int forceOption, int option, int size)
    {
        if (libc.setsockopt(_fd, libc.SOL_SOCKET, forceOption, &size, sizeof(int)) != 0)
        {
            libc.setsockopt(_fd, libc.SOL_SOCKET, option, &size, sizeof(int));
        }
    }

    private static int Align(int length) => (length + 7) & ~7;

    private static libc.cmsghdr* NextControl(byte* control, int controlLength, libc.cmsghdr* current)
    {
        if (current == null)
        {
            return controlLength >= sizeof(libc.cmsghdr) ? (libc.cmsghdr*)control : null;
        }
        byte* next = (byte*)current + Align((int)current->cmsg_len);
        if (current->cmsg_len < (nuint)sizeof(libc.cmsghdr) || next + sizeof(libc.cmsghdr) > control + controlLength)
        {
            return null;
        }
        return (libc.cmsghdr*)next;
    }

    private static int FindControlInt(void* control, int controlLength, int level, int type)
    {
        for (var c = NextControl((byte*)control, controlLength, null); c != null; c = NextControl((byte*)control, controlLength, c))
        {
            if (c->cmsg_level == level && c->cmsg_type == type)
            {
                return *(int*)((byte*)c + sizeof(libc.cmsghdr));
            }
        }
        return 0;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _socket.Dispose();
        NativeMemory.AlignedFree(_rxBuffers);
        NativeMemory.Free(_rxNames);
        NativeMemory.Free(_rxControl);
        NativeMemory.Free(_rxMsgs);
        NativeMemory.Free(_rxIov);
    }
}
