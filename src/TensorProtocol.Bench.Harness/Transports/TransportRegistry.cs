namespace TensorProtocol.Bench.Transports;

/// <summary>The transports the benchmark knows, in report order. A new transport only needs a line here.</summary>
internal static class TransportRegistry
{
    public static IReadOnlyList<IBenchTransport> All { get; } =
    [
        new TcpTransport(),
        new TlsTcpTransport(),
        new QuicTransport("quic", maxDatagramSize: 1452),
        // Loopback and jumbo-frame LANs carry far larger datagrams; fewer packets cost far less CPU.
        new QuicTransport("quic-large-datagram", maxDatagramSize: 65000),
    ];

    public static IBenchTransport? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
