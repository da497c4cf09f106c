using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace TensorProtocol.Cli.Demo;

/// <summary>
/// The demo itself: two nodes on loopback in this process, alice and bob, each with a fresh identity. Alice pushes a
/// model-and-batch set and a large shard to bob; bob serves the shard back and alice pulls it; then many 4 KiB pushes
/// and pulls measure latency. Every arrival is checked against what was sent.
/// </summary>
internal sealed class DemoRun(int shardMib, int latencySamples, ILoggerFactory loggers, Action<string> step)
{
    private const string ProbeName = "probe.4k";

    // The node API has its own connect and request timeouts; this bounds the wait for a pushed tensor to be dequeued.
    private static readonly TimeSpan s_receiveTimeout = TimeSpan.FromSeconds(30);

    public async Task<DemoResult> RunAsync(CancellationToken cancellationToken)
    {
        var options = new TensorNodeOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0), LoggerFactory = loggers };
        step("starting alice and bob");
        TensorNode alice = await TensorNode.StartAsync(options, cancellationToken).ConfigureAwait(false);
        await using (alice.ConfigureAwait(false))
        {
            TensorNode bob = await TensorNode.StartAsync(options, cancellationToken).ConfigureAwait(false);
            await using (bob.ConfigureAwait(false))
            {
                var arrivals = new List<Arrival>();

                List<(string Name, TensorData Tensor)> set = DemoTensors.ModelSet();
                step($"alice pushes {set.Count} tensors to bob");
                foreach ((string name, TensorData tensor) in set)
                {
                    await alice.SendAsync(bob.Ticket, name, tensor, cancellationToken).ConfigureAwait(false);
                }
                foreach ((string name, TensorData tensor) in set)
                {
                    arrivals.Add((await ReceivedAsync(bob, alice.NodeId, name, tensor, cancellationToken).ConfigureAwait(false)).Arrival);
                }

                step($"preparing a {shardMib} MiB shard");
                TensorData shard = DemoTensors.Shard(shardMib);
                step($"alice pushes the {shardMib} MiB shard to bob");
                long start = Stopwatch.GetTimestamp();
                await alice.SendAsync(bob.Ticket, DemoTensors.ShardName, shard, cancellationToken).ConfigureAwait(false);
                var push = new TransferTime(shard.Metadata.ByteLength, Stopwatch.GetElapsedTime(start));
                (Arrival pushed, TensorData bobsCopy) = await ReceivedAsync(bob, alice.NodeId, DemoTensors.ShardName, shard, cancellationToken).ConfigureAwait(false);
                arrivals.Add(pushed);

                // Bob serves the copy he received, so the pull checks the whole round trip alice -> bob -> alice.
                bob.Register(DemoTensors.ShardName, bobsCopy);
                step($"alice pulls the {shardMib} MiB shard back from bob");
                start = Stopwatch.GetTimestamp();
                TensorData pulledShard = await alice.RequestAsync(bob.Ticket, DemoTensors.ShardName, cancellationToken).ConfigureAwait(false);
                var pull = new TransferTime(pulledShard.Metadata.ByteLength, Stopwatch.GetElapsedTime(start));
                arrivals.Add(Arrival.Check("pull", DemoTensors.ShardName, shard, pulledShard, "bob", fromExpectedSender: true));
                bob.Unregister(DemoTensors.ShardName);

                step($"measuring 4 KiB latency ({latencySamples} pushes, {latencySamples} pulls)");
                TensorData probe = DemoTensors.Probe();
                LatencySummary pushLatency = await MeasureAsync(async () =>
                {
                    await alice.SendAsync(bob.Ticket, ProbeName, probe, cancellationToken).ConfigureAwait(false);
                    // Acknowledged means queued at bob, so the probe is there to take.
                    return bob.TryReceive(out ReceivedTensor? got) && got.Sender == alice.NodeId && got.Data.Payload.Span.SequenceEqual(probe.Payload.Span);
                }).ConfigureAwait(false);
                bob.Register(ProbeName, probe);
                LatencySummary pullLatency = await MeasureAsync(async () =>
                {
                    TensorData got = await alice.RequestAsync(bob.Ticket, ProbeName, cancellationToken).ConfigureAwait(false);
                    return got.Payload.Span.SequenceEqual(probe.Payload.Span);
                }).ConfigureAwait(false);

                return new DemoResult(alice.NodeId, bob.NodeId, bob.LocalEndPoint, arrivals, push, pull, pushLatency, pullLatency);
            }
        }
    }

    private static async Task<(Arrival Arrival, TensorData Received)> ReceivedAsync(TensorNode bob, NodeId alice, string name, TensorData sent, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_receiveTimeout);
        ReceivedTensor received;
        try
        {
            received = await bob.ReceiveAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Other, $"demo: bob acknowledged '{name}' but it was not in his queue within {s_receiveTimeout.TotalSeconds:0} s.");
        }
        if (received.Name != name)
        {
            throw new CliException(ExitCodes.Other, $"demo: bob expected '{name}' next but received '{received.Name}'; each push was acknowledged before the next began.");
        }
        bool fromAlice = received.Sender == alice;
        return (Arrival.Check("push", name, sent, received.Data, fromAlice ? "alice" : received.Sender.ToString(), fromAlice), received.Data);
    }

    private async Task<LatencySummary> MeasureAsync(Func<Task<bool>> roundTrip)
    {
        // Warm-up rounds (JIT, pooled connection, congestion window) are not measured.
        int warmUp = Math.Max(10, latencySamples / 10);
        int intact = 0;
        for (int i = 0; i < warmUp; i++)
        {
            intact += await roundTrip().ConfigureAwait(false) ? 1 : 0;
        }
        var samples = new List<TimeSpan>(latencySamples);
        for (int i = 0; i < latencySamples; i++)
        {
            long start = Stopwatch.GetTimestamp();
            bool ok = await roundTrip().ConfigureAwait(false);
            samples.Add(Stopwatch.GetElapsedTime(start));
            intact += ok ? 1 : 0;
        }
        return LatencySummary.From(samples, warmUp + latencySamples, intact);
    }
}
