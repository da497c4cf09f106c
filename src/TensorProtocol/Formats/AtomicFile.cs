using System.Text;

namespace TensorProtocol.Formats;

/// <summary>
/// Writes a file so that it appears complete or not at all: the content goes to a temporary file in the same
/// directory (so the rename stays on one file system), is flushed to disk, and replaces the target by rename. On
/// failure the temporary file is deleted and the target is left as it was.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string fullPath = Path.GetFullPath(path);
        string temp = TempPath(fullPath);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    public static async ValueTask WriteAsync(string path, Func<Stream, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        string fullPath = Path.GetFullPath(path);
        string temp = TempPath(fullPath);
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            DeleteQuietly(temp);
            throw;
        }
    }

    // Hidden, unique, and recognisable as ours should a crash (not an exception) leave one behind. File names are at
    // most 255 bytes (NAME_MAX) on Linux file systems: the target's name is cut short in the temporary one where the
    // 38 bytes added would take it past that, or a long but valid target name could not be written at all.
    private static string TempPath(string fullPath)
    {
        const int nameMax = 255, added = 1 + 1 + 32 + 4; // ".", ".", the GUID, ".tmp"
        string name = Path.GetFileName(fullPath);
        if (Encoding.UTF8.GetByteCount(name) > nameMax - added)
        {
            int keep = 0, bytes = 0;
            while (keep < name.Length)
            {
                int step = char.IsSurrogatePair(name, keep) ? 2 : 1; // never half a pair
                int size = Encoding.UTF8.GetByteCount(name.AsSpan(keep, step));
                if (bytes + size > nameMax - added)
                {
                    break;
                }
                bytes += size;
                keep += step;
            }
            name = name[..keep];
        }
        return Path.Combine(Path.GetDirectoryName(fullPath)!, $".{name}.{Guid.NewGuid():N}.tmp");
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
