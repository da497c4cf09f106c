using System.Diagnostics;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Measurements;

/// <summary>
/// Request/response latency on an established connection. For a stream transport: the client sends a 4 KiB
/// request, the server echoes it, and the client waits for all of it before sending the next.
/// </summary>
internal static class RoundTripLatency
{
    public readonly record struct Result(double P50Microseconds, double P99Microseconds);

    public static async Task<Result> MeasureAsync(
        IBenchTransport transport, string endpointInfo, int warmup, int iterations, CancellationToken cancellationToken)
    {
        await using IBenchClientConnection connection = await transport.ConnectAsync(endpointInfo, cancellationToken);
        await using Stream stream = await connection.OpenStreamAsync(cancellationToken);
        await stream.WriteAsync(Protocol.Header(Protocol.Echo, Protocol.EchoMessageSize), cancellationToken);

        byte[] request = GC.AllocateUninitializedArray<byte>(Protocol.EchoMessageSize, pinned: true);
        byte[] response = GC.AllocateUninitializedArray<byte>(Protocol.EchoMessageSize, pinned: true);
        Random.Shared.NextBytes(request);

        Result result = await MeasureAsync(async ct =>
        {
            await stream.WriteAsync(request, ct);
            await stream.FlushAsync(ct);
            await stream.ReadExactlyAsync(response, ct);
        }, warmup, iterations, cancellationToken);

        if (!request.AsSpan().SequenceEqual(response))
        {
            throw new InvalidDataException("The echo differs from the request.");
        }
        return result;
    }

    /// <summary>
    /// Runs <paramref name="roundTrip"/> <paramref name="warmup"/> times unrecorded, then
    /// <paramref name="iterations"/> times recorded, one after the other; p50 and p99 of the recorded ones.
    /// </summary>
    public static async Task<Result> MeasureAsync(
        Func<CancellationToken, Task> roundTrip, int warmup, int iterations, CancellationToken cancellationToken)
    {
        var ticks = new long[iterations];
        // Negative indexes are the warm-up round trips: same work, not recorded.
        for (int i = -warmup; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await roundTrip(cancellationToken);
            long elapsed = Stopwatch.GetTimestamp() - start;
            if (i >= 0)
            {
                ticks[i] = elapsed;
            }
        }
        return new Result(
            Statistics.Percentile(ticks, 0.50) * 1e6 / Stopwatch.Frequency,
            Statistics.Percentile(ticks, 0.99) * 1e6 / Stopwatch.Frequency);
    }
}
