using System.Text.RegularExpressions;
using static TensorProtocol.Cli.Tests.TestTensors;

namespace TensorProtocol.Cli.Tests;

/// <summary>-v and -vv: log levels on stderr, and stack traces of errors only with -vv.</summary>
public sealed partial class VerbosityTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("-v")]
    [InlineData("-vv")]
    public async Task Send_Unreachable_LogsAndStackTracesFollowVerbosity(string? verbosity)
    {
        using var dir = new TestDirectory();
        WriteSample(dir.File("model.safetensors"));
        string[] args = ["send", CliEndToEndTests.ValidButUnreachableTicket, dir.File("model.safetensors")];
        using CliProcess send = await CliProcess.RunAsync(dir, verbosity is null ? args : [.. args, verbosity]);

        Assert.Equal(5, send.ExitCode);
        IReadOnlyList<string> stderr = send.StderrLines;
        Assert.Single(stderr, l => l.StartsWith("tensorp: error: send: tensor '", StringComparison.Ordinal));
        string[] levels = [.. stderr.Select(l => LogLine().Match(l)).Where(m => m.Success).Select(m => m.Groups["level"].Value).Distinct()];
        bool stackTrace = stderr.Any(l => l.StartsWith("   at ", StringComparison.Ordinal));
        switch (verbosity)
        {
            case null:
                Assert.Single(stderr);
                Assert.False(stackTrace);
                break;
            case "-v":
                Assert.Contains("info", levels);
                Assert.DoesNotContain("dbug", levels);
                Assert.DoesNotContain("trce", levels);
                Assert.False(stackTrace, string.Join('\n', stderr));
                break;
            default:
                Assert.Contains("info", levels);
                Assert.Contains("dbug", levels); // the QUIC layer logs the refused connection at debug level
                Assert.True(stackTrace, string.Join('\n', stderr));
                Assert.Contains(stderr, l => l.StartsWith("TensorProtocol.TensorProtocolException:", StringComparison.Ordinal));
                break;
        }
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d{3} (?<level>trce|dbug|info|warn|fail|crit) \S+: ")]
    private static partial Regex LogLine();
}
