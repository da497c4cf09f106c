using System.Globalization;
using System.Text;

namespace TensorProtocol.Cli;

/// <summary>
/// Text from outside (tensor names chosen by a peer or found in a file, messages quoting file contents) made safe to
/// print: control characters (C0, DEL, C1 such as the 8-bit CSI), line and paragraph separators and invisible format
/// characters (bidirectional overrides) become visible <c>\uXXXX</c> escapes, so such text can neither forge output
/// lines that scripts parse nor send escape sequences to a terminal.
/// </summary>
internal static class Printable
{
    public static string Text(string text)
    {
        int first = 0;
        while (first < text.Length && IsSafe(text[first]))
        {
            first++;
        }
        if (first == text.Length)
        {
            return text;
        }
        var builder = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (IsSafe(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// Several lines (an exception with its stack trace, for -vv): each line escaped as by <see cref="Text"/>, the line
    /// breaks kept. Exception messages quote peers' status messages and names.
    /// </summary>
    public static string Lines(string text) =>
        string.Join(Environment.NewLine, text.ReplaceLineEndings("\n").Split('\n').Select(Text));

    private static bool IsSafe(char c) =>
        c is >= ' ' and < '\u007f' ||
        (c > '\u009f' && CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator));
}
