namespace TensorProtocol.Cli;

/// <summary>A failure the CLI itself detects, with the exit code and the one-line message to print.</summary>
internal sealed class CliException : Exception
{
    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException) => ExitCode = exitCode;

    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int ExitCode { get; } = ExitCodes.Other;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    public static CliException File(string message, Exception? inner = null) => new(ExitCodes.FileError, message, inner);
}
