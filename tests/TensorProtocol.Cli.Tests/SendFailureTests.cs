using System.Net;
using TensorProtocol.Formats;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>
/// <c>tensorp send</c> when some tensors fail: it tries every one, reports each failure on one line, and exits with
/// the code of the first failure; only a peer that refuses the whole node makes it give up on the rest. The receiver
/// is a node in the test process, configured to refuse what the test needs refused.
/// </summary>
public sealed class SendFailureTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Send_SomeTensorsTooLarge_SendsTheOthersAndReportsEachFailure()
    {
        using var dir = new TestDirectory();
        // The file orders tensors by element size, then name: c, b, a, big1, big2, d.
        var tensors = new Dictionary<string, TensorData>(StringComparer.Ordinal)
        {
            ["a"] = Sample(DType.U8, [16], seed: 1),
            ["big1"] = Sample(DType.U8, [4096], seed: 2),
            ["b"] = Sample(DType.F32, [8], seed: 3),
            ["big2"] = Sample(DType.U8, [8192], seed: 4),
            ["c"] = Sample(DType.I64, [4], seed: 5),
            ["d"] = Sample(DType.U8, [3], seed: 6),
        };
        SafetensorsWriter.Write(dir.File("in.safetensors"), tensors);
        await using TensorNode receiver = await StartReceiverAsync(o => o with { MaxTensorBytes = 1024 });

        using CliProcess send = await CliProcess.RunAsync(dir, "send", receiver.Ticket.ToString(), dir.File("in.safetensors"));

        Assert.Equal(6, send.ExitCode);
        Assert.Collection(send.StderrLines,
            line => Assert.StartsWith("tensorp: error: send: tensor 'big1': refused by peer (too large):", line, StringComparison.Ordinal),
            line => Assert.StartsWith("tensorp: error: send: tensor 'big2': refused by peer (too large):", line, StringComparison.Ordinal));
        Assert.StartsWith("sent 4 of 6 tensors", send.StdoutLines[^1], StringComparison.Ordinal);
        Assert.EndsWith("; 2 failed, 0 not tried", send.StdoutLines[^1], StringComparison.Ordinal);
        // Acknowledged means queued at the receiver, so everything acknowledged is there now, in order.
        foreach (string name in (string[])["c", "b", "a", "d"])
        {
            Assert.True(receiver.TryReceive(out ReceivedTensor? received), $"'{name}' was not received.");
            Assert.Equal(name, received.Name);
            AssertSameTensor(tensors[name], received.Data);
        }
        Assert.False(receiver.TryReceive(out _));
    }

    [Fact]
    public async Task Send_ReceiverDoesNotAllowThisNode_GivesUpAfterTheFirstWithOneLine()
    {
        using var dir = new TestDirectory();
        WriteSample(dir.File("in.safetensors"));
        var someoneElse = new NodeId(Enumerable.Repeat((byte)7, 32).ToArray());
        await using TensorNode receiver = await StartReceiverAsync(o => o with { AllowedSenders = new HashSet<NodeId> { someoneElse } });

        using CliProcess send = await CliProcess.RunAsync(dir, "send", receiver.Ticket.ToString(), dir.File("in.safetensors"));

        Assert.Equal(6, send.ExitCode);
        string line = Assert.Single(send.StderrLines);
        Assert.StartsWith("tensorp: error: send: tensor '", line, StringComparison.Ordinal);
        Assert.Contains("refused by peer", line, StringComparison.Ordinal);
        Assert.EndsWith("3 more tensors not tried: the peer does not allow this node.", line, StringComparison.Ordinal);
        Assert.Equal("; 1 failed, 3 not tried", send.StdoutLines[^1][send.StdoutLines[^1].IndexOf(';', StringComparison.Ordinal)..]);
        Assert.False(receiver.TryReceive(out _));
    }

    private static async Task<TensorNode> StartReceiverAsync(Func<TensorNodeOptions, TensorNodeOptions> configure)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        return await TensorNode.StartAsync(configure(new TensorNodeOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) }), timeout.Token);
    }
}
