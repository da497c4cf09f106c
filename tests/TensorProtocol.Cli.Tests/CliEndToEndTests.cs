using System.Buffers.Binary;
using System.Net;
using System.Text;
using TensorProtocol.Formats;
using TensorProtocol.Quic;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>End-to-end tests of the real <c>tensorp</c> executable on 127.0.0.1.</summary>
public sealed class CliEndToEndTests
{
    // A well-formed key (bytes 1..32; not one of the small-order points a node refuses to dial) at a port nobody uses.
    internal static readonly string ValidButUnreachableTicket =
        new NodeTicket(new NodeId([.. Enumerable.Range(1, 32).Select(i => (byte)i)]), [new IPEndPoint(IPAddress.Loopback, 9)]).ToString();

    [Fact]
    public async Task ListenSend_MultiTensorSafetensors_WritesByteEqualFiles()
    {
        using var dir = new TestDirectory();
        Dictionary<string, TensorData> sent = WriteSample(dir.File("in.safetensors"));
        string outDir = dir.File("out");

        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--port", "0", "--out", outDir);
        string ticket = await listen.WaitForTicketAsync();

        using CliProcess send = await CliProcess.RunAsync(dir, "send", ticket, dir.File("in.safetensors"));
        Assert.True(send.ExitCode == 0, string.Join('\n', send.StderrLines));
        Assert.Empty(send.StderrLines);
        for (int i = 0; i < sent.Count; i++)
        {
            await listen.WaitForLineAsync(l => l.StartsWith("received ", StringComparison.Ordinal));
        }

        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Equal(0, listen.ExitCode);
        AssertOutputDirectoryHolds(outDir, sent);
    }

