using System.Text;

namespace TensorProtocol.Cli;

/// <summary>Turns a tensor name (chosen by a remote peer) into a safe file name inside the output directory.</summary>
internal static class FileNames
{
    private const int MaxStemLength = 200;

    /// <summary>
    /// Keeps ASCII letters, digits, '.', '-' and '_'; replaces everything else (path separators included) with '_';
    /// never returns a hidden name ('.' first), '.', '..' or an empty name.
    /// </summary>
    public static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }
        if (builder.Length == 0 || builder[0] == '.')
        {
            builder.Insert(0, '_');
        }
        if (builder.Length > MaxStemLength)
        {
            builder.Length = MaxStemLength;
        }
        return builder.ToString();
    }
}
