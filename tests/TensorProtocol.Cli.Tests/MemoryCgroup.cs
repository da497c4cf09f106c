namespace TensorProtocol.Cli.Tests;

/// <summary>
/// A memory cgroup of a test's own, below this process's (cgroup v1's memory controller, or v2 where the parent
/// delegates memory), with a limit; removed on dispose once its processes are gone. Needs root, as CI runs.
/// </summary>
internal sealed class MemoryCgroup : IDisposable
{
    private readonly string _path;

    private MemoryCgroup(string path) => _path = path;

    /// <summary>The file a process writes its PID to, to move into this cgroup.</summary>
    public string ProcsFile => Path.Combine(_path, "cgroup.procs");

    public static MemoryCgroup Create(long limitBytes)
    {
        foreach (string line in File.ReadLines("/proc/self/cgroup"))
        {
            string[] parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }
            if (parts[1].Split(',').Contains("memory") && Directory.Exists("/sys/fs/cgroup/memory"))
            {
                return Make("/sys/fs/cgroup/memory" + parts[2].TrimEnd('/'), "memory.limit_in_bytes", limitBytes);
            }
            string v2Parent = "/sys/fs/cgroup" + parts[2].TrimEnd('/');
            string delegated = Path.Combine(v2Parent, "cgroup.subtree_control");
            if (parts[1].Length == 0 && File.Exists(delegated) && File.ReadAllText(delegated).Split(' ', '\n').Contains("memory"))
            {
                return Make(v2Parent, "memory.max", limitBytes);
            }
        }
        throw new InvalidOperationException(
            "No memory cgroup to make a child of: neither cgroup v1's memory controller nor a v2 parent delegating memory. " +
            "This test needs root on Linux with memory cgroups, as CI has.");
    }

    private static MemoryCgroup Make(string parent, string limitFile, long limitBytes)
    {
        string path = Path.Combine(parent, $"tensorp-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        var cgroup = new MemoryCgroup(path);
        try
        {
            File.WriteAllText(Path.Combine(path, limitFile), limitBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return cgroup;
        }
        catch
        {
            cgroup.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        // rmdir, not a recursive delete: a cgroup's control files cannot be deleted, the directory goes as a whole once
        // empty. Its processes have exited by now (the test waited for them).
        try
        {
            Directory.Delete(_path);
        }
        catch (IOException)
        {
            // Still busy for a moment after its last process exited: left for the system to reap with its parent.
        }
    }
}
