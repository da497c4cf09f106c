namespace TensorProtocol.Wire;

/// <summary>Why a header was rejected. Every decoding failure is one of these; decoders throw nothing.</summary>
internal enum ProtocolErrorCode : byte
{
    /// <summary>No error.</summary>
    None,

    /// <summary>The header ends before a field does.</summary>
    Truncated,

    /// <summary>Bytes remain inside the declared header length after the last field.</summary>
    TrailingBytes,

    /// <summary>The declared header length is 0 or above <see cref="WireFormat.MaxHeaderLength"/>.</summary>
    InvalidHeaderLength,

    /// <summary>The header does not start with the expected magic.</summary>
    BadMagic,

    /// <summary>A protocol version this build does not speak.</summary>
    UnsupportedVersion,

    /// <summary>An operation code that is neither Push nor Pull.</summary>
    UnknownOperation,

    /// <summary>A status code that is not defined.</summary>
    UnknownStatus,

    /// <summary>A dtype code that is not defined.</summary>
    UnknownDType,

    /// <summary>A flag bit that is reserved is set, or a tensor is described where none may be.</summary>
    InvalidFlags,

    /// <summary>The tensor name is empty.</summary>
    EmptyName,

    /// <summary>The tensor name is longer than <see cref="WireFormat.MaxNameBytes"/>.</summary>
    NameTooLong,

    /// <summary>A string is not well-formed UTF-8.</summary>
    InvalidUtf8,

    /// <summary>More dimensions than <see cref="WireFormat.MaxRank"/>.</summary>
    RankTooLarge,

    /// <summary>A dimension above 2^63 - 1.</summary>
    InvalidDimension,

    /// <summary>The shape describes more than 2^63 - 1 bytes.</summary>
    ShapeOverflow,

    /// <summary>The payload length differs from product(shape) × element size.</summary>
    PayloadLengthMismatch,

    /// <summary>The payload is longer than the receiver accepts.</summary>
    PayloadTooLarge,

    /// <summary>More metadata entries than <see cref="WireFormat.MaxMetadataEntries"/>.</summary>
    TooManyMetadataEntries,

    /// <summary>An empty metadata key.</summary>
    EmptyMetadataKey,

    /// <summary>A metadata key longer than <see cref="WireFormat.MaxMetadataKeyBytes"/>.</summary>
    MetadataKeyTooLong,

    /// <summary>A metadata value longer than <see cref="WireFormat.MaxMetadataValueBytes"/>.</summary>
    MetadataValueTooLong,

    /// <summary>The same metadata key twice.</summary>
    DuplicateMetadataKey,

    /// <summary>A status message longer than <see cref="WireFormat.MaxMessageBytes"/>.</summary>
    MessageTooLong,
}

/// <summary>A rejected header: what kind of violation and a message for logs and for the peer.</summary>
internal readonly record struct ProtocolError(ProtocolErrorCode Code, string Message)
{
    /// <summary>What a decoder reports alongside success (unlike <c>default</c>, its message is not null).</summary>
    public static ProtocolError None { get; } = new(ProtocolErrorCode.None, "");

    /// <summary>The status to answer a request with that failed this way.</summary>
    public ResponseStatus Status => Code == ProtocolErrorCode.PayloadTooLarge ? ResponseStatus.TooLarge : ResponseStatus.BadRequest;

    /// <inheritdoc/>
    public override string ToString() => $"{Code}: {Message}";
}
