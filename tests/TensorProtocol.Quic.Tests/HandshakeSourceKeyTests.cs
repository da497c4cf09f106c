using System.Net;
using System.Net.Sockets;
using TensorProtocol.Quic.Internal;

namespace TensorProtocol.Quic.Tests;

/// <summary>Which sources share a per-source handshake allowance (QuicEndpointOptions.MaxHandshakesPerAddress).</summary>
public sealed unsafe class HandshakeSourceKeyTests
{
    private static UInt128 Key(string address, int port, AddressFamily socketFamily)
    {
        byte* sockaddr = stackalloc byte[SocketAddressNative.MaxLength];
        SocketAddressNative.Write(new IPEndPoint(IPAddress.Parse(address), port), socketFamily, sockaddr);
        return QuicEndpoint.HandshakeSourceKey(sockaddr);
    }

    [Fact]
    public void IPv4_CountsByAddress_AlsoWhenMappedOntoAnIPv6Socket()
    {
        Assert.Equal(Key("192.0.2.7", 1000, AddressFamily.InterNetwork), Key("192.0.2.7", 2000, AddressFamily.InterNetwork));
        Assert.Equal(Key("192.0.2.7", 1000, AddressFamily.InterNetwork), Key("192.0.2.7", 3000, AddressFamily.InterNetworkV6));
        Assert.NotEqual(Key("192.0.2.7", 1000, AddressFamily.InterNetwork), Key("192.0.2.8", 1000, AddressFamily.InterNetwork));
    }

    [Fact]
    public void RoutableIPv6_CountsByItsSlash64()
    {
        UInt128 a = Key("2001:db8:1:2::1", 1000, AddressFamily.InterNetworkV6);
        Assert.Equal(a, Key("2001:db8:1:2:ffff:eeee:dddd:cccc", 2000, AddressFamily.InterNetworkV6));
        Assert.NotEqual(a, Key("2001:db8:1:3::1", 1000, AddressFamily.InterNetworkV6));
        // No IPv6 key equals an IPv4 one, whatever the bits.
        Assert.NotEqual(Key("::c000:207", 1000, AddressFamily.InterNetworkV6), Key("192.0.2.7", 1000, AddressFamily.InterNetwork));
    }

    [Fact]
    public void LinkLocalIPv6_CountsByItsWholeAddress()
    {
        UInt128 a = Key("fe80::1", 1000, AddressFamily.InterNetworkV6);
        Assert.Equal(a, Key("fe80::1", 2000, AddressFamily.InterNetworkV6));
        Assert.NotEqual(a, Key("fe80::2", 1000, AddressFamily.InterNetworkV6));
    }
}
