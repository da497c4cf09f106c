using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>Pooled connections: what a push does when the one it reuses dies, and what the pool counts per peer.</summary>
public sealed class NodePoolTests : NodeTestBase
{
    /// <summary>
    /// A push that takes a pooled connection which dies before the push's stream opens (here it waits for stream credit
    /// when the peer closes the connection) sent nothing, so it is retried on a fresh connection and arrives.
    /// </summary>
    [Fact]
    public async Task PushOnAReusedConnection_ThatDiesBeforeItsStreamOpens_IsRetriedOnAFreshOne()
    {
        byte[] ok = new ResponseHeader(ResponseStatus.Ok).ToFrame();
        var heldOn = new TaskCompletionSource<QuicConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new List<string>();
        await using var peer = new FakeNode(async (connection, stream, ct) =>
        {
            var (request, _) = await FakeNode.ReadRequestAsync(stream, ct);
            lock (arrived)
            {
                arrived.Add(request.Name);
            }
            if (request.Name == "held" && heldOn.TrySetResult(connection))
            {
                await Task.Delay(System.Threading.Timeout.Infinite, ct); // never answered: the stream stays open and holds the one credit
            }
            await stream.WriteAsync(ok, completeWrites: true, ct);
            await stream.DisposeAsync();
        }, QuicConnectionOptions.Default with { MaxInboundBidirectionalStreams = 1 });
        await using TensorNode sender = await StartNodeAsync();

        await sender.SendAsync(peer.Ticket, "first", Floats(4, 1), Timeout()); // pooled from now on
        Task held = sender.SendAsync(peer.Ticket, "held", Floats(4, 2), Timeout());
        QuicConnection serverSide = await heldOn.Task.WaitAsync(TestTimeout);
        // No stream credit is left: this push reuses the pooled connection and waits to open its stream.
        Task third = sender.SendAsync(peer.Ticket, "third", Floats(4, 3), Timeout());
        Assert.False(third.IsCompleted);

        await serverSide.CloseAsync(7, "going away");
        await Record.ExceptionAsync(() => held); // its payload arrived whole: it fails rather than be sent twice
        await third.WaitAsync(TestTimeout); // was a NullReferenceException
        Assert.Equal(2, sender.Dials);
        lock (arrived)
        {
            Assert.Equal(["first", "held", "third"], arrived);
        }
    }

    [Fact]
    public async Task PeerStatistics_CountPushesAsSent_AndPullsAsPulled()
    {
        await using TensorNode server = await StartNodeAsync();
        await using TensorNode client = await StartNodeAsync();
        server.Register("w", Floats(1000, 1));
        using (TensorData pulled = await client.RequestAsync(server.Ticket, "w", Timeout()))
        {
            PeerStatistics afterPull = Assert.Single(await client.GetPeerStatisticsAsync());
            Assert.Equal((0, 0, 1, 4000), (afterPull.TensorsSent, afterPull.BytesSent, afterPull.TensorsPulled, afterPull.BytesPulled));
        }
        await client.SendAsync(server.Ticket, "x", Floats(10, 2), Timeout());
        PeerStatistics afterPush = Assert.Single(await client.GetPeerStatisticsAsync());
        Assert.Equal((1, 40, 1, 4000), (afterPush.TensorsSent, afterPush.BytesSent, afterPush.TensorsPulled, afterPush.BytesPulled));
    }
}
