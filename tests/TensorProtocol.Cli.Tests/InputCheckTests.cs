using System.Buffers.Binary;
using System.Net;
using System.Text;
using TensorProtocol.Formats;
using TensorProtocol.Quic;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>
/// What the CLI judges itself before anything is transferred: output locations it cannot write, names and shapes the
/// protocol cannot carry, a ticket broken over lines. Each failed late, or with the wrong exit code, before.
/// </summary>
public sealed class InputCheckTests
{
    /// <summary>A well-formed ticket for a node that is not running (nothing may ever be dialed by these cases).</summary>
    private static string UnusedTicket()
    {
        using QuicIdentity identity = QuicIdentity.Generate();
        return new NodeTicket(new NodeId(identity.PublicKey), [new IPEndPoint(IPAddress.Loopback, 9)]).ToString();
    }

    [Fact]
    public async Task Listen_IntoADirectoryItCannotWriteTo_FailsAtStart()
    {
        // It printed a ticket, acknowledged every push (senders exited 0), dropped each tensor with a warning, exited 0.
        using var dir = new TestDirectory();
        string outDir = "/proc"; // nobody, root included, creates files there
        if (Environment.UserName != "root" && !OperatingSystem.IsWindows())
        {
            outDir = Directory.CreateDirectory(dir.File("readonly")).FullName;
            File.SetUnixFileMode(outDir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        using CliProcess listen = await CliProcess.RunAsync(dir, "listen", "--bind", "127.0.0.1", "--out", outDir);
        Assert.Equal(4, listen.ExitCode);
        Assert.Empty(listen.StdoutLines); // no ticket
        Assert.Contains("cannot create files in the output directory", string.Join('\n', listen.StderrLines), StringComparison.Ordinal);
    }

    // The whole transfer ran first, then the write failed; with a trailing slash the error said the (existing)
    // directory was not found.
    [Theory]
    [InlineData("")]
    [InlineData("/")]
    public async Task Pull_OutputIsAnExistingDirectory_FailsBeforeTransferring(string suffix)
    {
        using var dir = new TestDirectory();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [new("w", Sample(DType.F32, [4], seed: 1))]);
        Directory.CreateDirectory(dir.File("target"));
        using CliProcess serve = CliProcess.Start(dir, "serve", dir.File("m.safetensors"), "--bind", "127.0.0.1");
        try
        {
            string ticket = await serve.WaitForTicketAsync();
            using CliProcess pull = await CliProcess.RunAsync(dir, "pull", ticket, "w", "-o", dir.File("target") + suffix);
            string stderr = string.Join('\n', pull.StderrLines);
            Assert.True(pull.ExitCode == 4, $"exit {pull.ExitCode}: {stderr}");
            Assert.DoesNotContain(pull.StdoutLines, l => l.StartsWith("pulled ", StringComparison.Ordinal));
            Assert.DoesNotContain("not found", stderr, StringComparison.Ordinal);
        }
        finally
        {
            serve.Signal(CliProcess.SIGINT);
            await serve.WaitForExitAsync();
        }
    }

    // These ended as exit 1 ("unexpected error ... Run again with -vv") instead of 2 (a bad value) or 4 (a file the
    // protocol cannot carry, as serve already said for the same file). Nothing is dialed: the ticket's node is not running.
    [Theory]
    [InlineData("shape-overflow", 2)]
    [InlineData("empty-send-name", 2)]
    [InlineData("empty-pull-name", 2)]
    [InlineData("pull-name-too-long", 2)]
    [InlineData("rank-above-wire", 4)]
    public async Task LocallyInvalidInput_HasTheDocumentedExitCode(string kind, int expected)
    {
        using var dir = new TestDirectory();
        string ticket = UnusedTicket();
        File.WriteAllBytes(dir.File("empty.bin"), []);
        File.WriteAllBytes(dir.File("one.bin"), [1]);
        File.WriteAllBytes(dir.File("r40.safetensors"), Rank40Safetensors());
        string[] args = kind switch
        {
            "shape-overflow" => ["send", ticket, dir.File("empty.bin"), "--dtype", "F32", "--shape", "4294967296,4294967296,4"],
            "empty-send-name" => ["send", ticket, dir.File("one.bin"), "--dtype", "U8", "--shape", "1", "--name", ""],
            "empty-pull-name" => ["pull", ticket, "", "-o", dir.File("out.safetensors")],
            "pull-name-too-long" => ["pull", ticket, new string('n', 2000), "-o", dir.File("out.safetensors")],
            "rank-above-wire" => ["send", ticket, dir.File("r40.safetensors")],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        using CliProcess run = await CliProcess.RunAsync(dir, args);
        Assert.True(run.ExitCode == expected, $"exit {run.ExitCode}: {string.Join('\n', run.StderrLines)}");
    }

    // A terminal wrapped it; it was refused as "cut short". Base32 has no whitespace, so all of it is dropped.
    [Fact]
    public async Task Send_TicketWithALineBreakInside_IsAccepted()
    {
        using var dir = new TestDirectory();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [new("w", Sample(DType.F32, [4], seed: 1))]);
        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", dir.File("out"));
        try
        {
            string ticket = await listen.WaitForTicketAsync();
            string wrapped = ticket[..40] + "\n" + ticket[40..];
            using CliProcess send = await CliProcess.RunAsync(dir, "send", wrapped, dir.File("m.safetensors"));
            Assert.True(send.ExitCode == 0, $"exit {send.ExitCode}: {string.Join('\n', send.StderrLines)}");
        }
        finally
        {
            listen.Signal(CliProcess.SIGINT);
            await listen.WaitForExitAsync();
        }
    }

    private static byte[] Rank40Safetensors()
    {
        string header = "{\"r40\":{\"dtype\":\"U8\",\"shape\":[" + string.Join(",", Enumerable.Repeat("1", 40)) + "],\"data_offsets\":[0,1]}}";
        header += new string(' ', (8 - header.Length % 8) % 8);
        var bytes = new byte[8 + header.Length + 1];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 8);
        return bytes;
    }
}
