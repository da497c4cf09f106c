using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Measurements;

namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>
/// All measurements of a gRPC baseline against a server process of its own, through the same measurement loops
/// and process statistics as the other targets:
/// <list type="bullet">
/// <item>MiB/s and CPU: one tensor-sized array per size pushed as a client-streaming call of
/// <see cref="GrpcTuning.ChunkSize"/> messages, timed until the server's ack (which must count every byte), on the
/// channel's already open connection.</item>
/// <item>rtt: a unary call carrying 4 KiB and returning the ack, on the same connection.</item>
/// <item>cold: a new channel (new handler, so a new connection and a full handshake) and its first 4 KiB unary call.</item>
/// </list>
/// </summary>
internal static class GrpcRun
{
    private const double Mib = 1 << 20;

    public static async Task<TransportResult> RunAsync(string name, RunSettings settings, string label, CancellationToken cancellationToken)
    {
        await using ServerProcess server = await ServerProcess.StartAsync(name, settings, cancellationToken);
        GrpcEndpoint endpoint = GrpcEndpoint.Parse(server.EndpointInfo);
        ChildLog.Progress(label, $"server at {endpoint}");

        byte[] small = new byte[Protocol.EchoMessageSize];
        Random.Shared.NextBytes(small);
        var smallRequest = new Chunk { Data = UnsafeByteOperations.UnsafeWrap(small) };

        IReadOnlyList<BulkResult> bulk;
        RoundTripLatency.Result rtt;
        using (GrpcChannel channel = GrpcChannels.Create(endpoint))
        {
            var client = new TensorSink.TensorSinkClient(channel);
            // Round trips before bulk, as for every target (see TensorRun); the first push opens the connection.
            await PushOneAsync(client, smallRequest, cancellationToken);
            ChildLog.Progress(label, $"4 KiB unary pushes x{settings.RttIterations}");
            rtt = await RoundTripLatency.MeasureAsync(
                ct => PushOneAsync(client, smallRequest, ct), settings.RttWarmup, settings.RttIterations, cancellationToken);

            bulk = await MeasureBulkAsync(client, server, settings, label, cancellationToken);
        }

        ChildLog.Progress(label, $"cold channels x{settings.ColdIterations}");
        double coldMs = await ColdConnect.MeasureMedianMillisecondsAsync(
            async ct =>
            {
                GrpcChannel fresh = GrpcChannels.Create(endpoint);
                try
                {
                    await PushOneAsync(new TensorSink.TensorSinkClient(fresh), smallRequest, ct);
                }
                catch
                {
                    fresh.Dispose();
                    throw;
                }
                return new OpenChannel(fresh);
            },
            settings.ColdWarmup, settings.ColdIterations, cancellationToken);

        // Read while the server is still alive; VmHWM covers every phase above, in both processes.
        return new TransportResult(
            name, bulk, rtt.P50Microseconds, rtt.P99Microseconds, coldMs,
            ClientPeakRssMib: ProcessStats.PeakRssBytes(Environment.ProcessId) / Mib,
            ServerPeakRssMib: server.PeakRssBytes / Mib);
    }

    private static async Task<IReadOnlyList<BulkResult>> MeasureBulkAsync(
        TensorSink.TensorSinkClient client, ServerProcess server, RunSettings settings, string label, CancellationToken cancellationToken)
    {
        // A warm-up push of the bulk kind (the channel's connection is open already).
        await PushAsync(client, RandomTensor(settings.BulkWarmupBytes), cancellationToken);
        var results = new List<BulkResult>();
        foreach (long bytes in settings.BulkSizes)
        {
            ChildLog.Progress(label, $"bulk {BenchSizes.Format(bytes)}");
            // A tensor-sized array, as the tensor node pushes, rather than one small buffer sent over and over:
            // the sender reads from memory, not from its cache, as it would with real weights.
            byte[] tensor = RandomTensor(bytes);
            results.Add(await BulkThroughput.MeasureRepeatedSizeAsync(bytes, () => BulkThroughput.TimeAsync(server, ct => PushAsync(client, tensor, ct), cancellationToken), label));
        }
        return results;
    }

    /// <summary>One client-streaming call carrying <paramref name="tensor"/> in chunks; completes once the server acknowledged every byte.</summary>
    private static async Task PushAsync(TensorSink.TensorSinkClient client, ReadOnlyMemory<byte> tensor, CancellationToken cancellationToken)
    {
        using AsyncClientStreamingCall<Chunk, Ack> call = client.Push(cancellationToken: cancellationToken);
        for (int offset = 0; offset < tensor.Length; offset += GrpcTuning.ChunkSize)
        {
            ReadOnlyMemory<byte> slice = tensor.Slice(offset, Math.Min(GrpcTuning.ChunkSize, tensor.Length - offset));
            // Wrapping saves a copy per chunk (ByteString.CopyFrom), and is safe: nothing writes the array meanwhile.
            await call.RequestStream.WriteAsync(new Chunk { Data = UnsafeByteOperations.UnsafeWrap(slice) }, cancellationToken);
        }
        await call.RequestStream.CompleteAsync();
        CheckAck(await call.ResponseAsync, tensor.Length);
    }

    private static async Task PushOneAsync(TensorSink.TensorSinkClient client, Chunk request, CancellationToken cancellationToken) =>
        CheckAck(await client.PushOneAsync(request, cancellationToken: cancellationToken), request.Data.Length);

    private static void CheckAck(Ack ack, long sent)
    {
        if (ack.Received != sent)
        {
            throw new InvalidDataException($"The server acknowledged {ack.Received} bytes, not {sent}.");
        }
    }

    private static byte[] RandomTensor(long bytes)
    {
        byte[] values = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        Random.Shared.NextBytes(values);
        return values;
    }

    /// <summary>A cold client to close after the timed part, as <see cref="ColdConnect"/> wants it.</summary>
    private sealed class OpenChannel(GrpcChannel channel) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            channel.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
