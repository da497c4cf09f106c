using System.Diagnostics;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Measurements;

/// <summary>
/// Time to first response from a brand-new client. For a stream transport: connect (with any handshake), open a
/// stream, send a 4 KiB request, receive the 4 KiB echo. This is what a client pays before its first useful reply.
/// </summary>
internal static class ColdConnect
{
    public static Task<double> MeasureMedianMillisecondsAsync(
        IBenchTransport transport, string endpointInfo, int warmup, int iterations, CancellationToken cancellationToken)
    {
        // Header and request in one write, as a real client would send its first request.
        byte[] firstWrite = new byte[Protocol.HeaderSize + Protocol.EchoMessageSize];
        Protocol.Header(Protocol.Echo, Protocol.EchoMessageSize).CopyTo(firstWrite, 0);
        Random.Shared.NextBytes(firstWrite.AsSpan(Protocol.HeaderSize));
        byte[] response = new byte[Protocol.EchoMessageSize];

        return MeasureMedianMillisecondsAsync(async ct =>
        {
            IBenchClientConnection connection = await transport.ConnectAsync(endpointInfo, ct);
            Stream? stream = null;
            try
            {
                stream = await connection.OpenStreamAsync(ct);
                await stream.WriteAsync(firstWrite, ct);
                await stream.FlushAsync(ct);
                await stream.ReadExactlyAsync(response, ct);
                return new OpenClient(stream, connection);
            }
            catch
            {
                await new OpenClient(stream, connection).DisposeAsync();
                throw;
            }
        }, warmup, iterations, cancellationToken);
    }

    /// <summary>
    /// Median time of <paramref name="firstRequest"/>, which creates a brand-new client, completes its first request
    /// and returns the client; closing that client is not timed. The first <paramref name="warmup"/> runs are not
    /// recorded: they pay one-off costs (JIT, TLS library set-up).
    /// </summary>
    public static async Task<double> MeasureMedianMillisecondsAsync(
        Func<CancellationToken, Task<IAsyncDisposable>> firstRequest, int warmup, int iterations, CancellationToken cancellationToken)
    {
        var ticks = new long[iterations];
        for (int i = -warmup; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            IAsyncDisposable client = await firstRequest(cancellationToken);
            long elapsed = Stopwatch.GetTimestamp() - start;
            await client.DisposeAsync();
            if (i >= 0)
            {
                ticks[i] = elapsed;
            }
        }
        return Statistics.Percentile(ticks, 0.50) * 1e3 / Stopwatch.Frequency;
    }

    /// <summary>Closes the stream, then its connection.</summary>
    private sealed class OpenClient(Stream? stream, IBenchClientConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            await connection.DisposeAsync();
        }
    }
}
