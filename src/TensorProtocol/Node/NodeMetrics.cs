using System.Diagnostics.Metrics;

namespace TensorProtocol.Node;

/// <summary>
/// System.Diagnostics.Metrics instruments (meter "TensorProtocol"), readable by OpenTelemetry or dotnet-counters.
/// </summary>
internal sealed class NodeMetrics : IDisposable
{
    internal const string MeterName = "TensorProtocol";

    private readonly Meter _meter;
    private readonly Counter<long> _tensorsSent, _bytesSent, _tensorsReceived, _bytesReceived, _refusals, _opened, _evicted;
    private readonly Histogram<double> _sendDuration;

    internal NodeMetrics(Func<int> poolSize)
    {
        _meter = new Meter(MeterName);
        _tensorsSent = _meter.CreateCounter<long>("tensorp.tensors.sent", "{tensor}", "Tensors pushed and acknowledged");
        _bytesSent = _meter.CreateCounter<long>("tensorp.bytes.sent", "By", "Payload bytes pushed and acknowledged");
        _tensorsReceived = _meter.CreateCounter<long>("tensorp.tensors.received", "{tensor}", "Tensors received into the queue");
        _bytesReceived = _meter.CreateCounter<long>("tensorp.bytes.received", "By", "Payload bytes received into the queue");
        _refusals = _meter.CreateCounter<long>("tensorp.refusals", "{request}", "Requests this node refused");
        _opened = _meter.CreateCounter<long>("tensorp.connections.opened", "{connection}", "Pooled connections dialed");
        _evicted = _meter.CreateCounter<long>("tensorp.connections.evicted", "{connection}", "Pooled connections closed for idleness or room");
        _sendDuration = _meter.CreateHistogram<double>("tensorp.send.duration", "s", "Time from SendAsync to the receiver's acknowledgement");
        _meter.CreateObservableGauge("tensorp.pool.size", poolSize, "{connection}", "Pooled connections");
    }

    internal void Sent(long bytes, TimeSpan duration)
    {
        _tensorsSent.Add(1);
        _bytesSent.Add(bytes);
        _sendDuration.Record(duration.TotalSeconds);
    }

    internal void Received(long bytes)
    {
        _tensorsReceived.Add(1);
        _bytesReceived.Add(bytes);
    }

    internal void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void ConnectionOpened() => _opened.Add(1);

    internal void ConnectionEvicted() => _evicted.Add(1);

    public void Dispose() => _meter.Dispose();
}
