namespace TensorProtocol;

/// <summary>The single exception type of tensor operations; <see cref="Kind"/> says what failed.</summary>
public class TensorProtocolException : Exception
{
    /// <summary>Creates an exception of the given kind.</summary>
    public TensorProtocolException(TensorErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What failed.</summary>
    public TensorErrorKind Kind { get; }
}
