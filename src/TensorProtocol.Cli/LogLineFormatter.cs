using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace TensorProtocol.Cli;

/// <summary>Settings of <see cref="LogLineFormatter"/>.</summary>
internal sealed class LogLineFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>Whether an exception attached to a log entry is written whole (-vv) or as its type and message.</summary>
    public bool IncludeStackTraces { get; set; }
}

/// <summary>
/// Log entries as one plain line each on stderr: time, level, category, message. Never colours (stderr may be a file
/// even when stdout is a terminal), and never a stack trace unless -vv asked for them.
/// </summary>
internal sealed class LogLineFormatter(IOptionsMonitor<LogLineFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "tensorp";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        string message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }
        textWriter.Write(DateTime.Now.ToString("HH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(' ');
        textWriter.Write(logEntry.Category);
        textWriter.Write(": ");
        // Messages quote tensor names a peer chose: escaped like every other line (Printable).
        textWriter.Write(Printable.Text(message.ReplaceLineEndings(" ")));
        if (logEntry.Exception is { } exception)
        {
            if (options.CurrentValue.IncludeStackTraces)
            {
                textWriter.WriteLine();
                textWriter.Write(Printable.Lines(exception.ToString()));
            }
            else
            {
                textWriter.Write($" ({exception.GetType().Name}: {Printable.Text(exception.Message.ReplaceLineEndings(" "))})");
            }
        }
        textWriter.WriteLine();
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
