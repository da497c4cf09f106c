using System.Globalization;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// How many datagrams the kernel dropped on arrival at a UDP socket of this network namespace because its receive
/// buffer was full: the last column ("drops") of its line in /proc/net/udp or /proc/net/udp6, found by local port.
/// </summary>
internal static class UdpSocketDrops
{
    internal static long Read(int localPort)
    {
        long drops = 0;
        foreach (string table in new[] { "/proc/net/udp", "/proc/net/udp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 13)
                {
                    continue;
                }
                string local = fields[1];
                int colon = local.LastIndexOf(':');
                if (colon > 0 && int.Parse(local.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture) == localPort)
                {
                    drops += long.Parse(fields[^1], CultureInfo.InvariantCulture);
                }
            }
        }
        return drops;
    }
}
