using System.Runtime.CompilerServices;

namespace TensorProtocol.Quic.Tests;

public sealed class TimerRetentionTests : QuicTestBase
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(WeakReference, WeakReference)> ConnectAndCloseAsync(QuicEndpoint client, QuicEndpoint server)
    {
        var (c, s) = await ConnectPairAsync(client, server);
        // Part of the scenario, not a synchronisation: once the handshake's timers are done, the next expiry filed for
        // the connection is its idle timeout, 30 s away, which leaves a heap entry behind when it closes. (On a machine
        // too slow for that, the test passes without exercising the case; it cannot fail falsely.)
        await Task.Delay(300);
        await c.DisposeAsync();
        await s.DisposeAsync();
        return (new WeakReference(c), new WeakReference(s));
    }

    private static async Task<bool> CollectedAsync(WeakReference w, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < within)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (!w.IsAlive)
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    /// <summary>
    /// The timer heap drops stale entries lazily: one left behind by a connection that closed must not keep the released
    /// connection (and whatever its unaccepted streams still buffer) reachable until that old expiry comes round.
    /// </summary>
    [Fact]
    public async Task ReapedConnection_IsNotKeptAliveByTheEndpoint()
    {
        await using QuicEndpoint server = CreateEndpoint();
        await using QuicEndpoint client = CreateEndpoint();
        var (other, otherServer) = await ConnectPairAsync(client, server); // stays open: its idle expiry is earlier
        var (wc, ws) = await ConnectAndCloseAsync(client, server);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (client.ConnectionCountForTests != 1 || server.ConnectionCountForTests != 1)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
            await Task.Delay(5);
        }
        // Reaped: nothing the endpoints hold should keep either connection alive (the idle timeout is 30 s).
        Assert.True(await CollectedAsync(wc, TimeSpan.FromSeconds(3)), "client connection still reachable after it was reaped");
        Assert.True(await CollectedAsync(ws, TimeSpan.FromSeconds(3)), "server connection still reachable after it was reaped");
        GC.KeepAlive(other);
        GC.KeepAlive(otherServer);
    }
}
