namespace TensorProtocol.Internal;

/// <summary>
/// RFC 4648 base32 (alphabet <c>a-z2-7</c>) without padding, written in lowercase. Decoding accepts either case and
/// is strict otherwise: every input has exactly one encoding, so text can be compared as well as bytes.
/// </summary>
internal static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    // Character → 5-bit value, or -1; both cases map to the same value.
    private static readonly sbyte[] s_values = BuildValues();

    /// <summary>The outcome of <see cref="TryDecode"/>.</summary>
    internal enum Result
    {
        /// <summary>Decoded.</summary>
        Done,

        /// <summary>A character outside the alphabet.</summary>
        InvalidCharacter,

        /// <summary>A length no byte count encodes to (1, 3 or 6 characters past a multiple of 8).</summary>
        InvalidLength,

        /// <summary>The unused low bits of the last character are not zero.</summary>
        NonZeroTrailingBits,
    }

    /// <summary>The number of characters that <paramref name="byteCount"/> bytes encode to.</summary>
    public static int GetEncodedLength(int byteCount) => (int)(((long)byteCount * 8 + 4) / 5);

    /// <summary>The number of bytes that <paramref name="charCount"/> characters decode to, if the length is valid.</summary>
    public static int GetDecodedLength(int charCount) => (int)((long)charCount * 5 / 8);

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        Span<char> text = bytes.Length <= 256 ? stackalloc char[GetEncodedLength(bytes.Length)] : new char[GetEncodedLength(bytes.Length)];
        Encode(bytes, text);
        return new string(text);
    }

    /// <summary>Writes exactly <see cref="GetEncodedLength"/> characters.</summary>
    public static void Encode(ReadOnlySpan<byte> bytes, Span<char> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, GetEncodedLength(bytes.Length), nameof(destination));
        int buffer = 0;
        int bits = 0;
        int written = 0;
        foreach (byte value in bytes)
        {
            buffer = (buffer << 8) | value;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                destination[written++] = Alphabet[(buffer >> bits) & 31];
            }
            buffer &= (1 << bits) - 1;
        }
        if (bits > 0)
        {
            destination[written] = Alphabet[(buffer << (5 - bits)) & 31];
        }
    }

    /// <summary>
    /// Decodes into <paramref name="destination"/>, which must hold <see cref="GetDecodedLength"/> bytes.
    /// <paramref name="errorIndex"/> is the offending character for <see cref="Result.InvalidCharacter"/>, else -1.
    /// </summary>
    public static Result TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int bytesWritten, out int errorIndex)
    {
        bytesWritten = 0;
        errorIndex = -1;
        // 5 or more bits left over means a whole character carries no data: no byte count encodes to that length.
        if (text.Length * 5L % 8 >= 5)
        {
            return Result.InvalidLength;
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, GetDecodedLength(text.Length), nameof(destination));
        int buffer = 0;
        int bits = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int value = c < s_values.Length ? s_values[c] : -1;
            if (value < 0)
            {
                errorIndex = i;
                return Result.InvalidCharacter;
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                destination[bytesWritten++] = (byte)(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }
        // Leftover bits must be zero, or two texts would decode to the same bytes.
        return buffer == 0 ? Result.Done : Result.NonZeroTrailingBits;
    }

    private static sbyte[] BuildValues()
    {
        var values = new sbyte[128];
        values.AsSpan().Fill(-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            values[Alphabet[i]] = (sbyte)i;
            values[char.ToUpperInvariant(Alphabet[i])] = (sbyte)i;
        }
        return values;
    }
}
