using TensorProtocol.Bench.GrpcBaseline;
using TensorProtocol.Bench.Tensors;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Targets;

/// <summary>Everything the benchmark measures, in report order: the stream transports, the tensor node, then gRPC.</summary>
internal static class TargetRegistry
{
    public static IReadOnlyList<IBenchTarget> All { get; } =
    [
        .. TransportRegistry.All.Select(t => new StreamTransportTarget(t)),
        new TensorNodeTarget(TensorOperation.Push),
        new TensorNodeTarget(TensorOperation.Pull),
        new GrpcTarget(tls: true),
        new GrpcTarget(tls: false),
    ];

    public static IBenchTarget? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
