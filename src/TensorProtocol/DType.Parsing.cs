using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace TensorProtocol;

public sealed partial class DType
{
    private const string TorchPrefix = "torch.";

    /// <summary>
    /// Parses an element type name: a safetensors name (<c>F32</c>, <c>BF16</c>, <c>F8_E4M3</c>, ...), a torch name
    /// with or without the <c>torch.</c> prefix (<c>torch.float32</c>, <c>float</c>, <c>half</c>, <c>long</c>,
    /// <c>float8_e4m3fn</c>, ...) or a numpy name or type string (<c>float32</c>, <c>&lt;f4</c>, <c>f4</c>,
    /// <c>|u1</c>, <c>&lt;c8</c>, ...). Names are case-insensitive; numpy type strings are not.
    /// </summary>
    /// <remarks>
    /// A few spellings mean different things in different libraries; these rules decide, in this order:
    /// <list type="bullet">
    /// <item>A safetensors name wins over a numpy type string without byte order: <c>i8</c> is <see cref="I8"/>
    /// (numpy would read int64) and <c>u8</c> is <see cref="U8"/>. Write <c>&lt;i8</c> for numpy's int64.</item>
    /// <item>A torch name wins over numpy's: <c>float</c> is <see cref="F32"/> and <c>int</c> is
    /// <see cref="I32"/> (numpy reads both as 64-bit).</item>
    /// </list>
    /// The payload length check of <see cref="TensorData"/> catches a wrong guess whenever the element sizes differ.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="FormatException">
    /// The text names no supported element type, or is a big-endian numpy type string (<c>&gt;f4</c>).
    /// </exception>
    public static DType Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ParseCore(text, out DType? dtype) switch
        {
            ParseResult.Parsed => dtype!,
            ParseResult.BigEndian => throw new FormatException(
                $"'{text}' is a big-endian numpy dtype; only little-endian data is supported (convert with " +
                $"array.astype('<{text.AsSpan(1)}')."),
            _ => throw new FormatException(
                $"Unknown dtype '{text}'. Expected a safetensors name (F32, BF16, I64, BOOL, ...), a torch name " +
                "(torch.float32, float, half, long, ...) or a little-endian numpy name (float32, <f4, |u1, ...)."),
        };
    }

    /// <summary>Parses an element type name as <see cref="Parse(string)"/> does, without throwing.</summary>
    /// <returns><see langword="true"/> if <paramref name="text"/> names a supported element type.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out DType? dtype)
    {
        if (text is null)
        {
            dtype = null;
            return false;
        }
        return ParseCore(text, out dtype) == ParseResult.Parsed;
    }

    private enum ParseResult
    {
        Unknown,
        Parsed,
        BigEndian,
    }

    private static ParseResult ParseCore(string text, out DType? dtype)
    {
        ReadOnlySpan<char> span = text;
        if (span.StartsWith(TorchPrefix, StringComparison.OrdinalIgnoreCase))
        {
            // Only torch names follow the prefix: "torch.<f4" or "torch.F32" are nobody's spelling.
            return Aliases.Torch.TryGetValue(span[TorchPrefix.Length..], out dtype) ? ParseResult.Parsed : ParseResult.Unknown;
        }
        if (Aliases.Names.TryGetValue(span, out dtype))
        {
            return ParseResult.Parsed;
        }
        return ParseNumpyTypeString(span, out dtype);
    }

    // A numpy array-interface type string: optional byte order, kind letter, size in bytes ("<f4", "|b1", "i8").
    private static ParseResult ParseNumpyTypeString(ReadOnlySpan<char> text, out DType? dtype)
    {
        dtype = null;
        char order = text.Length > 0 && text[0] is '<' or '>' or '|' or '=' or '!' ? text[0] : '\0';
        ReadOnlySpan<char> rest = order == '\0' ? text : text[1..];
        // The size is 1 to 16 without a leading zero ("f08" is not numpy's).
        if (rest.Length is < 2 or > 3 || rest[1] == '0' ||
            !int.TryParse(rest[1..], System.Globalization.NumberStyles.None, null, out int size))
        {
            return ParseResult.Unknown;
        }
        dtype = (rest[0], size) switch
        {
            ('b', 1) => BOOL,
            ('i', 1) => I8,
            ('i', 2) => I16,
            ('i', 4) => I32,
            ('i', 8) => I64,
            ('u', 1) => U8,
            ('u', 2) => U16,
            ('u', 4) => U32,
            ('u', 8) => U64,
            ('f', 2) => F16,
            ('f', 4) => F32,
            ('f', 8) => F64,
            ('c', 8) => C64,
            ('c', 16) => C128,
            _ => null,
        };
        if (dtype is null)
        {
            return ParseResult.Unknown;
        }
        // '>' and '!' (network order) are big-endian. One-byte elements have no byte order, so numpy's ">u1" is
        // the same data as "|u1". '=' is native order, and every platform .NET runs this library on is little-endian.
        if (order is '>' or '!' && dtype.ElementSize > 1)
        {
            dtype = null;
            return ParseResult.BigEndian;
        }
        return ParseResult.Parsed;
    }

    // In a nested class so that its tables are built after (and only if) the DType instances exist: the order of
    // static initializers across the files of a partial class is not defined.
    private static class Aliases
    {
        // Names torch uses for its dtypes (str(torch.float32) is "torch.float32"), including the legacy aliases.
        private static readonly (string Name, DType DType)[] s_torch =
        [
            ("float64", F64), ("double", F64),
            ("float32", F32), ("float", F32),
            ("float16", F16), ("half", F16),
            ("bfloat16", BF16),
            ("int64", I64), ("long", I64),
            ("int32", I32), ("int", I32),
            ("int16", I16), ("short", I16),
            ("int8", I8),
            ("uint64", U64), ("uint32", U32), ("uint16", U16), ("uint8", U8),
            ("bool", BOOL),
            ("float8_e4m3fn", F8_E4M3),
            ("float8_e5m2", F8_E5M2),
            ("complex64", C64), ("cfloat", C64),
            ("complex128", C128), ("cdouble", C128),
        ];

        // numpy names that torch does not also use (numpy's "float" and "int" mean 64 bits; torch's meaning wins).
        private static readonly (string Name, DType DType)[] s_numpy =
        [
            ("single", F32), ("bool_", BOOL), ("csingle", C64),
        ];

        public static FrozenDictionary<string, DType>.AlternateLookup<ReadOnlySpan<char>> Torch { get; } = Build(s_torch);

        public static FrozenDictionary<string, DType>.AlternateLookup<ReadOnlySpan<char>> Names { get; } =
            Build([.. s_all.Select(d => (d.Name, d)), .. s_torch, .. s_numpy]);

        // Names may repeat across the lists ("BOOL" and torch's "bool") but must never mean two types.
        private static FrozenDictionary<string, DType>.AlternateLookup<ReadOnlySpan<char>> Build((string Name, DType DType)[] aliases)
        {
            var table = new Dictionary<string, DType>(StringComparer.OrdinalIgnoreCase);
            foreach ((string name, DType dtype) in aliases)
            {
                if (!table.TryAdd(name, dtype) && table[name] != dtype)
                {
                    throw new InvalidOperationException($"The dtype alias '{name}' is ambiguous.");
                }
            }
            return table.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        }
    }
}
