using System.Buffers.Binary;
using System.Net;
using System.Text;
using TensorProtocol.Formats;
using TensorProtocol.Quic;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>tensorp given hostile files, and tensor names chosen by a hostile peer.</summary>
public sealed class HostileInputCliTests
{
    // NpyHeader's parser recurses once per '(' / '[' / '{': without a depth limit a 64 KiB version 1.0 header
    // overflowed the stack ("Stack overflow.", exit 134) instead of exit 4 with one line.
    [Theory]
    [InlineData("serve")]
    [InlineData("send")]
    public async Task DeeplyNestedNpyHeader_Exit4NotAStackOverflow(string command)
    {
        using var dir = new TestDirectory();
        string path = dir.File("deep.npy");
        File.WriteAllBytes(path, NpyV1("{'descr': " + new string('[', 32_000) + new string(']', 32_000) + ", 'fortran_order': False, 'shape': (1,), }", new byte[4]));
        using CliProcess process = command == "serve"
            ? await CliProcess.RunAsync(dir, "serve", path, "--bind", "127.0.0.1")
            : await CliProcess.RunAsync(dir, "send", CliEndToEndTests.ValidButUnreachableTicket, path);
        Assert.True(process.ExitCode == 4, $"exit {process.ExitCode}: {string.Join('\n', process.StderrLines.Take(3))}");
        Assert.StartsWith($"tensorp: error: {command}: invalid tensor file:", Assert.Single(process.StderrLines), StringComparison.Ordinal);
    }

