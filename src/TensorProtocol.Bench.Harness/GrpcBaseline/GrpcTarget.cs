using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// What a user would push tensors with instead: gRPC (ASP.NET Core's server on Kestrel, Grpc.Net.Client), over
/// TLS 1.3 (<c>grpc-tls</c>, the baseline TensorProtocol's targets name) or cleartext HTTP/2 (<c>grpc-h2c</c>).
/// </summary>
internal sealed class GrpcTarget(bool tls) : IBenchTarget
{
    public string Name => tls ? "grpc-tls" : "grpc-h2c";

    public Task<int> RunServerAsync(int port, RunSettings settings) => GrpcServer.RunAsync(Name, tls, port);

    public Task<TransportResult> MeasureAsync(RunSettings settings, string label, CancellationToken cancellationToken) =>
        GrpcRun.RunAsync(Name, settings, label, cancellationToken);
}
