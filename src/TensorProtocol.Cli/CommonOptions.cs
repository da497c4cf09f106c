using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;

namespace TensorProtocol.Cli;

/// <summary>Options shared by several commands, and the plumbing every command runs through.</summary>
internal sealed class CommonOptions
{
    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log what the node does (information level) to stderr, one line per entry.",
        Recursive = true,
    };

    public Option<bool> VeryVerbose { get; } = new("-vv")
    {
        Description = "Log everything (trace level) to stderr, and print the stack traces of errors (never shown otherwise).",
        Recursive = true,
    };

    public static Option<FileInfo> KeyOption() => new("--key")
    {
        Description = $"The identity key file (PEM, created with mode 0600 when missing). Default: {Identity.DefaultKeyPath} ($XDG_CONFIG_HOME/tensorp/node.key or ~/.config/tensorp/node.key).",
        HelpName = "FILE",
    };

    public static Option<int> PortOption() => new("--port", "-p")
    {
        Description = "The UDP port to listen on; 0 picks a free one.",
        DefaultValueFactory = _ => 0,
        HelpName = "N",
        Validators = { r => { if (r.GetValueOrDefault<int>() is < 0 or > 65535) { r.AddError("--port must be within 0..65535."); } } },
    };

    public static Option<string> BindOption() => new("--bind")
    {
        Description = "The local address to bind. Default: all interfaces (the ticket then lists every up interface's address).",
        HelpName = "ADDR",
        Validators = { r => { if (!IPAddress.TryParse(r.GetValueOrDefault<string>() ?? "", out _)) { r.AddError($"--bind '{r.GetValueOrDefault<string>()}' is not an IP address."); } } },
    };

    public static Option<string[]> AllowOption(string what) => new("--allow")
    {
        Description = $"Only these node ids may {what} (repeat the option for several). Default: every node with the ticket.",
        HelpName = "NODEID",
        Arity = ArgumentArity.OneOrMore,
        Validators =
        {
            r =>
            {
                foreach (string id in r.GetValueOrDefault<string[]>() ?? [])
                {
                    if (!NodeId.TryParse(id, out _))
                    {
                        r.AddError($"--allow '{id}' is not a node id (52 base32 characters, as printed by 'tensorp id').");
                    }
                }
            },
        },
    };

    public static Option<double> TimeoutOption() => new("--timeout")
    {
        Description = "Seconds to wait for the peer's handshake before giving up.",
        DefaultValueFactory = _ => 10,
        HelpName = "SECONDS",
        Validators = { r => { if (r.GetValueOrDefault<double>() is not (> 0 and < 86400)) { r.AddError("--timeout must be a positive number of seconds."); } } },
    };

    public int Verbosity(ParseResult parse) => parse.GetValue(VeryVerbose) ? 2 : parse.GetValue(Verbose) ? 1 : 0;

    /// <summary>Runs a command body: logging set up, every failure turned into one line on stderr and an exit code.</summary>
    public async Task<int> RunAsync(ParseResult parse, string operation, Func<ILoggerFactory, Task<int>> body)
    {
        int verbosity = Verbosity(parse);
        using ILoggerFactory loggers = CreateLoggerFactory(verbosity);
        try
        {
            return await body(loggers).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The CLI's last line of defence: every failure becomes a message and an exit code.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return ErrorReporter.Report(e, operation, verbosity);
        }
    }

    /// <summary>A tensor name given on the command line that the protocol cannot carry is a usage error (exit 2), found before anything is dialed.</summary>
    public static void ValidateName(string name)
    {
        try
        {
            TensorNode.ValidateName(name);
        }
        catch (ArgumentException e)
        {
            throw CliException.Usage($"'{name}' cannot be a tensor name: {e.Message}");
        }
    }

    public static HashSet<NodeId>? ParseAllowList(string[]? ids) =>
        ids is null || ids.Length == 0 ? null : [.. ids.Select(NodeId.Parse)];

    /// <summary>The log level of a verbosity: nothing by default (errors are reported as one line), -v information, -vv trace.</summary>
    public static LogLevel LogLevelOf(int verbosity) => verbosity switch
    {
        0 => LogLevel.None,
        1 => LogLevel.Information,
        _ => LogLevel.Trace,
    };

    private static ILoggerFactory CreateLoggerFactory(int verbosity) =>
        LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(LogLevelOf(verbosity));
            // Everything to stderr, so stdout stays the command's output (tickets, tables) that scripts parse.
            builder.AddConsole(o =>
            {
                o.FormatterName = LogLineFormatter.FormatterName;
                o.LogToStandardErrorThreshold = LogLevel.Trace;
            });
            builder.AddConsoleFormatter<LogLineFormatter, LogLineFormatterOptions>(o => o.IncludeStackTraces = verbosity >= 2);
        });
}
