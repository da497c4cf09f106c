namespace TensorProtocol.Wire;

/// <summary>The <see cref="ProtocolError"/>s that several decoders report, worded once.</summary>
internal static class ProtocolErrors
{
    /// <summary>
    /// Checks what every header starts with: its total length against <see cref="WireFormat.MaxHeaderLength"/>, then
    /// the 4-byte magic and the version byte. On success <paramref name="reader"/> stands after them.
    /// </summary>
    public static bool TryReadPreamble(ref WireReader reader, int headerLength, ReadOnlySpan<byte> expectedMagic, string expected, out ProtocolError error)
    {
        if (headerLength > WireFormat.MaxHeaderLength)
        {
            return Fail(out error, HeaderLength(headerLength));
        }
        if (!reader.TryReadBytes(expectedMagic.Length, out ReadOnlySpan<byte> magic))
        {
            return Fail(out error, Truncated(reader, "magic"));
        }
        if (!magic.SequenceEqual(expectedMagic))
        {
            return Fail(out error, Magic(magic, expected));
        }
        if (!reader.TryReadByte(out byte version))
        {
            return Fail(out error, Truncated(reader, "version"));
        }
        if (version != WireFormat.Version)
        {
            return Fail(out error, Version(version));
        }
        error = ProtocolError.None;
        return true;
    }

    /// <summary>Sets <paramref name="error"/> and returns false, so a decoder can <c>return Fail(out error, ...)</c>.</summary>
    public static bool Fail(out ProtocolError error, ProtocolError value)
    {
        error = value;
        return false;
    }

    public static ProtocolError Truncated(in WireReader reader, string field) =>
        new(ProtocolErrorCode.Truncated, $"The header ends inside the {field} (at byte {reader.Offset}).");

    public static ProtocolError Trailing(in WireReader reader) =>
        new(ProtocolErrorCode.TrailingBytes, $"The header has {reader.Remaining} bytes after its last field (from byte {reader.Offset}).");

    public static ProtocolError HeaderLength(long length) =>
        new(ProtocolErrorCode.InvalidHeaderLength, $"The header length is {length}; it must be 1 to {WireFormat.MaxHeaderLength} bytes.");

    public static ProtocolError Version(byte version) =>
        new(ProtocolErrorCode.UnsupportedVersion, $"Protocol version {version} is not supported; this node speaks version {WireFormat.Version}.");

    public static ProtocolError Magic(ReadOnlySpan<byte> magic, string expected)
    {
        // Name the common mistake (a request where a response belongs, or the reverse) outright.
        string what = magic.SequenceEqual(WireFormat.RequestMagic) ? "a request header"
            : magic.SequenceEqual(WireFormat.ResponseMagic) ? "a response header"
            : $"0x{Convert.ToHexStringLower(magic)}";
        return new(ProtocolErrorCode.BadMagic, $"Expected {expected}, found {what}.");
    }
}
