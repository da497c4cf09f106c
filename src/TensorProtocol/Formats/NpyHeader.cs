using System.Globalization;
using System.Text;

namespace TensorProtocol.Formats;

/// <summary>
/// The header of a .npy file: the Python dict literal <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>.
/// Parsed by a small strict parser of Python literals (strings, booleans, integers, tuples, lists, None, dicts),
/// never evaluated.
/// </summary>
internal static class NpyHeader
{
    public static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Data starts at a multiple of this, as numpy writes (numpy before 1.14 used 16).</summary>
    public const int Alignment = 64;

    /// <summary>
    /// The deepest nesting of dicts, tuples and lists accepted. numpy's headers nest two levels deep (three for a
    /// structured descr); the limit keeps the recursive parser far from the end of the stack on any thread, whatever
    /// a 1 MiB header of brackets asks for.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>A Python tuple; lists are <see cref="List{T}"/> so that the two stay apart.</summary>
    public sealed class Tuple(List<object?> items)
    {
        public List<object?> Items { get; } = items;
    }

    /// <summary>The numpy type string of a dtype, or null when numpy has no such type (BF16, the 8-bit floats).</summary>
    public static string? Descr(DType dtype) =>
        dtype == DType.BF16 || dtype == DType.F8_E4M3 || dtype == DType.F8_E5M2 ? null
        : dtype == DType.BOOL ? "|b1"
        : $"{(dtype.ElementSize == 1 ? '|' : '<')}{Kind(dtype)}{dtype.ElementSize}";

    private static char Kind(DType dtype) =>
        dtype == DType.F64 || dtype == DType.F32 || dtype == DType.F16 ? 'f'
        : dtype == DType.C64 || dtype == DType.C128 ? 'c'
        : dtype == DType.U64 || dtype == DType.U32 || dtype == DType.U16 || dtype == DType.U8 ? 'u'
        : 'i';

    /// <summary>The dict text as numpy writes it, without padding: keys sorted, a trailing ", " before the brace.</summary>
    public static string Format(string descr, ReadOnlySpan<long> shape)
    {
        var text = new StringBuilder("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }
        return text.Append(shape.Length == 1 ? ",), }" : "), }").ToString();
    }

    /// <summary>Parses a Python dict literal with string keys.</summary>
    /// <exception cref="FormatException">The text is not one; the message says where and why.</exception>
    public static Dictionary<string, object?> ParseDict(string text)
    {
        var parser = new Parser(text);
        object? value = parser.ParseValue();
        parser.SkipWhitespace();
        if (!parser.AtEnd)
        {
            throw parser.Error("unexpected text after the dict");
        }
        return value as Dictionary<string, object?> ?? throw new FormatException("The header is not a Python dict literal.");
    }

    private const int MaxQuotedLength = 200;

    private ref struct Parser(string text)
    {
        private readonly string _text = text;
        private int _position;
        private int _depth;

        public readonly bool AtEnd => _position >= _text.Length;

        // The header is quoted in the message, but at most its start: it may be a megabyte of anything.
        public readonly FormatException Error(string problem)
        {
            string text = _text.TrimEnd();
            string quoted = text.Length <= MaxQuotedLength ? text : string.Concat(text.AsSpan(0, MaxQuotedLength), "…");
            return new($"The header is not a valid Python literal: {problem} at character {_position} of \"{quoted}\".");
        }

        public void SkipWhitespace()
        {
            while (!AtEnd && _text[_position] is ' ' or '\t' or '\n' or '\r')
            {
                _position++;
            }
        }

        public object? ParseValue()
        {
            SkipWhitespace();
            if (AtEnd)
            {
                throw Error("the text ends where a value should be");
            }
            char c = _text[_position];
            switch (c)
            {
                case '{':
                    Enter();
                    return ParseDictBody();
                case '(':
                    Enter();
                    _position++;
                    return new Tuple(ParseItems(')'));
                case '[':
                    Enter();
                    _position++;
                    return ParseItems(']');
                case '\'' or '"':
                    return ParseString(c);
                default:
                    if (char.IsAsciiDigit(c) || c == '-')
                    {
                        return ParseInteger();
                    }
                    if (char.IsAsciiLetter(c) || c == '_')
                    {
                        int start = _position;
                        while (!AtEnd && (char.IsAsciiLetterOrDigit(_text[_position]) || _text[_position] == '_'))
                        {
                            _position++;
                        }
                        string word = _text[start.._position];
                        return word switch
                        {
                            "True" => true,
                            "False" => false,
                            "None" => null,
                            _ => throw Error($"'{word}' is not a literal"),
                        };
                    }
                    throw Error($"unexpected '{c}'");
            }
        }

        private Dictionary<string, object?> ParseDictBody()
        {
            _position++;
            var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipWhitespace();
                if (!AtEnd && _text[_position] == '}')
                {
                    _position++;
                    _depth--;
                    return dict;
                }
                if (AtEnd || _text[_position] is not ('\'' or '"'))
                {
                    throw Error("expected a string key or '}'");
                }
                string key = ParseString(_text[_position]);
                SkipWhitespace();
                Expect(':');
                object? value = ParseValue();
                if (!dict.TryAdd(key, value))
                {
                    throw Error($"the key '{key}' appears twice");
                }
                SkipWhitespace();
                if (!AtEnd && _text[_position] == ',')
                {
                    _position++;
                }
                else if (AtEnd || _text[_position] != '}')
                {
                    throw Error("expected ',' or '}'");
                }
            }
        }

        private List<object?> ParseItems(char close)
        {
            var items = new List<object?>();
            while (true)
            {
                SkipWhitespace();
                if (!AtEnd && _text[_position] == close)
                {
                    _position++;
                    _depth--;
                    return items;
                }
                items.Add(ParseValue());
                SkipWhitespace();
                if (!AtEnd && _text[_position] == ',')
                {
                    _position++;
                }
                else if (AtEnd || _text[_position] != close)
                {
                    throw Error($"expected ',' or '{close}'");
                }
            }
        }

        private void Enter()
        {
            if (++_depth > MaxDepth)
            {
                throw Error($"the header is nested too deeply (more than {MaxDepth} levels of dicts, tuples and lists)");
            }
        }

        private string ParseString(char quote)
        {
            int start = ++_position;
            while (!AtEnd && _text[_position] != quote)
            {
                // numpy's headers never need escapes; refusing them keeps the parser small and exact.
                if (_text[_position] is '\\' or '\n')
                {
                    throw Error("escapes and line breaks in strings are not supported");
                }
                _position++;
            }
            if (AtEnd)
            {
                throw Error("a string is not closed");
            }
            return _text[start.._position++];
        }

        private long ParseInteger()
        {
            int start = _position;
            if (_text[_position] == '-')
            {
                _position++;
            }
            while (!AtEnd && char.IsAsciiDigit(_text[_position]))
            {
                _position++;
            }
            if (!long.TryParse(_text.AsSpan(start, _position - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                throw Error($"'{_text[start.._position]}' is not an integer that fits in 64 bits");
            }
            // Python 2 wrote long integers with an L suffix ("(3L, 4L)") in version 1.0 files.
            if (!AtEnd && _text[_position] == 'L')
            {
                _position++;
            }
            return value;
        }

        private void Expect(char c)
        {
            if (AtEnd || _text[_position] != c)
            {
                throw Error($"expected '{c}'");
            }
            _position++;
        }
    }
}
