using System.Globalization;
using System.Text.RegularExpressions;
using TensorProtocol.Formats;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>
/// With stdout and stderr redirected (as in every test here), tensorp prints plain text: no ANSI escape sequence in
/// any command's output, even in an environment that invites colours; listen and serve print their ticket as
/// <c>ticket: TICKET</c> on a line of its own, which scripts parse; and send and pull print progress as plain lines,
/// only for transfers that last.
/// </summary>
public sealed partial class RedirectedOutputTests
{
    private const char Escape = '\u001b';
    private const int LargeBytes = 64 * 1024 * 1024;

    public static TheoryData<string[]> OneShotCommands => new()
    {
        { ["--help"] },
        { ["demo", "--help"] },
        { ["id", "--help"] },
        { ["listen", "--help"] },
        { ["send", "--help"] },
        { ["serve", "--help"] },
        { ["pull", "--help"] },
        { ["id", "-v"] },
        { ["send", "--no-such-option"] },
        { ["pull", "tensorp1notaticket!", "w", "-o", "out.safetensors"] },
        { ["send", CliEndToEndTests.ValidButUnreachableTicket, "missing.safetensors", "-vv"] },
    };

    [Theory]
    [MemberData(nameof(OneShotCommands))]
    public async Task OneShotCommand_Redirected_PrintsNoEscapeSequences(string[] args)
    {
        using var dir = new TestDirectory();
        using CliProcess run = await CliProcess.RunAsync(dir, CliProcess.ColourfulEnvironment, null, args);
        Assert.NotEqual("\n", run.AllOutput);
        Assert.DoesNotContain(Escape, run.AllOutput);
    }

