using System.Net;

namespace TensorProtocol.Tests;

/// <summary>Nodes on 127.0.0.1 with ephemeral ports; bounded waits everywhere.</summary>
public abstract class NodeTestBase
{
    internal static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    internal static CancellationToken Timeout(TimeSpan? limit = null) => new CancellationTokenSource(limit ?? TestTimeout).Token;

    internal static TensorNodeOptions Options(Func<TensorNodeOptions, TensorNodeOptions>? configure = null)
    {
        var options = new TensorNodeOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        return configure is null ? options : configure(options);
    }

    internal static Task<TensorNode> StartNodeAsync(Func<TensorNodeOptions, TensorNodeOptions>? configure = null) =>
        TensorNode.StartAsync(Options(configure));

    internal static TensorData Floats(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }
        return TensorData.FromArray(values, [count]);
    }
}