    [Fact]
    public async Task ListenSigint_WhileIdleAfterTransfers_ExitsZeroWithOnlyCompleteFiles()
    {
        using var dir = new TestDirectory();
        string outDir = dir.File("out");
        var big = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        for (int i = 0; i < 4; i++)
        {
            big[$"layer.{i}/weight"] = Sample(DType.F32, [256, 1024], seed: i);
        }
        SafetensorsWriter.Write(dir.File("big.safetensors"), big);

        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--port", "0", "--out", outDir);
        string ticket = await listen.WaitForTicketAsync();
        using CliProcess send = CliProcess.Start(dir, "send", ticket, dir.File("big.safetensors"));
        // Interrupt as soon as the first tensor is on disk, with the rest possibly in flight.
        await listen.WaitForLineAsync(l => l.StartsWith("received ", StringComparison.Ordinal));
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Equal(0, listen.ExitCode);
        await send.WaitForExitAsync();

        string[] files = Directory.GetFiles(outDir);
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            Assert.EndsWith(".safetensors", file, StringComparison.Ordinal);
            Assert.False(Path.GetFileName(file).StartsWith('.'), $"temporary file left behind: {file}");
            using SafetensorsReader reader = SafetensorsReader.Open(file);
            (string name, TensorData tensor) = Assert.Single(reader.Tensors);
            Assert.Equal(big[name].Payload.ToArray(), tensor.Payload.ToArray());
        }
    }

    [Fact]
    public async Task ServePull_SelectedTensors_OutputEqualsSource()
    {
        using var dir = new TestDirectory();
        Dictionary<string, TensorData> served = WriteSample(dir.File("model.safetensors"));

        using CliProcess serve = CliProcess.Start(dir, "serve", dir.File("model.safetensors"), "--bind", "127.0.0.1", "--port", "0");
        string ticket = await serve.WaitForTicketAsync();

        string[] names = [.. served.Keys];
        using CliProcess pull = await CliProcess.RunAsync(dir, ["pull", ticket, .. names, "-o", dir.File("pulled.safetensors")]);
        Assert.True(pull.ExitCode == 0, string.Join('\n', pull.StderrLines));
        using (SafetensorsReader reader = SafetensorsReader.Open(dir.File("pulled.safetensors")))
        {
            // The writer may order tensors by alignment; the set of names must match.
            Assert.Equal(names.Order(StringComparer.Ordinal), reader.Tensors.Select(t => t.Key).Order(StringComparer.Ordinal));
            foreach ((string name, TensorData tensor) in reader.Tensors)
            {
                AssertSameTensor(served[name], tensor);
            }
        }

        using CliProcess pullNpy = await CliProcess.RunAsync(dir, "pull", ticket, "weight", "-o", dir.File("weight.npy"));
        Assert.True(pullNpy.ExitCode == 0, string.Join('\n', pullNpy.StderrLines));
        using (NpyReader npy = NpyReader.Open(dir.File("weight.npy")))
        {
            AssertSameTensor(served["weight"], npy.Tensor);
        }

        using CliProcess missing = await CliProcess.RunAsync(dir, "pull", ticket, "weight", "no-such-tensor", "-o", dir.File("partial.safetensors"));
        Assert.Equal(6, missing.ExitCode);
        Assert.Single(missing.StderrLines);
        Assert.False(File.Exists(dir.File("partial.safetensors")));

        serve.Signal(CliProcess.SIGINT);
        await serve.WaitForExitAsync();
        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public async Task Pull_BadTicket_OneLineErrorExit3AndNoOutput()
    {
        using var dir = new TestDirectory();
        using CliProcess pull = await CliProcess.RunAsync(dir, "pull", "tensorp1notaticket!", "weight", "-o", dir.File("out.safetensors"));
        Assert.Equal(3, pull.ExitCode);
        string line = Assert.Single(pull.StderrLines);
        Assert.StartsWith("tensorp: error: pull: bad ticket:", line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("out.safetensors")));
    }

    [Fact]
    public async Task ListenSend_RawFileWithDtypeAndShape_ArrivesByteEqual()
    {
        using var dir = new TestDirectory();
        var values = new float[6 * 1024];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i * 0.25f;
        }
        byte[] bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        File.WriteAllBytes(dir.File("acts.bin"), bytes);
        string outDir = dir.File("out");

        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--port", "0", "--out", outDir);
        string ticket = await listen.WaitForTicketAsync();
        using CliProcess send = await CliProcess.RunAsync(dir, "send", ticket, dir.File("acts.bin"), "--dtype", "F32", "--shape", "6,1024");
        Assert.True(send.ExitCode == 0, string.Join('\n', send.StderrLines));
        await listen.WaitForLineAsync(l => l.StartsWith("received acts ", StringComparison.Ordinal));
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        AssertFileHolds(Path.Combine(outDir, "acts.safetensors"), "acts", TensorData.FromArray(values, [6, 1024]));

        using CliProcess wrongShape = await CliProcess.RunAsync(dir, "send", ticket, dir.File("acts.bin"), "--dtype", "F32", "--shape", "6,1000");
        Assert.Equal(4, wrongShape.ExitCode);
        Assert.Contains("needs 24000", Assert.Single(wrongShape.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_MissingInputFile_Exit4()
    {
        using var dir = new TestDirectory();
        using CliProcess send = await CliProcess.RunAsync(dir, "send", ValidButUnreachableTicket, dir.File("missing.safetensors"));
        Assert.Equal(4, send.ExitCode);
        string line = Assert.Single(send.StderrLines);
        Assert.Contains("missing.safetensors", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ToNobody_Exit5WithOneLine()
    {
        using var dir = new TestDirectory();
        WriteSample(dir.File("model.safetensors"));
        // Port 9 on loopback: nothing listens, so the dial fails at once (ICMP port unreachable).
        using CliProcess send = await CliProcess.RunAsync(dir, "send", ValidButUnreachableTicket, dir.File("model.safetensors"));
        Assert.Equal(5, send.ExitCode);
        // The first tensor finds nobody: the other three are not tried (each would wait for the same failure).
        string line = Assert.Single(send.StderrLines);
        Assert.StartsWith("tensorp: error: send:", line, StringComparison.Ordinal);
        Assert.EndsWith("3 more tensors not tried: the peer cannot be reached.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_BadTicket_Exit3BeforeReadingFiles()
    {
        using var dir = new TestDirectory();
        using CliProcess send = await CliProcess.RunAsync(dir, "send", "tensorp1notaticket!", dir.File("missing.safetensors"));
        Assert.Equal(3, send.ExitCode);
        string line = Assert.Single(send.StderrLines);
        Assert.StartsWith("tensorp: error: send: bad ticket:", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_Unreachable_Exit5AndNoOutputFile()
    {
        using var dir = new TestDirectory();
        using CliProcess pull = await CliProcess.RunAsync(dir, "pull", ValidButUnreachableTicket, "weight", "-o", dir.File("out.safetensors"));
        Assert.Equal(5, pull.ExitCode);
        string line = Assert.Single(pull.StderrLines);
        Assert.StartsWith("tensorp: error: pull:", line, StringComparison.Ordinal);
        Assert.Equal(["config"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Serve_MissingFile_Exit4WithOneLine()
    {
        using var dir = new TestDirectory();
        using CliProcess serve = await CliProcess.RunAsync(dir, "serve", dir.File("missing.safetensors"), "--bind", "127.0.0.1");
        Assert.Equal(4, serve.ExitCode);
        string line = Assert.Single(serve.StderrLines);
        Assert.Contains("missing.safetensors", line, StringComparison.Ordinal);
        Assert.DoesNotContain("ticket:", serve.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public async Task Serve_CorruptSafetensors_Exit4BeforeListening(string kind, string expectedWord)
    {
        using var dir = new TestDirectory();
        string path = dir.File($"{kind}.safetensors");
        File.WriteAllBytes(path, Corrupt(kind));
        using CliProcess serve = await CliProcess.RunAsync(dir, "serve", path, "--bind", "127.0.0.1");
        Assert.Equal(4, serve.ExitCode);
        string line = Assert.Single(serve.StderrLines);
        Assert.StartsWith("tensorp: error: serve: invalid tensor file:", line, StringComparison.Ordinal);
        Assert.Contains(expectedWord, line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("ticket:", serve.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_OutIsAFile_Exit4WithOneLineAndFileUntouched()
    {
        using var dir = new TestDirectory();
        File.WriteAllText(dir.File("not-a-dir"), "keep");
        using CliProcess listen = await CliProcess.RunAsync(dir, "listen", "--bind", "127.0.0.1", "--out", dir.File("not-a-dir"));
        Assert.Equal(4, listen.ExitCode);
        string line = Assert.Single(listen.StderrLines);
        Assert.StartsWith("tensorp: error: listen:", line, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(dir.File("not-a-dir")));
    }

    [Fact]
    public async Task UnknownOption_Exit2()
    {
        using var dir = new TestDirectory();
        using CliProcess send = await CliProcess.RunAsync(dir, "send", "--no-such-option");
        Assert.Equal(2, send.ExitCode);
        Assert.All(send.StderrLines, l => Assert.StartsWith("tensorp: error:", l, StringComparison.Ordinal));
    }

    public static TheoryData<string, string> CorruptFiles => new()
    {
        { "truncated-header", "header" },
        { "offsets-out-of-range", "offset" },
        { "unknown-dtype", "dtype" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public async Task Send_CorruptSafetensors_Exit4WithClearMessage(string kind, string expectedWord)
    {
        using var dir = new TestDirectory();
        string path = dir.File($"{kind}.safetensors");
        File.WriteAllBytes(path, Corrupt(kind));
        using CliProcess send = await CliProcess.RunAsync(dir, "send", ValidButUnreachableTicket, path);
        Assert.Equal(4, send.ExitCode);
        string line = Assert.Single(send.StderrLines);
        Assert.StartsWith("tensorp: error: send: invalid tensor file:", line, StringComparison.Ordinal);
        Assert.Contains(expectedWord, line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Id_CreatesKeyOnceAndPrintsSameNodeId()
    {
        using var dir = new TestDirectory();
        using CliProcess first = await CliProcess.RunAsync(dir, "id");
        using CliProcess second = await CliProcess.RunAsync(dir, "id");
        Assert.Equal(0, first.ExitCode);
        Assert.True(NodeId.TryParse(first.Stdout.Trim(), out _), first.Stdout);
        Assert.Equal(first.Stdout, second.Stdout);
        string key = Path.Combine(dir.ConfigHome, "tensorp", "node.key");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
    }

    private static byte[] Corrupt(string kind)
    {
        string json = kind switch
        {
            "offsets-out-of-range" => """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4096]}}""",
            "unknown-dtype" => """{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}""",
            _ => """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""",
        };
        byte[] header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        // Truncated: the length promises the whole header, but the file ends in the middle of it.
        return kind == "truncated-header" ? file[..(8 + header.Length / 2)] : file;
    }

    private static void AssertOutputDirectoryHolds(string outDir, Dictionary<string, TensorData> sent)
    {
        string[] files = Directory.GetFiles(outDir);
        Assert.Equal(sent.Count, files.Length);
        foreach ((string name, TensorData tensor) in sent)
        {
            AssertFileHolds(Path.Combine(outDir, name.Replace('/', '_') + ".safetensors"), name, tensor);
        }
    }

    [Fact]
    public async Task Serve_TwoInputTensorsWithTheSameName_IsRefused()
    {
        // Registering replaces: serve said "serving 2 tensors" while only the second could ever be pulled.
        using var dir = new TestDirectory();
        SafetensorsWriter.Write(dir.File("a.safetensors"), [new("w", Sample(DType.U8, [8], seed: 1))]);
        SafetensorsWriter.Write(dir.File("b.safetensors"), [new("w", Sample(DType.U8, [8], seed: 2))]);
        using CliProcess serve = await CliProcess.RunAsync(dir, "serve", dir.File("a.safetensors"), dir.File("b.safetensors"), "--bind", "127.0.0.1");
        Assert.Equal(4, serve.ExitCode); // a file error
        Assert.Contains("two tensors in the input files are named 'w'", string.Join('\n', serve.StderrLines), StringComparison.Ordinal);
    }

    // serve took pushes nobody would ever receive: each stayed in its memory (up to the 16 GiB receive budget) until it
    // stopped, and send to a serve ticket exited 0 as if delivered. --allow (which restricts pullers) did not stop it.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Serve_APushToItsTicket_IsRefused(bool withAllow)
    {
        using var dir = new TestDirectory();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [new("w", Sample(DType.F32, [4], seed: 1))]);
        string[] allow = withAllow ? ["--allow", NodeIdNobodyHas()] : [];
        using CliProcess serve = CliProcess.Start(dir, ["serve", dir.File("m.safetensors"), "--bind", "127.0.0.1", .. allow]);
        try
        {
            string ticket = await serve.WaitForTicketAsync();
            using CliProcess send = await CliProcess.RunAsync(dir, "send", ticket, dir.File("m.safetensors"));
            Assert.True(send.ExitCode == 6, $"send to a serve ticket exited {send.ExitCode}: {send.AllOutput}"); // refused by the peer
        }
        finally
        {
            serve.Signal(CliProcess.SIGINT);
            await serve.WaitForExitAsync();
        }
    }

    private static string NodeIdNobodyHas()
    {
        using QuicIdentity identity = QuicIdentity.Generate();
        return new NodeId(identity.PublicKey).ToString();
    }
}
