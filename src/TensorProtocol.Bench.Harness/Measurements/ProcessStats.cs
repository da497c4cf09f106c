using System.Diagnostics;
using System.Globalization;

namespace TensorProtocol.Bench.Measurements;

/// <summary>Peak resident memory of a process, as the kernel tracks it.</summary>
internal static class ProcessStats
{
    /// <summary>VmHWM from <c>/proc/PID/status</c>: the high-water mark of resident memory, in bytes.</summary>
    public static long PeakRssBytes(int pid)
    {
        string status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            // Without procfs, the runtime's own notion of the same thing.
            using Process process = Process.GetProcessById(pid);
            return process.PeakWorkingSet64;
        }
        foreach (string line in File.ReadLines(status))
        {
            // "VmHWM:     52424 kB"
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                string kib = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidDataException($"{status} has no VmHWM line.");
    }
}
