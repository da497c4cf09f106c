using Grpc.Core;

namespace TensorProtocol.Bench.GrpcBaseline;

/// <summary>The server's half: counts every payload byte it receives and acknowledges the count.</summary>
/// <remarks>
/// The payload is counted, not assembled into a tensor: the baseline does less work per byte than a tensor node,
/// which writes each tensor into a buffer of its own. That can only flatter gRPC.
/// </remarks>
internal sealed class TensorSinkService : TensorSink.TensorSinkBase
{
    public override async Task<Ack> Push(IAsyncStreamReader<Chunk> requestStream, ServerCallContext context)
    {
        long received = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            received += requestStream.Current.Data.Length;
        }
        return new Ack { Received = received };
    }

    public override Task<Ack> PushOne(Chunk request, ServerCallContext context) =>
        Task.FromResult(new Ack { Received = request.Data.Length });
}
