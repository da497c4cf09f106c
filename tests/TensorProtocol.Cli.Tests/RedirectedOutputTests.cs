using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>
/// With stdout and stderr redirected (as in every test here), tensorp prints plain text: no ANSI escape sequence in
/// any command's output, even in an environment that invites colours; and listen and serve print their ticket as
/// <c>ticket: TICKET</c> on a line of its own, which scripts parse.
/// </summary>
public sealed class RedirectedOutputTests
{
    private const char Escape = '\u001b';

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
    }

    private static void AssertTicketLine(CliProcess process, string ticket)
    {
        string line = Assert.Single(process.StdoutLines, l => l.Contains("ticket:", StringComparison.Ordinal));
        Assert.Equal($"ticket: {ticket}", line);
        Assert.DoesNotContain(ticket, char.IsWhiteSpace);
        Assert.Equal(ticket, NodeTicket.Parse(ticket).ToString());
    }
}