    // listen prints the peer's tensor name on stdout ("received NAME ..."): raw, a name with a line break would forge
    // whole lines (scripts parse "ticket: " lines), and ESC sequences would reach the terminal.
    [Fact]
    public async Task Listen_PeerNameWithControlCharacters_CannotForgeOutput()
    {
        using var dir = new TestDirectory();
        using CliProcess listen = await ListenWhileAPeerSendsAsync(dir, "w\nticket: forged\u001b]0;title\u0007\u001b[2J");
        Assert.Single(listen.StdoutLines, l => l.StartsWith("ticket: ", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', listen.AllOutput);
        Assert.DoesNotContain('\u0007', listen.AllOutput);
    }

    // The protocol accepts the name "__metadata__", which safetensors reserves: the tensor, already acknowledged to
    // its sender, must still be written (under another name, its own kept in the file's metadata), not dropped.
    [Fact]
    public async Task Listen_TensorNamedMetadata_IsStillWritten()
    {
        using var dir = new TestDirectory();
        string outDir = dir.File("out");
        SafetensorsWriter.Write(dir.File("in.safetensors"), [new("w", Sample(DType.U8, [4], seed: 1))]);
        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", outDir);
        string ticket = await listen.WaitForTicketAsync();
        foreach (string name in new[] { "__metadata__", "after" })
        {
            using CliProcess send = await CliProcess.RunAsync(dir, "send", ticket, dir.File("in.safetensors"), "--name", name);
            Assert.True(send.ExitCode == 0, string.Join('\n', send.StderrLines));
        }
        await listen.WaitForLineAsync(l => l.StartsWith("received after ", StringComparison.Ordinal));
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Empty(listen.StderrLines);
        Assert.True(File.Exists(Path.Combine(outDir, "__metadata__.safetensors")), string.Join('\n', Directory.GetFiles(outDir)));
    }

    // .npy has no bfloat16: listen --format npy keeps such a tensor as .safetensors (the sender was told it arrived),
    // and pull -o NAME.npy says what to do instead of failing with an unexpected error.
    [Fact]
    public async Task Bfloat16_IntoNpy_ListenKeepsItAsSafetensors_AndPullSaysWhy()
    {
        using var dir = new TestDirectory();
        string outDir = dir.File("out");
        TensorData bf16 = Sample(DType.BF16, [8], seed: 2);
        SafetensorsWriter.Write(dir.File("in.safetensors"), [new("h", bf16)]);
        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", outDir, "--format", "npy");
        string ticket = await listen.WaitForTicketAsync();
        using (CliProcess send = await CliProcess.RunAsync(dir, "send", ticket, dir.File("in.safetensors")))
        {
            Assert.True(send.ExitCode == 0, string.Join('\n', send.StderrLines));
        }
        await listen.WaitForLineAsync(l => l.StartsWith("received h ", StringComparison.Ordinal));
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();
        Assert.Contains(listen.StderrLines, l => l.Contains("written as .safetensors", StringComparison.Ordinal));
        using (SafetensorsReader kept = SafetensorsReader.Open(Path.Combine(outDir, "h.safetensors")))
        {
            Assert.True(bf16.Payload.Span.SequenceEqual(kept.Tensors.Single(t => t.Key == "h").Value.Payload.Span));
        }

        using CliProcess serve = CliProcess.Start(dir, "serve", dir.File("in.safetensors"), "--bind", "127.0.0.1");
        string served = await serve.WaitForTicketAsync();
        using CliProcess pull = await CliProcess.RunAsync(dir, "pull", served, "h", "-o", dir.File("h.npy"));
        Assert.Equal(4, pull.ExitCode); // a file error
        Assert.Contains(".safetensors", string.Join('\n', pull.StderrLines), StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("h.npy")));
    }

    // A file served from its mapping and then truncated in place (cp over it, torch/safetensors save to the same path:
    // both open with O_TRUNC) faults on the next pull: SIGBUS ends the process. So serve loads the tensors at start by
    // default (--copy, the earlier opt-in, still means the same) and serves what it loaded.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Serve_FileTruncatedWhileServed_ServesTheTensorAsLoaded(bool withCopyFlag)
    {
        using var dir = new TestDirectory();
        string path = dir.File("model.safetensors");
        TensorData original = Sample(DType.U8, [3 << 20], seed: 1); // above 1 MiB: loaded into a native mapping
        TensorData small = Sample(DType.F32, [5], seed: 2);          // below: loaded into an array
        SafetensorsWriter.Write(path, [new("w", original), new("s", small)]);
        using CliProcess serve = withCopyFlag
            ? CliProcess.Start(dir, "serve", path, "--bind", "127.0.0.1", "--copy")
            : CliProcess.Start(dir, "serve", path, "--bind", "127.0.0.1");
        string ticket = await serve.WaitForTicketAsync();
        using (new FileStream(path, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
        {
        }
        string output = dir.File("out.safetensors");
        using CliProcess pull = CliProcess.Start(dir, "pull", ticket, "w", "s", "-o", output);
        await pull.WaitForExitAsync();
        Assert.Equal(0, pull.ExitCode);
        Assert.False(serve.HasExited, $"serve died (exit {(serve.HasExited ? serve.ExitCode : 0)}): {string.Join('\n', serve.StderrLines.Take(3))}");
        Assert.DoesNotContain(serve.StderrLines, l => l.Contains("mapped files", StringComparison.Ordinal));
        using SafetensorsReader pulled = SafetensorsReader.Open(output);
        Assert.True(original.Payload.Span.SequenceEqual(pulled["w"].Payload.Span));
        Assert.True(small.Payload.Span.SequenceEqual(pulled["s"].Payload.Span));
    }

    [Fact]
    public async Task ServeWithMap_ServesFromTheFile_AndSaysWhatRewritingItDoes()
    {
        using var dir = new TestDirectory();
        string path = dir.File("model.safetensors");
        TensorData original = Sample(DType.U8, [1 << 20], seed: 3);
        SafetensorsWriter.Write(path, [new("w", original)]);
        using CliProcess serve = CliProcess.Start(dir, "serve", path, "--bind", "127.0.0.1", "--map");
        string ticket = await serve.WaitForTicketAsync();
        string output = dir.File("out.safetensors");
        using CliProcess pull = await CliProcess.RunAsync(dir, "pull", ticket, "w", "-o", output);
        Assert.Equal(0, pull.ExitCode);
        using (SafetensorsReader pulled = SafetensorsReader.Open(output))
        {
            Assert.True(original.Payload.Span.SequenceEqual(pulled["w"].Payload.Span));
        }
        Assert.Contains(serve.StderrLines, l => l.Contains("served from the mapped files (--map)", StringComparison.Ordinal));
    }

    // Loading more than the system has available would be allowed by overcommit and then killed while copying: serve
    // refuses up front and names the way out. The file is sparse, so it takes no disk and is never read.
    [Fact]
    public async Task Serve_TensorsLargerThanAvailableMemory_IsAFileError_ThatSuggestsMap()
    {
        using var dir = new TestDirectory();
        string meminfo = File.ReadAllLines("/proc/meminfo").Single(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        long available = long.Parse(meminfo["MemAvailable:".Length..].Trim().Split(' ')[0]) * 1024;
        long elements = available + (4L << 30);
        string path = dir.File("huge.safetensors");
        WriteSparseSafetensors(path, elements);

        using CliProcess serve = await CliProcess.RunAsync(dir, "serve", path, "--bind", "127.0.0.1");
        Assert.Equal(4, serve.ExitCode);
        string stderr = string.Join('\n', serve.StderrLines);
        Assert.Contains("--map", stderr, StringComparison.Ordinal);
        Assert.Contains("available", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(serve.StdoutLines, l => l.StartsWith("ticket:", StringComparison.Ordinal));
    }

    // Inside a container /proc/meminfo shows the host's memory: the limit that kills is the memory cgroup's. A cgroup
    // of this test's own with room for 256 MiB, and a 1 GiB (sparse) tensor to serve: without the cgroup in the check,
    // serve would start loading and be killed (exit 137) instead of saying why.
    [Fact]
    public async Task Serve_InAMemoryCgroupWithTooLittleRoom_IsAFileError_ThatSuggestsMap()
    {
        using var dir = new TestDirectory();
        string path = dir.File("model.safetensors");
        WriteSparseSafetensors(path, 1L << 30);
        using var cgroup = MemoryCgroup.Create(limitBytes: 256L << 20);

        using CliProcess serve = await CliProcess.RunInCgroupAsync(dir, cgroup.ProcsFile, "serve", path, "--bind", "127.0.0.1");
        string stderr = string.Join('\n', serve.StderrLines);
        Assert.True(serve.ExitCode == 4, $"exit {serve.ExitCode}: {stderr}");
        Assert.Contains("--map", stderr, StringComparison.Ordinal);
        Assert.Contains("available", stderr, StringComparison.Ordinal);
    }

    /// <summary>A safetensors file of one U8 tensor of <paramref name="bytes"/>, sparse: no disk taken, reads give zeros.</summary>
    private static void WriteSparseSafetensors(string path, long bytes)
    {
        byte[] header = Encoding.UTF8.GetBytes($$$"""{"w":{"dtype":"U8","shape":[{{{bytes}}}],"data_offsets":[0,{{{bytes}}}]}}""");
        int padded = (header.Length + 7) / 8 * 8;
        var prefix = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        prefix.AsSpan(8).Fill((byte)' ');
        header.CopyTo(prefix, 8);
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        file.Write(prefix);
        file.SetLength(prefix.Length + bytes);
    }

    [Fact]
    public async Task Serve_MapAndCopyTogether_IsAUsageError()
    {
        using var dir = new TestDirectory();
        string path = dir.File("model.safetensors");
        SafetensorsWriter.Write(path, [new("w", Sample(DType.U8, [16], seed: 4))]);
        using CliProcess serve = await CliProcess.RunAsync(dir, "serve", path, "--bind", "127.0.0.1", "--map", "--copy");
        Assert.Equal(2, serve.ExitCode);
    }

    private static byte[] NpyV1(string dict, byte[] data)
    {
        byte[] text = Encoding.Latin1.GetBytes(dict);
        int total = (10 + text.Length + 1 + 63) / 64 * 64;
        var file = new byte[total + data.Length];
        file[0] = 0x93;
        "NUMPY"u8.CopyTo(file.AsSpan(1));
        file[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), checked((ushort)(total - 10)));
        text.CopyTo(file, 10);
        file.AsSpan(10 + text.Length, total - 10 - text.Length - 1).Fill((byte)' ');
        file[total - 1] = (byte)'\n';
        data.CopyTo(file, total);
        return file;
    }

    // Log lines (-v/-vv) go through LogLineFormatter, which only replaced line endings: with -vv, "Received {Name}"
    // (Debug) and "Refused ... of {Name}" put a hostile peer's ESC/BEL sequences on the terminal.
    [Fact]
    public async Task ListenVeryVerbose_PeerNameWithEscapes_DoesNotReachStderrRaw()
    {
        using var dir = new TestDirectory();
        using CliProcess listen = await ListenWhileAPeerSendsAsync(dir, "w\u001b]0;title\u0007\u001b[2J", "-vv");
        Assert.DoesNotContain('\u001b', string.Join('\n', listen.StderrLines));
        Assert.DoesNotContain('\u0007', string.Join('\n', listen.StderrLines));
    }

    // The same reserved name pulled into a .safetensors file ('tensorp serve __metadata__.npy' serves exactly that
    // name): written under another name too, not "unexpected error (ArgumentException)" after the whole transfer.
    [Fact]
    public async Task Pull_TensorNamedMetadata_IntoSafetensors_IsWrittenUnderAnotherName()
    {
        using var dir = new TestDirectory();
        TensorData tensor = Sample(DType.F32, [4], seed: 3);
        NpyWriter.Write(dir.File("__metadata__.npy"), tensor);
        using CliProcess serve = CliProcess.Start(dir, "serve", dir.File("__metadata__.npy"), "--bind", "127.0.0.1");
        string ticket = await serve.WaitForTicketAsync();
        using CliProcess pull = await CliProcess.RunAsync(dir, "pull", ticket, "__metadata__", "-o", dir.File("out.safetensors"));
        Assert.True(pull.ExitCode == 0, $"exit {pull.ExitCode}: {string.Join('\n', pull.StderrLines)}");
        using SafetensorsReader written = SafetensorsReader.Open(dir.File("out.safetensors"));
        Assert.Equal("__metadata__", written.Metadata["tensorp.name"]);
        Assert.True(tensor.Payload.Span.SequenceEqual(written.Tensors.Single().Value.Payload.Span));
    }

    // The safetensors reader allows 64 dimensions (FormatLimits.MaxRank), the wire 32: a rank-40 tensor registered
    // anyway would make every pull end in a stream reset that pull reports as a connection failure, so serve refuses
    // the file at start (exit 4).
    [Fact]
    public async Task Serve_TensorAboveTheWireRank_IsAFileErrorAtStart()
    {
        using var dir = new TestDirectory();
        string header = "{\"r40\":{\"dtype\":\"U8\",\"shape\":[" + string.Join(",", Enumerable.Repeat("1", 40)) + "],\"data_offsets\":[0,1]}}";
        header += new string(' ', (8 - header.Length % 8) % 8);
        var bytes = new byte[8 + header.Length + 1];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        System.Text.Encoding.ASCII.GetBytes(header).CopyTo(bytes, 8);
        File.WriteAllBytes(dir.File("r40.safetensors"), bytes);
        using CliProcess serve = await CliProcess.RunAsync(dir, "serve", dir.File("r40.safetensors"), "--bind", "127.0.0.1");
        Assert.True(serve.ExitCode == 4, $"exit {serve.ExitCode}: {string.Join('\n', serve.StdoutLines.Take(2))}");
    }

    /// <summary>Runs listen (with <paramref name="options"/>), has a peer send one tensor named <paramref name="name"/>, and stops listen.</summary>
    private static async Task<CliProcess> ListenWhileAPeerSendsAsync(TestDirectory dir, string name, params string[] options)
    {
        SafetensorsWriter.Write(dir.File("in.safetensors"), [new("w", Sample(DType.U8, [4], seed: 1))]);
        CliProcess listen = CliProcess.Start(dir, ["listen", .. options, "--bind", "127.0.0.1", "--out", dir.File("out")]);
        try
        {
            string ticket = await listen.WaitForTicketAsync();
            using (CliProcess send = await CliProcess.RunAsync(dir, "send", ticket, dir.File("in.safetensors"), "--name", name))
            {
                Assert.True(send.ExitCode == 0, string.Join('\n', send.StderrLines));
            }
            await listen.WaitForLineAsync(l => l.StartsWith("received ", StringComparison.Ordinal));
            listen.Signal(CliProcess.SIGINT);
            await listen.WaitForExitAsync();
            return listen;
        }
        catch
        {
            listen.Dispose();
            throw;
        }
    }

    // A hostile server answers a pull with a refusal whose message (up to 4096 bytes of the peer's choosing) holds
    // terminal escapes. The one-line error is escaped (ErrorReporter.OneLine), but with -vv ErrorReporter.Report (and
    // SendBatch.Report, and LogLineFormatter with IncludeStackTraces) also print exception.ToString() raw, so the
    // peer's ESC/BEL sequences reach the terminal: what HostileInputCliTests checks for tensor names in -vv log lines.
    [Fact]
    public async Task PullVeryVerbose_HostileRefusalMessage_DoesNotReachStderrRaw()
    {
        using var dir = new TestDirectory();
        await using QuicEndpoint server = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ["tensorp/1"],
        });
        var ticket = new NodeTicket(new NodeId(server.PublicKey), [server.LocalEndPoint]);
        var pullExited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task hostile = Task.Run(async () =>
        {
            QuicConnection connection = await server.AcceptConnectionAsync();
            QuicStream stream = await connection.AcceptInboundStreamAsync();
            var buffer = new byte[4096];
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
            byte[] message = Encoding.UTF8.GetBytes("gone\u001b]0;owned\u0007\u001b[2J\nticket: forged");
            var frame = new byte[4 + 9 + message.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(9 + message.Length));
            "TPRS"u8.CopyTo(frame.AsSpan(4));
            frame[8] = 1; // version
            frame[9] = 1; // NotFound
            frame[10] = 0; // no tensor
            BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(11), (ushort)message.Length);
            message.CopyTo(frame, 13);
            await stream.WriteAsync(frame, completeWrites: true);
            await pullExited.Task; // the connection stays up until the pull has read the answer
        });
        using CliProcess pull = await CliProcess.RunAsync(dir, "pull", "-vv", ticket.ToString(), "w", "-o", dir.File("w.safetensors"));
        pullExited.SetResult();
        await hostile.WaitAsync(CliProcess.DefaultTimeout);
        Assert.NotEqual(0, pull.ExitCode);
        string stderr = string.Join('\n', pull.StderrLines);
        Assert.Contains("gone", stderr, StringComparison.Ordinal); // the refusal did arrive
        string[] raw = [.. pull.StderrLines.Where(l => l.Contains('\u001b', StringComparison.Ordinal) || l.Contains('\u0007', StringComparison.Ordinal))];
        if (raw.Length > 0)
        {
            Assert.Fail($"{raw.Length} stderr lines carry the peer's raw ESC/BEL bytes, e.g.: " +
                raw[0].Replace("\u001b", "<ESC>", StringComparison.Ordinal).Replace("\u0007", "<BEL>", StringComparison.Ordinal));
        }
    }
}
