using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Server;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Targets;

/// <summary>A byte-stream transport, measured with the stream <see cref="Protocol"/> (bulk sink, echo).</summary>
internal sealed class StreamTransportTarget(IBenchTransport transport) : IBenchTarget
{
    public string Name => transport.Name;

    public Task<int> RunServerAsync(int port, RunSettings settings) => ServerMode.RunAsync(transport, port);

    public Task<TransportResult> MeasureAsync(RunSettings settings, string label, CancellationToken cancellationToken) =>
        TransportRun.RunAsync(transport, settings, label, cancellationToken);
}
