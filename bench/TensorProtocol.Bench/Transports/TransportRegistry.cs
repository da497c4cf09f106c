namespace TensorProtocol.Bench.Transports;

/// <summary>The transports the benchmark knows, in report order. A new transport only needs a line here.</summary>
internal static class TransportRegistry
{
    public static IReadOnlyList<IBenchTransport> All { get; } =
    [
        new TcpTransport(),
        new TlsTcpTransport(),
    ];

    public static IBenchTransport? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
