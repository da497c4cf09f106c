using System.Globalization;

namespace TensorProtocol.Bench;

/// <summary>Byte counts as the command line writes them: <c>4096</c>, <c>4KiB</c>, <c>64MiB</c>, <c>1GiB</c>.</summary>
public static class BenchSizes
{
    private static readonly (string Suffix, long Factor)[] Units = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("B", 1)];

    /// <summary>The largest transfer the harness accepts: tensors travel in one managed array.</summary>
    public const long Max = 1L << 30;

    /// <summary>Parses a positive byte count of at most <see cref="Max"/>, with an optional binary unit suffix.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        string number = text.Trim();
        long factor = 1;
        foreach ((string suffix, long unit) in Units)
        {
            if (number.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                number = number[..^suffix.Length];
                factor = unit;
                break;
            }
        }
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long count)
            || count <= 0 || count > Max / factor)
        {
            return false;
        }
        bytes = count * factor;
        return true;
    }

    /// <summary>The shortest exact form: <c>64MiB</c> rather than <c>67108864</c>; what <see cref="TryParse"/> reads back.</summary>
    public static string Format(long bytes)
    {
        foreach ((string suffix, long unit) in Units)
        {
            if (bytes % unit == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / unit}{suffix}");
            }
        }
        throw new ArgumentOutOfRangeException(nameof(bytes));
    }
}
