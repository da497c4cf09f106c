namespace TensorProtocol;

/// <summary>
/// A string is not a valid <see cref="NodeTicket"/>. The message says what is wrong with it (prefix, version,
/// base32, a truncated or malformed address, ...).
/// </summary>
public sealed class TicketFormatException : FormatException
{
    /// <summary>Creates the exception with a message that says what is wrong.</summary>
    public TicketFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public TicketFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
