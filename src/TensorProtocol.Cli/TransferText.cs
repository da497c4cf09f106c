using System.Globalization;

namespace TensorProtocol.Cli;

/// <summary>
/// The text of sizes, rates, durations and transfer progress, shared by the live progress display and the plain lines.
/// Depends on nothing but <see cref="TransferProgress"/>, so the tests compile it in and check it directly.
/// </summary>
internal static class TransferText
{
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB"),
    };

    public static string Rate(long bytes, TimeSpan elapsed) =>
        elapsed <= TimeSpan.Zero ? "-" : Rate(bytes / elapsed.TotalSeconds);

    public static string Rate(double bytesPerSecond) => Size((long)bytesPerSecond) + "/s";

    public static string Duration(TimeSpan elapsed) =>
        elapsed.TotalSeconds >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalSeconds:0.00} s")
            : string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalMilliseconds:0.0} ms");

    /// <summary>Time left in whole seconds, rounded up (so only a finished transfer shows 0 s); "-" when unknown.</summary>
    public static string Remaining(TimeSpan? remaining)
    {
        if (remaining is not { } left)
        {
            return "-";
        }
        long seconds = (long)Math.Ceiling(Math.Max(0, left.TotalSeconds));
        return seconds switch
        {
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds} s"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60} min {seconds % 60:00} s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600} h {seconds / 60 % 60:00} min"),
        };
    }

    /// <summary>The share done in whole percent, rounded down (so only a finished transfer shows 100 %).</summary>
    public static string Percent(TransferProgress progress) =>
        string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(progress.Fraction * 100):0} %");

    /// <summary>A transfer under way: <c>512.0 MiB / 1.00 GiB (50 %), 640.0 MiB/s, ETA 1 s</c>.</summary>
    public static string Progress(TransferProgress progress) =>
        $"{Size(progress.BytesTransferred)} / {Size(progress.TotalBytes)} ({Percent(progress)}), " +
        $"{Rate(progress.BytesPerSecond)}, ETA {Remaining(progress.EstimatedRemaining)}";

    /// <summary>A finished transfer: <c>1.00 GiB in 1.60 s (640.0 MiB/s)</c>.</summary>
    public static string Done(TransferProgress progress) =>
        $"{Size(progress.TotalBytes)} in {Duration(progress.Elapsed)} ({Rate(progress.TotalBytes, progress.Elapsed)})";
}
