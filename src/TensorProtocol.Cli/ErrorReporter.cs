using TensorProtocol.Formats;

namespace TensorProtocol.Cli;

/// <summary>Turns any failure into one line on stderr (what failed, why, what to try) and an exit code.</summary>
internal static class ErrorReporter
{
    public static int Report(Exception error, string operation, int verbosity)
    {
        (int code, string message) = Classify(error, operation);
        Console.Error.WriteLine(Format(message));
        if (verbosity >= 2)
        {
            Console.Error.WriteLine(Printable.Lines(error.ToString()));
        }
        return code;
    }

    /// <summary>The error line as printed: a fixed prefix scripts can match, and the message on one line.</summary>
    public static string Format(string message) => $"tensorp: error: {OneLine(message)}";

    public static (int ExitCode, string Message) Classify(Exception error, string operation)
    {
        switch (error)
        {
            case CliException cli:
                return (cli.ExitCode, cli.Message);
            case TicketFormatException ticket:
                return (ExitCodes.BadTicket,
                    $"{operation}: bad ticket: {ticket.Message} Copy the whole text after 'ticket:' printed by 'tensorp listen' or 'tensorp serve'.");
            case TensorFileFormatException format:
                return (ExitCodes.FileError, $"{operation}: invalid tensor file: {format.Message}");
            case FileNotFoundException notFound:
                return (ExitCodes.FileError, $"{operation}: file not found: {notFound.FileName ?? notFound.Message}. Check the path.");
            case DirectoryNotFoundException directory:
                return (ExitCodes.FileError, $"{operation}: directory not found: {directory.Message}");
            case UnauthorizedAccessException denied:
                return (ExitCodes.FileError, $"{operation}: permission denied: {denied.Message}");
            case InvalidDataException invalid:
                return (ExitCodes.FileError, $"{operation}: invalid file: {invalid.Message}");
            case TensorProtocolException protocol:
                return ClassifyProtocol(protocol, operation);
            case IOException io:
                return (ExitCodes.FileError, $"{operation}: I/O error: {io.Message}");
            case OperationCanceledException:
                return (ExitCodes.Interrupted, $"{operation}: interrupted.");
            default:
                return (ExitCodes.Other, $"{operation}: unexpected error ({error.GetType().Name}): {error.Message} Run again with -vv for details.");
        }
    }

    private static (int, string) ClassifyProtocol(TensorProtocolException e, string operation) => e.Kind switch
    {
        TensorErrorKind.Connection => (ExitCodes.Connection,
            $"{operation}: connection failed: {e.Message} Is the peer running, and is its address in the ticket reachable from here?"),
        TensorErrorKind.Timeout => (ExitCodes.Connection,
            $"{operation}: timed out: {e.Message} Is the peer running and reachable (UDP not blocked)?"),
        TensorErrorKind.NotAllowed => (ExitCodes.Refused,
            $"{operation}: refused by peer: {e.Message} Ask the peer to add this node with --allow (see 'tensorp id')."),
        TensorErrorKind.NotFound => (ExitCodes.Refused, $"{operation}: not found on peer: {e.Message}"),
        TensorErrorKind.TooLarge => (ExitCodes.Refused, $"{operation}: refused by peer (too large): {e.Message}"),
        TensorErrorKind.QueueFull => (ExitCodes.Refused, $"{operation}: refused by peer (queue full): {e.Message} Retry later."),
        TensorErrorKind.Io => (ExitCodes.FileError, $"{operation}: {e.Message}"),
        TensorErrorKind.Serialization => (ExitCodes.FileError, $"{operation}: {e.Message}"), // a name or shape the protocol cannot carry
        _ => (ExitCodes.Other, $"{operation}: {e.Kind}: {e.Message}"),
    };

    // Messages quote names and header text from files and peers: line breaks become spaces, other controls escapes.
    public static string OneLine(string text) => Printable.Text(text.ReplaceLineEndings(" ").Trim());
}
