using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Internal;

/// <summary>Converts between <see cref="IPEndPoint"/> and the kernel's sockaddr_in / sockaddr_in6.</summary>
internal static unsafe class SocketAddressNative
{
    internal const int MaxLength = 28; // sizeof(sockaddr_in6)

    /// <summary>
    /// Writes <paramref name="endPoint"/> as a sockaddr for a socket of <paramref name="socketFamily"/>: an IPv4
    /// address becomes v4-mapped when the socket is a dual-stack IPv6 one. Returns the length written.
    /// </summary>
    internal static int Write(IPEndPoint endPoint, AddressFamily socketFamily, byte* dest)
    {
        new Span<byte>(dest, MaxLength).Clear();
        IPAddress address = endPoint.Address;
        if (socketFamily == AddressFamily.InterNetworkV6 && address.AddressFamily == AddressFamily.InterNetwork)
        {
            address = address.MapToIPv6();
        }
        else if (socketFamily == AddressFamily.InterNetwork && address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != socketFamily)
        {
            throw new ArgumentException($"Cannot reach {endPoint} from a {(socketFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} socket.", nameof(endPoint));
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var sin = (libc.sockaddr_in*)dest;
            sin->sin_family = libc.AF_INET;
            sin->sin_port = BinaryPrimitives.ReverseEndianness((ushort)endPoint.Port);
            address.TryWriteBytes(new Span<byte>(&sin->sin_addr, 4), out _);
            return sizeof(libc.sockaddr_in);
        }
        var sin6 = (libc.sockaddr_in6*)dest;
        sin6->sin6_family = libc.AF_INET6;
        sin6->sin6_port = BinaryPrimitives.ReverseEndianness((ushort)endPoint.Port);
        address.TryWriteBytes(new Span<byte>(sin6->sin6_addr, 16), out _);
        sin6->sin6_scope_id = (uint)address.ScopeId;
        return sizeof(libc.sockaddr_in6);
    }

    internal static IPEndPoint Read(void* addr)
    {
        ushort family = *(ushort*)addr;
        if (family == libc.AF_INET)
        {
            var sin = (libc.sockaddr_in*)addr;
            return new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(&sin->sin_addr, 4)), BinaryPrimitives.ReverseEndianness(sin->sin_port));
        }
        var sin6 = (libc.sockaddr_in6*)addr;
        var ip = new IPAddress(new ReadOnlySpan<byte>(sin6->sin6_addr, 16), sin6->sin6_scope_id);
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        return new IPEndPoint(ip, BinaryPrimitives.ReverseEndianness(sin6->sin6_port));
    }

    /// <summary>Byte equality of two sockaddrs of the given lengths.</summary>
    internal static bool Equal(void* a, int aLength, void* b, int bLength) =>
        aLength == bLength && new ReadOnlySpan<byte>(a, aLength).SequenceEqual(new ReadOnlySpan<byte>(b, bLength));
}
