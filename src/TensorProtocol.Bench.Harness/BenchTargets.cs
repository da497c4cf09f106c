using System.Globalization;

namespace TensorProtocol.Bench;

/// <summary>
/// The issues' targets (2: the QUIC layer; 3 and 4: the tensor push), each evaluated when the rows it needs ran in the
/// same invocation (ratios within one run, or within each round).
/// </summary>
internal static class BenchTargets
{
    public const string TensorPush = "tensorp-push";
    public const string GrpcTls = "grpc-tls";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// The targets over several rounds: each evaluated within every round, then the median of the values of the rounds
    /// that could evaluate it (a round where one of its rows failed cannot).
    /// </summary>
    public static IReadOnlyList<TargetCheck> Evaluate(IReadOnlyList<IReadOnlyList<TransportResult>> rounds)
    {
        if (rounds.Count <= 1)
        {
            return rounds.Count == 0 ? [] : Evaluate(rounds[0]);
        }
        IReadOnlyList<TargetCheck>[] perRound = [.. rounds.Select(Evaluate)];
        return [.. perRound.SelectMany(r => r).Select(c => c.Name).Distinct()
            .Select(name => TargetCheck.Median([.. perRound.SelectMany(r => r).Where(c => c.Name == name)], rounds.Count))];
    }

    public static IReadOnlyList<TargetCheck> Evaluate(IReadOnlyList<TransportResult> results)
    {
        var checks = new List<TargetCheck>();
        EvaluateQuic(results, checks);
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
                checks.Add(Throughput($"{BenchSizes.Format(size)} push MiB/s, {TensorPush} / {GrpcTls}",
                    push.BulkOf(size)!.MibPerSecond, grpc.BulkOf(size)!.MibPerSecond, 2));
            }
            checks.Add(Latency($"4KiB push p50, {TensorPush} / {GrpcTls} unary", push, grpc, 0.6));
        }

        // Issue 3: against the raw transports.
        if (Find(results, "tcp") is { } tcp)
        {
            checks.Add(Latency($"4KiB push p50, {TensorPush} / tcp rtt", push, tcp, 2.5));
        }
        checks.Add(Cold($"cold first send, {TensorPush}", push));
        // "The protocol adds almost nothing": against issue 2's stream benchmark (1452-byte packets), and against the same
        // stream with the datagram size a node uses on loopback, which is the like-for-like comparison.
        foreach (string stream in (ReadOnlySpan<string>)["quic", "quic-large-datagram"])
        {
            if (Find(results, stream) is { } quic)
            {
                checks.Add(Throughput($"largest push MiB/s, {TensorPush} / {stream}", push.MibPerSecond, quic.MibPerSecond, 0.9));
            }
        }
        return checks;
    }

    /// <summary>Issue 2: the QUIC layer against TLS over TCP and raw TCP.</summary>
    private static void EvaluateQuic(IReadOnlyList<TransportResult> results, List<TargetCheck> checks)
    {
        TransportResult? tls = Find(results, "tls-tcp");
        TransportResult? quic = Find(results, "quic");
        TransportResult? large = Find(results, "quic-large-datagram");
        if (tls is not null && quic is not null)
        {
            checks.Add(Throughput("largest MiB/s, quic (1452-byte packets) / tls-tcp", quic.MibPerSecond, tls.MibPerSecond, 0.6));
        }
        if (tls is not null && large is not null)
        {
            checks.Add(Throughput("largest MiB/s, quic-large-datagram / tls-tcp", large.MibPerSecond, tls.MibPerSecond, 1.0));
        }
        if (quic is not null)
        {
            checks.Add(Cold("cold connect + first 4KiB round trip, quic", quic));
            if (Find(results, "tcp") is { } tcp)
            {
                checks.Add(Latency("4KiB round trip p50, quic / tcp", quic, tcp, 2.5));
            }
        }
    }

    private static TargetCheck Throughput(string name, double ours, double theirs, double atLeast) =>
        new(name, ours / theirs, atLeast, AtLeast: true, "x", string.Create(Invariant, $"{ours:0.0} / {theirs:0.0} MiB/s"));

    private static TargetCheck Latency(string name, TransportResult ours, TransportResult theirs, double atMost) =>
        new(name, ours.RttP50Microseconds / theirs.RttP50Microseconds, atMost, AtLeast: false, "x",
            string.Create(Invariant, $"{ours.RttP50Microseconds:0.0} / {theirs.RttP50Microseconds:0.0} us"));

    private static TargetCheck Cold(string name, TransportResult row) =>
        new(name, row.ColdMilliseconds, 3, AtLeast: false, " ms", string.Create(Invariant, $"{row.ColdMilliseconds:0.000} ms"));

    public static TransportResult? Find(IReadOnlyList<TransportResult> results, string transport) =>
        results.FirstOrDefault(r => r.Transport == transport);
}
