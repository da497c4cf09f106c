namespace TensorProtocol.Cli;

/// <summary>
/// The process exit codes of <c>tensorp</c>; scripts may rely on them. When several tensors fail in one
/// <c>send</c>, the code is that of the first failure.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Success (for listen and serve: stopped by SIGINT or SIGTERM).</summary>
    public const int Ok = 0;

    /// <summary>Any failure not listed below.</summary>
    public const int Other = 1;

    /// <summary>The command line is wrong (unknown option, missing argument, bad value).</summary>
    public const int Usage = 2;

    /// <summary>The ticket is not a valid node ticket.</summary>
    public const int BadTicket = 3;

    /// <summary>An input or output file is missing, unreadable, or not a valid tensor file.</summary>
    public const int FileError = 4;

    /// <summary>The peer could not be reached, the connection failed, or an operation timed out.</summary>
    public const int Connection = 5;

    /// <summary>The peer refused: not allowed, not found, too large, queue full.</summary>
    public const int Refused = 6;

    /// <summary>A send or pull was interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
