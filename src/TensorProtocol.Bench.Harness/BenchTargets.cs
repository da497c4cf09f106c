using System.Globalization;

namespace TensorProtocol.Bench;

/// <summary>The issues' targets, each evaluated when the rows it needs ran in the same invocation (ratios within one run).</summary>
internal static class BenchTargets
{
    public const string TensorPush = "tensorp-push";
    public const string GrpcTls = "grpc-tls";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IReadOnlyList<TargetCheck> Evaluate(IReadOnlyList<TransportResult> results)
    {
        var checks = new List<TargetCheck>();
        if (Find(results, TensorPush) is not { } push)
        {
            return checks;
        }

        // Issue 4: against the best gRPC configuration, over TLS like TensorProtocol itself.
        if (Find(results, GrpcTls) is { } grpc)
        {
            // The largest size both measured: 1 GiB in a full run.
            long size = push.Bulk.Select(b => b.Bytes).Intersect(grpc.Bulk.Select(b => b.Bytes)).DefaultIfEmpty().Max();
            if (size > 0)
            {
                double ours = push.BulkOf(size)!.MibPerSecond, theirs = grpc.BulkOf(size)!.MibPerSecond;
                checks.Add(new TargetCheck(
                    $"{BenchSizes.Format(size)} push MiB/s, {TensorPush} / {GrpcTls}", ours / theirs, ">= 2x", ours / theirs >= 2,
                    string.Create(Invariant, $"{ours:0.0} / {theirs:0.0} MiB/s")));
            }
            checks.Add(new TargetCheck(
                $"4KiB push p50, {TensorPush} / {GrpcTls} unary", push.RttP50Microseconds / grpc.RttP50Microseconds, "<= 0.6x",
                push.RttP50Microseconds / grpc.RttP50Microseconds <= 0.6,
                string.Create(Invariant, $"{push.RttP50Microseconds:0.0} / {grpc.RttP50Microseconds:0.0} us")));
        }

        // Issue 3: against the raw transports.
        if (Find(results, "tcp") is { } tcp)
        {
            double ratio = push.RttP50Microseconds / tcp.RttP50Microseconds;
            checks.Add(new TargetCheck(
                $"4KiB push p50, {TensorPush} / tcp rtt", ratio, "<= 2.5x", ratio <= 2.5,
                string.Create(Invariant, $"{push.RttP50Microseconds:0.0} / {tcp.RttP50Microseconds:0.0} us")));
        }
        checks.Add(new TargetCheck(
            $"cold first send, {TensorPush}", push.ColdMilliseconds, "<= 3 ms", push.ColdMilliseconds <= 3,
            string.Create(Invariant, $"{push.ColdMilliseconds:0.000} ms")));
        // "The protocol adds almost nothing": against issue 2's stream benchmark (1452-byte packets), and against the same
        // stream with the datagram size a node uses on loopback, which is the like-for-like comparison.
        foreach (string stream in (ReadOnlySpan<string>)["quic", "quic-large-datagram"])
        {
            if (Find(results, stream) is { } quic)
            {
                double ratio = push.MibPerSecond / quic.MibPerSecond;
                checks.Add(new TargetCheck(
                    $"largest push MiB/s, {TensorPush} / {stream}", ratio, ">= 0.9x", ratio >= 0.9,
                    string.Create(Invariant, $"{push.MibPerSecond:0.0} / {quic.MibPerSecond:0.0} MiB/s")));
            }
        }
        return checks;
    }

    public static TransportResult? Find(IReadOnlyList<TransportResult> results, string transport) =>
        results.FirstOrDefault(r => r.Transport == transport);
}
