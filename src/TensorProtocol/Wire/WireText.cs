using System.Text;
using System.Text.Unicode;

namespace TensorProtocol.Wire;

/// <summary>UTF-8 for the strings of a header: strict both ways, so what is sent is what was meant.</summary>
internal static class WireText
{
    private static readonly UTF8Encoding s_strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The UTF-8 length of a string that is to be sent, checked against a limit.
    /// </summary>
    /// <exception cref="ArgumentException">The string has an unpaired surrogate, or is too long.</exception>
    public static int GetByteCount(string value, int maxBytes, string what, string paramName)
    {
        int count;
        try
        {
            count = s_strict.GetByteCount(value);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"The {what} has an unpaired surrogate, which UTF-8 cannot carry.", paramName, e);
        }
        if (count > maxBytes)
        {
            throw new ArgumentException($"The {what} is {count} bytes in UTF-8; the protocol allows at most {maxBytes}.", paramName);
        }
        return count;
    }

    /// <summary>Decodes UTF-8 from the wire, refusing malformed input rather than replacing it.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out string value)
    {
        if (!Utf8.IsValid(bytes))
        {
            value = "";
            return false;
        }
        value = Encoding.UTF8.GetString(bytes);
        return true;
    }
}
