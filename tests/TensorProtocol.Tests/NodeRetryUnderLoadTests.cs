using System.Diagnostics;

namespace TensorProtocol.Tests;

/// <summary>Many peers dialing one node at once, past the QUIC endpoint's Retry threshold.</summary>
public sealed class NodeRetryUnderLoadTests : NodeTestBase
{
    // 48 nodes dial one node at once: past 16 waiting handshakes (RetryThreshold), the rest go through a Retry.
    [Fact]
    public async Task FortyEightPeersPushingAtOnce_GoThroughRetry_AndAllArrive()
    {
        await using TensorNode receiver = await StartNodeAsync(o => o with { ReceiveQueueCapacity = 256 });
        var senders = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ => StartNodeAsync()));
        try
        {
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(senders.Select((s, i) => s.SendAsync(receiver.Ticket, $"t{i}", Floats(1024, i), Timeout())));
            TimeSpan took = clock.Elapsed;
            for (int i = 0; i < 48; i++)
            {
                (await receiver.ReceiveAsync(Timeout())).Data.Dispose();
            }
            Assert.True(took < TimeSpan.FromSeconds(5), $"took {took}");
        }
        finally
        {
            foreach (TensorNode s in senders)
            {
                await s.DisposeAsync();
            }
        }
    }
}
