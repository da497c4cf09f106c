using TensorProtocol.Formats;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>
/// <c>tensorp listen --out DIR</c> when a received tensor's file name is taken: existing files are never replaced
/// (the new one gets the first free NAME.N suffix) unless <c>--overwrite</c> is given.
/// </summary>
public sealed class ListenNameClashTests
{
    [Fact]
    public async Task Listen_NameTaken_KeepsExistingFileAndWritesNumberedOnes()
    {
        using var dir = new TestDirectory();
        string outDir = Directory.CreateDirectory(dir.File("out")).FullName;
        File.WriteAllText(Path.Combine(outDir, "weight.safetensors"), "not a tensor, and not to be touched");
        TensorData first = Sample(DType.F32, [4], seed: 1);
        TensorData second = Sample(DType.F32, [4], seed: 2);
        SafetensorsWriter.Write(dir.File("first.safetensors"), [new("weight", first)]);
        SafetensorsWriter.Write(dir.File("second.safetensors"), [new("weight", second)]);
        // "a/b" and "a_b" sanitize to the same file name: both must survive.
        SafetensorsWriter.Write(dir.File("pair.safetensors"), [new("a/b", first), new("a_b", second)]);

        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", outDir);
        string ticket = await listen.WaitForTicketAsync();
        // One send, tensors in file order: weight, weight again, then the pair.
        await SendAsync(dir, ticket, "first.safetensors", "second.safetensors", "pair.safetensors");
        Assert.EndsWith("-> weight.1.safetensors", await NextReceivedAsync(listen), StringComparison.Ordinal);
        Assert.EndsWith("-> weight.2.safetensors", await NextReceivedAsync(listen), StringComparison.Ordinal);
        Assert.EndsWith("-> a_b.safetensors", await NextReceivedAsync(listen), StringComparison.Ordinal);
        Assert.EndsWith("-> a_b.1.safetensors", await NextReceivedAsync(listen), StringComparison.Ordinal);
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Equal(0, listen.ExitCode);
        Assert.Empty(listen.StderrLines);

        Assert.Equal("not a tensor, and not to be touched", File.ReadAllText(Path.Combine(outDir, "weight.safetensors")));
        AssertFileHolds(Path.Combine(outDir, "weight.1.safetensors"), "weight", first);
        AssertFileHolds(Path.Combine(outDir, "weight.2.safetensors"), "weight", second);
        // The pair is sent in name order ("a/b" < "a_b"), so the first file is "a/b".
        AssertFileHolds(Path.Combine(outDir, "a_b.safetensors"), "a/b", first);
        AssertFileHolds(Path.Combine(outDir, "a_b.1.safetensors"), "a_b", second);
        Assert.Equal(5, Directory.GetFiles(outDir).Length);
    }

    [Fact]
    public async Task Listen_Overwrite_ReplacesTheFileOfTheSameName()
    {
        using var dir = new TestDirectory();
        string outDir = Directory.CreateDirectory(dir.File("out")).FullName;
        File.WriteAllText(Path.Combine(outDir, "weight.safetensors"), "old");
        TensorData first = Sample(DType.F32, [4], seed: 1);
        TensorData second = Sample(DType.F32, [4], seed: 2);
        SafetensorsWriter.Write(dir.File("first.safetensors"), [new("weight", first)]);
        SafetensorsWriter.Write(dir.File("second.safetensors"), [new("weight", second)]);

        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", outDir, "--overwrite");
        string ticket = await listen.WaitForTicketAsync();
        await SendAsync(dir, ticket, "first.safetensors", "second.safetensors");
        Assert.EndsWith("-> weight.safetensors", await NextReceivedAsync(listen), StringComparison.Ordinal);
        Assert.EndsWith("-> weight.safetensors", await NextReceivedAsync(listen), StringComparison.Ordinal);
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Equal(0, listen.ExitCode);

        AssertFileHolds(Path.Combine(outDir, "weight.safetensors"), "weight", second);
        Assert.Single(Directory.GetFiles(outDir));
    }

    private static async Task SendAsync(TestDirectory dir, string ticket, params string[] files)
    {
        using CliProcess send = await CliProcess.RunAsync(dir, ["send", ticket, .. files.Select(dir.File)]);
        Assert.True(send.ExitCode == 0, string.Join('\n', send.StderrLines));
    }

    private static Task<string> NextReceivedAsync(CliProcess listen) =>
        listen.WaitForLineAsync(l => l.StartsWith("received ", StringComparison.Ordinal));
}
