namespace TensorProtocol.Wire;

/// <summary>
/// The constants of the wire protocol (docs/protocol.md): magics, version and the hard limits every decoder checks
/// before it allocates anything whose size the peer chose.
/// </summary>
internal static class WireFormat
{
    /// <summary>The protocol version in every header.</summary>
    public const byte Version = 1;

    /// <summary>The size of the little-endian <c>u32</c> header length that starts every frame.</summary>
    public const int LengthPrefixSize = sizeof(uint);

    /// <summary>The largest header, in bytes, without its length prefix.</summary>
    public const int MaxHeaderLength = 64 * 1024;

    /// <summary>The longest tensor name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 1024;

    /// <summary>The most dimensions a tensor may have.</summary>
    public const int MaxRank = 32;

    /// <summary>The most metadata entries a tensor may carry.</summary>
    public const int MaxMetadataEntries = 64;

    /// <summary>The longest metadata key, in UTF-8 bytes.</summary>
    public const int MaxMetadataKeyBytes = 256;

    /// <summary>The longest metadata value, in UTF-8 bytes.</summary>
    public const int MaxMetadataValueBytes = 16 * 1024;

    /// <summary>The longest status message, in UTF-8 bytes; longer messages are cut when encoded.</summary>
    public const int MaxMessageBytes = 4096;

    /// <summary>The default limit on the payload a decoder accepts: 16 GiB.</summary>
    public const long DefaultMaxPayloadLength = 16L << 30;

    /// <summary>The first bytes of a request header: ASCII <c>TPRQ</c>.</summary>
    public static ReadOnlySpan<byte> RequestMagic => "TPRQ"u8;

    /// <summary>The first bytes of a response header: ASCII <c>TPRS</c>.</summary>
    public static ReadOnlySpan<byte> ResponseMagic => "TPRS"u8;
}
