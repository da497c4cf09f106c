using System.Diagnostics;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Measurements;

/// <summary>
/// Time to first response on a brand-new connection: connect (with any handshake), open a stream, send a 4 KiB
/// request, receive the 4 KiB echo. This is what a client pays before its first useful reply.
/// </summary>
internal static class ColdConnect
{
    public static async Task<double> MeasureMedianMillisecondsAsync(
        IBenchTransport transport, string endpointInfo, int warmup, int iterations, CancellationToken cancellationToken)
    {
        // Header and request in one write, as a real client would send its first request.
        byte[] firstWrite = new byte[Protocol.HeaderSize + Protocol.EchoMessageSize];
        Protocol.Header(Protocol.Echo, Protocol.EchoMessageSize).CopyTo(firstWrite, 0);
        Random.Shared.NextBytes(firstWrite.AsSpan(Protocol.HeaderSize));
        byte[] response = new byte[Protocol.EchoMessageSize];
        var ticks = new long[iterations];

        // Negative indexes are warm-up connections: the first ones pay one-off costs (JIT, TLS library set-up).
        for (int i = -warmup; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await using IBenchClientConnection connection = await transport.ConnectAsync(endpointInfo, cancellationToken);
            await using Stream stream = await connection.OpenStreamAsync(cancellationToken);
            await stream.WriteAsync(firstWrite, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            await stream.ReadExactlyAsync(response, cancellationToken);
            long elapsed = Stopwatch.GetTimestamp() - start;
            if (i >= 0)
            {
                ticks[i] = elapsed;
            }
            // Closing (the end of this iteration's scope) is not timed.
        }
        return Statistics.Percentile(ticks, 0.50) * 1e3 / Stopwatch.Frequency;
    }
}
