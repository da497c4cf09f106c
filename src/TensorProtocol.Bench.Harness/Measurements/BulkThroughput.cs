using System.Buffers.Binary;
using System.Diagnostics;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Measurements;

/// <summary>
/// One-way bulk transfer, client to server, over a single stream: throughput, and the CPU both processes spend on
/// it.
/// </summary>
internal static class BulkThroughput
{
    private const double Mib = 1 << 20;
    private const double Gib = 1 << 30;

    /// <summary>From this size on, one timed transfer lasts long enough to stand on its own.</summary>
    private const long SingleSampleBytes = 64L << 20;

    /// <summary>Transfers timed for a smaller size; the median one is reported (a 1 MiB push lasts ~2 ms).</summary>
    private const int SmallSizeSamples = 9;

    /// <summary>
    /// Times <paramref name="timeOne"/> once for a large size, or <see cref="SmallSizeSamples"/> times for a small one,
    /// and reports the sample with the median elapsed time.
    /// </summary>
    public static async Task<BulkResult> MeasureSizeAsync(long bytes, Func<Task<Sample>> timeOne)
    {
        var samples = new List<Sample>();
        for (int i = 0; i < (bytes >= SingleSampleBytes ? 1 : SmallSizeSamples); i++)
        {
            samples.Add(await timeOne());
        }
        samples.Sort(static (a, b) => a.Elapsed.CompareTo(b.Elapsed));
        return samples[samples.Count / 2].ToResult(bytes);
    }

    /// <summary>
    /// <see cref="MeasureSizeAsync"/> after one untimed transfer of the same size, whose rate is logged: every target's
    /// timed transfers are repeats of a size it moved before. That is what a stream transport's receiver always has (it
    /// reads into one reused buffer) and what a node has once it released an earlier tensor of the size (its receive
    /// buffer pool); the first transfer shows what landing in fresh memory costs.
    /// </summary>
    public static async Task<BulkResult> MeasureRepeatedSizeAsync(long bytes, Func<Task<Sample>> timeOne, string label)
    {
        BulkResult first = (await timeOne()).ToResult(bytes);
        ChildLog.Progress(label, $"bulk {BenchSizes.Format(bytes)}: first transfer {first.MibPerSecond:F0} MiB/s ({first.CpuSecondsPerGib:F2} CPU s/GiB), untimed");
        return await MeasureSizeAsync(bytes, timeOne);
    }

    /// <summary>Wall-clock time of one transfer, and the CPU time each process spent meanwhile.</summary>
    public readonly record struct Sample(TimeSpan Elapsed, TimeSpan ClientCpu, TimeSpan ServerCpu)
    {
        public BulkResult ToResult(long bytes) =>
            new(bytes, bytes / Mib / Elapsed.TotalSeconds, (ClientCpu + ServerCpu).TotalSeconds / (bytes / Gib));
    }

    /// <summary>
    /// A warm-up transfer, then per size of <paramref name="settings"/>, smallest first, an untimed transfer and the
    /// timed ones (one for a large size, the median of several for a small one), each on a connection of its own.
    /// </summary>
    public static async Task<IReadOnlyList<BulkResult>> MeasureAsync(
        IBenchTransport transport, ServerProcess server, RunSettings settings, string label, CancellationToken cancellationToken)
    {
        // One pinned buffer, filled once with random bytes (so nothing on the path can compress it) and sent over
        // and over: the sender allocates nothing per chunk.
        byte[] chunk = GC.AllocateUninitializedArray<byte>(Protocol.BulkChunkSize, pinned: true);
        Random.Shared.NextBytes(chunk);

        // A short transfer first, so JIT tiering and socket buffer growth are not billed to the measured ones.
        await TransferAsync(transport, server, chunk, settings.BulkWarmupBytes, cancellationToken);
        var results = new List<BulkResult>();
        foreach (long bytes in settings.BulkSizes)
        {
            ChildLog.Progress(label, $"bulk {BenchSizes.Format(bytes)}");
            results.Add(await MeasureRepeatedSizeAsync(bytes, () => TransferAsync(transport, server, chunk, bytes, cancellationToken), label));
        }
        return results;
    }

    /// <summary>
    /// Times <paramref name="transfer"/>, which must complete only once the server has everything, and measures the
    /// CPU both processes spend meanwhile. Set up the connection before: handshakes are the cold-connect
    /// measurement's business.
    /// </summary>
    public static async Task<Sample> TimeAsync(
        ServerProcess server, Func<CancellationToken, Task> transfer, CancellationToken cancellationToken)
    {
        // The server is asked first and last, so the client's side of those requests falls outside its own window.
        TimeSpan serverCpu0 = await server.ReadCpuTimeAsync(cancellationToken);
        TimeSpan clientCpu0 = Environment.CpuUsage.TotalTime;
        long start = Stopwatch.GetTimestamp();

        await transfer(cancellationToken);

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        TimeSpan clientCpu = Environment.CpuUsage.TotalTime - clientCpu0;
        TimeSpan serverCpu = await server.ReadCpuTimeAsync(cancellationToken) - serverCpu0;
        return new Sample(elapsed, clientCpu, serverCpu);
    }

    private static async Task<Sample> TransferAsync(
        IBenchTransport transport, ServerProcess server, byte[] chunk, long bytes, CancellationToken cancellationToken)
    {
        await using IBenchClientConnection connection = await transport.ConnectAsync(server.EndpointInfo, cancellationToken);
        await using Stream stream = await connection.OpenStreamAsync(cancellationToken);
        byte[] header = Protocol.Header(Protocol.Bulk, bytes);
        var ack = new byte[Protocol.AckSize];

        Sample sample = await TimeAsync(server, async ct =>
        {
            await stream.WriteAsync(header, ct);
            if (stream is IBulkStream bulk)
            {
                await bulk.SendRepeatedAsync(chunk, bytes, ct);
            }
            else
            {
                for (long remaining = bytes; remaining > 0;)
                {
                    int n = (int)Math.Min(chunk.Length, remaining);
                    await stream.WriteAsync(chunk.AsMemory(0, n), ct);
                    remaining -= n;
                }
            }
            await stream.FlushAsync(ct);
            // The server acks only after reading every byte, so this is end-to-end time, not time to fill buffers.
            await stream.ReadExactlyAsync(ack, ct);
        }, cancellationToken);

        long acked = BinaryPrimitives.ReadInt64LittleEndian(ack);
        if (acked != bytes)
        {
            throw new InvalidDataException($"The server acknowledged {acked} bytes, not {bytes}.");
        }
        return sample;
    }
}
