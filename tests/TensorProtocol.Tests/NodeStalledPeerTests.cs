using System.Diagnostics;
using System.Net;
using TensorProtocol.Internal;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>
/// Peers that stop cooperating halfway must not keep the node's streams or memory. Reads the process-wide count of
/// mapped bytes, so it runs apart from parallel tests.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class NodeStalledPeerTests : NodeTestBase
{
    [Fact]
    public async Task StalledPuller_IsResetAfterTheDeadline_AndTheTensorsMemoryIsReleased()
    {
        const int size = 256 << 10; // four times the raw client's stream window: the answer cannot all be sent
        await using TensorNode node = await StartNodeAsync(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(200) });
        ForgottenTensors.Collect();
        long mappedBefore = NativeBuffer.LiveBytes;
        PayloadBuffer buffer = PayloadBuffer.Allocate(size, nativeThreshold: 0);
        buffer.Chunk(0, size).Span.Fill(5);
        TensorData tensor = buffer.ToTensor(new TensorMetadata(DType.U8, [size]));
        Assert.True(tensor.HasNativeMemory);
        node.Register("w", tensor);

        await using QuicEndpoint endpoint = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [TensorNodeOptions.DefaultApplicationProtocol],
            AcceptIncomingConnections = false,
            ConnectionOptions = QuicConnectionOptions.Default with { InitialStreamReceiveWindow = 64 << 10, MaxStreamReceiveWindow = 64 << 10 },
        });
        await using QuicConnection connection = await endpoint.ConnectAsync(node.LocalEndPoint, node.NodeId.PublicKey, Timeout());
        QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await stream.WriteAsync(RequestHeader.Pull("w").ToFrame(), completeWrites: true, Timeout());
        // ...and never read. The answer's writes hold the tensor's memory, so disposing it now cannot unmap it yet.
        var clock = Stopwatch.StartNew();
        while (stream.BufferedLength < 64 << 10)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the node sent nothing");
            await Task.Delay(5);
        }
        Assert.True(node.Unregister("w"));
        tensor.Dispose();
        Assert.Equal(mappedBefore + size, NativeBuffer.LiveBytes);

        // The deadline is 200 ms + a quarter of a second (the size at the default MinTransferRate, 1 MiB/s): then the node resets the stream, its
        // writes end, and the mapping goes.
        while (NativeBuffer.LiveBytes != mappedBefore)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the stalled pull still holds {NativeBuffer.LiveBytes - mappedBefore} bytes mapped");
            await Task.Delay(10);
        }
        var e = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            var sink = new byte[64 << 10];
            while (await stream.ReadAsync(sink, Timeout()) > 0)
            {
            }
        });
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        Assert.Equal((long)ResponseStatus.BadRequest, e.ApplicationErrorCode);
        await stream.DisposeAsync();

        // The connection and the node carry on.
        node.Register("v", Floats(4, 1));
        await using TensorNode puller = await StartNodeAsync();
        Assert.Equal(16, (await puller.RequestAsync(node.Ticket, "v", Timeout())).ByteLength);
    }

    [Fact]
    public async Task TricklingPusher_IsResetOnceBehindTheMinimumRate_NotAtTheEndOfTheWholeDeadline()
    {
        // 1 GiB announced with a minimum rate of 64 MiB/s: the whole push may take 0.5 s + 16 s, but it must keep up
        // 64 MiB at a time. A sender that sends 16 MiB and stops has not completed the first 64 MiB when 0.5 s + 1 s
        // have passed, and loses its 1 GiB reservation of the receive budget then, not 16 seconds later.
        const long announced = 1L << 30;
        await using TensorNode node = await StartNodeAsync(o => o with
        {
            RequestTimeout = TimeSpan.FromMilliseconds(500),
            MinTransferRate = 64 << 20,
            MaxTensorBytes = announced,
            ReceiveMemoryBudget = announced + (16 << 20),
        });
        await using QuicEndpoint endpoint = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [TensorNodeOptions.DefaultApplicationProtocol],
            AcceptIncomingConnections = false,
        });
        await using QuicConnection connection = await endpoint.ConnectAsync(node.LocalEndPoint, node.NodeId.PublicKey, Timeout());
        QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(RequestHeader.Push("slow", new TensorMetadata(DType.U8, [announced])).ToFrame(), completeWrites: false, Timeout());
        await stream.WriteAsync(new byte[16 << 20], completeWrites: false, Timeout());

        var e = await Assert.ThrowsAsync<QuicException>(async () => await stream.ReadAsync(new byte[64], Timeout()));
        TimeSpan resetAfter = clock.Elapsed;
        Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
        Assert.Equal((long)ResponseStatus.BadRequest, e.ApplicationErrorCode);
        Assert.True(resetAfter < TimeSpan.FromSeconds(8), $"reset after {resetAfter.TotalSeconds:F1} s");
        await stream.DisposeAsync();

        // The reservation is gone: a push that did not fit beside it (16 MiB of budget were left) fits again.
        await using TensorNode sender = await StartNodeAsync();
        using var big = TensorData.FromArray(new byte[32 << 20]);
        await sender.SendAsync(node.Ticket, "fits", big, Timeout());
        ReceivedTensor received = await node.ReceiveAsync(Timeout());
        Assert.Equal("fits", received.Name);
        received.Data.Dispose();
    }

    [Fact]
    public async Task Node_GrantsNoUnidirectionalStreams()
    {
        // Every operation needs an answer: a unidirectional stream could carry a request the node cannot answer, so
        // the node allows none and a peer cannot even open one (one that sent on it anyway would break QUIC's stream
        // limit and lose its connection).
        await using TensorNode node = await StartNodeAsync();
        await using QuicEndpoint endpoint = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [TensorNodeOptions.DefaultApplicationProtocol],
            AcceptIncomingConnections = false,
        });
        await using QuicConnection connection = await endpoint.ConnectAsync(node.LocalEndPoint, node.NodeId.PublicKey, Timeout());
        using var shortWait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, shortWait.Token));
        // Bidirectional ones are unaffected.
        QuicStream bidi = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await bidi.DisposeAsync();
    }
}