    [Fact]
    public async Task ListenSend_Redirected_PlainOutputAndTicketOnItsOwnLine()
    {
        using var dir = new TestDirectory();
        WriteSample(dir.File("model.safetensors"));
        using CliProcess listen = CliProcess.Start(dir, CliProcess.ColourfulEnvironment, "listen", "-v", "--bind", "127.0.0.1", "--out", dir.File("out"));
        string ticket = await listen.WaitForTicketAsync();
        using CliProcess send = await CliProcess.RunAsync(dir, CliProcess.ColourfulEnvironment, null, "send", "-v", ticket, dir.File("model.safetensors"));
        Assert.True(send.ExitCode == 0, send.AllOutput);
        for (int i = 0; i < 4; i++)
        {
            await listen.WaitForLineAsync(l => l.StartsWith("received ", StringComparison.Ordinal));
        }
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();

        Assert.Equal(0, listen.ExitCode);
        AssertTicketLine(listen, ticket);
        Assert.DoesNotContain(Escape, listen.AllOutput);
        Assert.DoesNotContain(Escape, send.AllOutput);
        // Fast transfers print their outcomes only, as before progress existed: a line per tensor, then the summary.
        Assert.Equal(5, send.StdoutLines.Count);
        Assert.All(send.StdoutLines, l => Assert.StartsWith("sent ", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServePull_Redirected_PlainOutputAndTicketOnItsOwnLine()
    {
        using var dir = new TestDirectory();
        WriteSample(dir.File("model.safetensors"));
        using CliProcess serve = CliProcess.Start(dir, CliProcess.ColourfulEnvironment, "serve", "-v", dir.File("model.safetensors"), "--bind", "127.0.0.1");
        string ticket = await serve.WaitForTicketAsync();
        using CliProcess pull = await CliProcess.RunAsync(dir, CliProcess.ColourfulEnvironment, null,
            "pull", "-v", ticket, "weight", "bias", "-o", dir.File("pulled.safetensors"));
        Assert.True(pull.ExitCode == 0, pull.AllOutput);
        serve.Signal(CliProcess.SIGINT);
        await serve.WaitForExitAsync();

        Assert.Equal(0, serve.ExitCode);
        AssertTicketLine(serve, ticket);
        Assert.DoesNotContain(Escape, serve.AllOutput);
        Assert.DoesNotContain(Escape, pull.AllOutput);
        // Fast transfers print their outcomes only.
        Assert.Collection(pull.StdoutLines,
            l => Assert.StartsWith("pulled weight ", l, StringComparison.Ordinal),
            l => Assert.StartsWith("pulled bias ", l, StringComparison.Ordinal),
            l => Assert.StartsWith("wrote ", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListenSend_LongTransferRedirected_PlainProgressLinesUpToTheOutcome()
    {
        using var dir = new TestDirectory();
        WriteLarge(dir.File("large.safetensors"));
        using CliProcess listen = CliProcess.Start(dir, "listen", "--bind", "127.0.0.1", "--out", dir.File("out"));
        string ticket = await listen.WaitForTicketAsync();
        using CliProcess send = await CliProcess.RunAsync(dir, LongTransferEnvironment, null, "send", ticket, dir.File("large.safetensors"));
        Assert.True(send.ExitCode == 0, send.AllOutput);
        await listen.WaitForLineAsync(l => l.StartsWith("received big ", StringComparison.Ordinal));
        listen.Signal(CliProcess.SIGINT);
        await listen.WaitForExitAsync();

        AssertProgressThenOutcome(send, "sending", "sent");
        Assert.DoesNotContain(Escape, send.AllOutput);
    }

    [Fact]
    public async Task ServePull_LongTransferRedirected_PlainProgressLinesUpToTheOutcome()
    {
        using var dir = new TestDirectory();
        WriteLarge(dir.File("large.safetensors"));
        using CliProcess serve = CliProcess.Start(dir, "serve", dir.File("large.safetensors"), "--bind", "127.0.0.1");
        string ticket = await serve.WaitForTicketAsync();
        using CliProcess pull = await CliProcess.RunAsync(dir, LongTransferEnvironment, null, "pull", ticket, "big", "-o", dir.File("pulled.npy"));
        Assert.True(pull.ExitCode == 0, pull.AllOutput);
        serve.Signal(CliProcess.SIGINT);
        await serve.WaitForExitAsync();

        AssertProgressThenOutcome(pull, "pulling", "pulled");
        Assert.DoesNotContain(Escape, pull.AllOutput);
        Assert.Equal($"wrote {dir.File("pulled.npy")}", pull.StdoutLines[^1]);
    }

    /// <summary>
    /// The colourful environment, with the test hook that makes progress lines due at once (and the node report every
    /// chunk): what a transfer of minutes prints every few seconds, a 64 MiB one on loopback prints now.
    /// </summary>
    private static Dictionary<string, string?> LongTransferEnvironment =>
        new(CliProcess.ColourfulEnvironment) { ["TENSORP_PROGRESS_INTERVAL_MS"] = "0" };

    private static void WriteLarge(string path) =>
        SafetensorsWriter.Write(path, [new KeyValuePair<string, TensorData>("big", Sample(DType.U8, [LargeBytes], seed: 7))]);

    /// <summary>
    /// Progress lines of tensor 'big' whose byte counts go up (at least one strictly between nothing and everything),
    /// then the outcome line with every byte; nothing else in between.
    /// </summary>
    private static void AssertProgressThenOutcome(CliProcess process, string ongoing, string done)
    {
        IReadOnlyList<string> lines = process.StdoutLines;
        int outcome = lines.ToList().FindIndex(l => l.StartsWith($"{done} big ", StringComparison.Ordinal));
        Assert.True(outcome > 0, process.AllOutput);
        Assert.StartsWith($"{done} big U8 [{LargeBytes}] 64.0 MiB in ", lines[outcome], StringComparison.Ordinal);
        List<double> bytes = [];
        for (int i = 0; i < outcome; i++)
        {
            Match match = ProgressLine().Match(lines[i]);
            Assert.True(match.Success && match.Groups["verb"].Value == ongoing, $"line {i} is not a progress line of 'big':\n{process.AllOutput}");
            bytes.Add(Bytes(match.Groups["done"].Value));
            Assert.Equal(LargeBytes, Bytes(match.Groups["total"].Value));
        }
        Assert.Contains(bytes, b => b is > 0 and < LargeBytes);
        Assert.All(bytes, b => Assert.InRange(b, 0, LargeBytes - 1));
        Assert.All(bytes.Zip(bytes.Skip(1)), pair => Assert.True(pair.First < pair.Second, process.Stdout));
    }

    private static double Bytes(string size)
    {
        string[] parts = size.Split(' ');
        double unit = parts[1] switch
        {
            "B" => 1,
            "KiB" => 1024,
            "MiB" => 1024 * 1024,
            "GiB" => 1024 * 1024 * 1024,
            _ => throw new FormatException(size),
        };
        return double.Parse(parts[0], CultureInfo.InvariantCulture) * unit;
    }

    [GeneratedRegex(@"^(?<verb>sending|pulling) big: (?<done>[\d.]+ (?:B|KiB|MiB|GiB)) / (?<total>[\d.]+ (?:B|KiB|MiB|GiB)) \(\d+ %\), [\d.]+ (?:B|KiB|MiB|GiB)/s, ETA (?:-|\d+ s|\d+ min \d\d s|\d+ h \d\d min)$")]
    private static partial Regex ProgressLine();

    private static void AssertTicketLine(CliProcess process, string ticket)
    {
        string line = Assert.Single(process.StdoutLines, l => l.Contains("ticket:", StringComparison.Ordinal));
        Assert.Equal($"ticket: {ticket}", line);
        Assert.DoesNotContain(ticket, char.IsWhiteSpace);
        Assert.Equal(ticket, NodeTicket.Parse(ticket).ToString());
    }
}
