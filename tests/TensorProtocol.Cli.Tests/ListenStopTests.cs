using System.Net;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary><c>tensorp listen</c> stops on SIGINT even while peers keep pushing, and keeps every push it acknowledged.</summary>
public sealed class ListenStopTests
{
    [Fact]
    public async Task Sigint_WhileAPeerKeepsPushing_ExitsAndWritesEveryAcknowledgedPush()
    {
        using var dir = new TestDirectory();
        string outDir = dir.File("out");
        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", outDir);
        NodeTicket ticket = NodeTicket.Parse(await listen.WaitForTicketAsync());
        await using var sender = new TensorNode(new TensorNodeOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        sender.Start();
        long acknowledged = 0;
        TensorData tensor = Sample(DType.U8, [16 << 10], seed: 1);
        // 32 pushers, each until listen refuses: more than listen writes (each file is synced), so its queue never
        // runs empty. Listen used to go on taking pushes after SIGINT for as long as they came.
        Task[] pushers = [.. Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    await sender.SendAsync(ticket, $"t{i}", tensor, null, CancellationToken.None);
                    Interlocked.Increment(ref acknowledged);
                }
                catch (TensorProtocolException)
                {
                    return; // listen stopped taking pushes
                }
            }
        }))];
        await listen.WaitForLineAsync(l => l.StartsWith("received ", StringComparison.Ordinal));
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Equal(0, listen.ExitCode);
        await Task.WhenAll(pushers).WaitAsync(CliProcess.DefaultTimeout);
        // Every push its sender was told arrived is on disk.
        Assert.Equal(Interlocked.Read(ref acknowledged), Directory.GetFiles(outDir, "*.safetensors").Length);
    }
}
