using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>
/// Pooled connections: dialing a ticket's addresses, what a push does when the connection it reuses dies, and what the
/// pool counts per peer.
/// </summary>
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

    /// <summary>
    /// A ticket lists a wildcard-bound node's interfaces; the first may be one the dialer cannot reach, where packets
    /// vanish without an ICMP answer (another network, a container bridge). It used to take all of ConnectTimeout, and
    /// the working address was never tried; now the next address starts beside it after a short stagger.
    /// </summary>
    [Fact]
    public async Task Dial_FirstTicketAddressSilent_TheNextOneIsTriedBesideIt()
    {
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)); // never answers
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { ConnectTimeout = TimeSpan.FromSeconds(30) });
        var ticket = new NodeTicket(receiver.NodeId, [(IPEndPoint)silent.Client.LocalEndPoint!, receiver.LocalEndPoint]);
        var clock = Stopwatch.StartNew();
        await sender.SendAsync(ticket, "a", Floats(4, 1), Timeout());
        // Within a few staggers, not after the silent address's attempt (or a share of the 30 s) ran out.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(1, receiver.QueuedCount);
        Assert.Equal(1, sender.PoolSize);
    }

    [Fact]
    public async Task Dial_EveryAddressSilent_FailsWithTimeoutAtConnectTimeout()
    {
        using var first = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var second = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { ConnectTimeout = TimeSpan.FromSeconds(1) });
        var ticket = new NodeTicket(receiver.NodeId, [(IPEndPoint)first.Client.LocalEndPoint!, (IPEndPoint)second.Client.LocalEndPoint!]);
        var e = await Assert.ThrowsAsync<TensorProtocolException>(() => sender.SendAsync(ticket, "a", Floats(4, 1), Timeout()));
        Assert.Equal(TensorErrorKind.Timeout, e.Kind);
        Assert.Equal(0, receiver.QueuedCount);
    }

    /// <summary>Beyond ~49.7 days a timer cannot take it; every push and pull failed with ArgumentOutOfRangeException.</summary>
    [Fact]
    public async Task Dial_WithAConnectTimeoutBeyondATimersRange_Works()
    {
        await using TensorNode receiver = await StartNodeAsync();
        await using TensorNode sender = await StartNodeAsync(o => o with { ConnectTimeout = TimeSpan.FromDays(60) });
        await sender.SendAsync(receiver.Ticket, "a", Floats(4, 1), Timeout());
        Assert.Equal(1, receiver.QueuedCount);
    }
}
