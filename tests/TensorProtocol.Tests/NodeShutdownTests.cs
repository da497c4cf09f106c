using TensorProtocol.Internal;

namespace TensorProtocol.Tests;

/// <summary>Shutdown: every caller waits for it, and what nobody can take any more is freed. Serial: it reads process-wide native memory.</summary>
[Collection(SerialCollection.Name)]
public sealed class NodeShutdownTests : NodeTestBase
{
    [Fact]
    public async Task ASecondShutdown_MadeWhileTheFirstRuns_CompletesOnlyWhenTheNodeIsDown()
    {
        TensorNode node = await StartNodeAsync();
        await using TensorNode peer = await StartNodeAsync();
        await node.SendAsync(peer.Ticket, "x", Floats(4, 1), Timeout()); // a pooled connection to close
        Task first = node.ShutdownAsync().AsTask();
        Task second = node.ShutdownAsync().AsTask();
        await second.WaitAsync(TestTimeout);
        Assert.True(first.IsCompleted, "the second call returned while the first was still shutting the node down");
        await first;
    }

    [Fact]
    public async Task Shutdown_FreesTheTensorsStillQueued()
    {
        const int size = 1 << 20;
        TensorNode receiver = await StartNodeAsync(o => o with { NativeReceiveThreshold = 0, ReceiveBufferRetention = 0 });
        await using TensorNode sender = await StartNodeAsync();
        ForgottenTensors.Collect();
        long before = NativeBuffer.LiveBytes;
        await sender.SendAsync(receiver.Ticket, "unread", TensorData.FromArray(new byte[size]), Timeout());
        Assert.Equal(1, receiver.QueuedCount);
        Assert.Equal(before + size, NativeBuffer.LiveBytes);

        await receiver.ShutdownAsync();
        Assert.Throws<TensorProtocolException>(() => receiver.TryReceive(out _));
        Assert.Equal(before, NativeBuffer.LiveBytes); // not when the node object is collected
        GC.KeepAlive(receiver);
    }
}
