using System.Collections.Concurrent;

namespace TensorProtocol.Cli;

/// <summary>
/// Writes a file into a directory so that it appears complete or not at all, and (unless asked to overwrite) never
/// replaces an existing file: the content goes to a hidden temporary file in the same directory, is flushed to disk,
/// and is then moved to the first free name of <c>STEM.EXT</c>, <c>STEM.1.EXT</c>, <c>STEM.2.EXT</c>, …
/// </summary>
internal static class NewFile
{
    private const int MaxSuffix = 100_000;

    // Per STEM.EXT in a directory, the suffix to try first: the one after the last this process took. Peers choose the
    // names, and a peer pushing one name over and over would otherwise make the n-th file probe n names (quadratic).
    // Only a hint: the probe below still skips taken names, and wraps to 0 at MaxSuffix (names freed meanwhile are
    // reused only then). Only names that clashed are remembered, and at most MaxRemembered of them (peers choose the
    // names: a listener must not keep one entry per distinct name it ever received).
    private static readonly ConcurrentDictionary<string, int> s_nextSuffix = new(StringComparer.Ordinal);

    private const int MaxRemembered = 4096;

    /// <summary>How many names were probed in all (for tests).</summary>
    internal static long Probes => Interlocked.Read(ref s_probes);

    private static long s_probes;

    /// <summary>Writes the file and returns the path it was given.</summary>
    /// <param name="stem">A safe file name without extension (see <see cref="FileNames.Sanitize"/>).</param>
    /// <param name="overwrite">Replace <c>STEM.EXT</c> if it exists, instead of choosing a free name.</param>
    public static string Write(string directory, string stem, string extension, bool overwrite, Action<Stream> write)
    {
        // Hidden (stems never start with '.'), unique, and recognisable as ours should a crash leave one behind.
        string temp = Path.Combine(directory, $".{stem}{extension}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            if (overwrite)
            {
                string target = Path.Combine(directory, stem + extension);
                File.Move(temp, target, overwrite: true);
                return target;
            }
            string key = Path.Combine(directory, stem + extension);
            int start = s_nextSuffix.GetValueOrDefault(key) % (MaxSuffix + 1);
            for (int i = 0; i <= MaxSuffix; i++)
            {
                int n = (start + i) % (MaxSuffix + 1);
                string candidate = Path.Combine(directory, n == 0 ? stem + extension : $"{stem}.{n}{extension}");
                Interlocked.Increment(ref s_probes);
                if (Path.Exists(candidate))
                {
                    continue;
                }
                try
                {
                    // Without overwrite the move fails if the name was taken meanwhile (by another process): it
                    // links the new name, which cannot replace anything, rather than renaming over it.
                    File.Move(temp, candidate, overwrite: false);
                    bool wrapped = start + i > MaxSuffix;
                    if (n > 0 || wrapped)
                    {
                        if (!s_nextSuffix.ContainsKey(key) && s_nextSuffix.Count >= MaxRemembered)
                        {
                            s_nextSuffix.Clear();
                        }
                        s_nextSuffix.AddOrUpdate(key, n + 1, (_, next) => wrapped ? n + 1 : Math.Max(next, n + 1));
                    }
                    return candidate;
                }
                catch (IOException) when (Path.Exists(candidate))
                {
                }
            }
            throw new IOException($"'{stem}{extension}' and {MaxSuffix} numbered variants of it already exist in {directory}; use --overwrite or another --out directory.");
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
            throw;
        }
    }
}
