namespace TensorProtocol.Cli;

/// <summary>
/// How much memory this process may still take without being killed: the kernel's MemAvailable, or less where the
/// process's memory cgroup leaves less (a container's limit — inside one, /proc/meminfo shows the host's memory).
/// </summary>
internal static class MemoryRoom
{
    /// <summary>The room in bytes; null where neither the kernel's estimate nor a cgroup limit can be read.</summary>
    public static long? Available()
    {
        long? host = ReadOrNull(MemInfoAvailable);
        long? group = ReadOrNull(CgroupAvailable);
        return host is { } h && group is { } g ? Math.Min(h, g) : host ?? group;
    }

    private static long? ReadOrNull(Func<long?> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    private static long? MemInfoAvailable()
    {
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            // "MemAvailable:   12345678 kB"
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("MemAvailable:".Length).Trim().TrimEnd("kB").Trim()) * 1024;
            }
        }
        return null;
    }

    // Where each cgroup version keeps the memory controller's files, and their names there.
    private sealed record Layout(string Root, string Limit, string Usage, string InactiveFileKey);

    private static readonly Layout V2 = new("/sys/fs/cgroup", "memory.max", "memory.current", "inactive_file");
    private static readonly Layout V1 = new("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file");

    /// <summary>
    /// The least room the limits of the process's memory cgroup and its ancestors leave: limit − usage + inactive file
    /// pages (page cache the kernel reclaims before it kills anything). Null without a limit.
    /// </summary>
    private static long? CgroupAvailable()
    {
        long? least = null;
        foreach (string line in File.ReadLines("/proc/self/cgroup"))
        {
            // "0::/path" for cgroup v2; "4:memory:/path" for v1's memory controller.
            string[] parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }
            Layout? layout = parts[1].Length == 0 ? V2 : parts[1].Split(',').Contains("memory") ? V1 : null;
            if (layout is null || !Directory.Exists(layout.Root))
            {
                continue;
            }
            for (string? dir = layout.Root + parts[2].TrimEnd('/'); dir is not null && dir.StartsWith(layout.Root, StringComparison.Ordinal); dir = Path.GetDirectoryName(dir))
            {
                if (RoomUnder(dir, layout) is { } room)
                {
                    least = least is { } l ? Math.Min(l, room) : room;
                }
            }
        }
        return least;
    }

    private static long? RoomUnder(string dir, Layout layout)
    {
        string limitPath = Path.Combine(dir, layout.Limit);
        // No file: not a memory cgroup directory (a hybrid system's v2 tree). "max" (v2) or a number near 2^63 (v1): no limit here.
        if (!File.Exists(limitPath) || !long.TryParse(File.ReadAllText(limitPath).Trim(), out long limit) || limit >= long.MaxValue / 2)
        {
            return null;
        }
        long usage = long.Parse(File.ReadAllText(Path.Combine(dir, layout.Usage)).Trim());
        long inactive = 0;
        foreach (string line in File.ReadLines(Path.Combine(dir, "memory.stat")))
        {
            string[] field = line.Split(' ');
            if (field.Length == 2 && field[0] == layout.InactiveFileKey)
            {
                inactive = long.Parse(field[1]);
                break;
            }
        }
        return Math.Max(0, limit - usage + inactive);
    }
}
