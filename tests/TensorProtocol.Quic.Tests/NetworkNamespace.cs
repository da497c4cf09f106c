using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// A network namespace joined to this one by a veth pair with a chosen MTU: a real link, with the kernel's own
/// limits, that only this test uses. Needs root and iproute2 (CI runs as root; scripts/bootstrap installs iproute2).
/// </summary>
internal sealed partial class NetworkNamespace : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private readonly string _name;
    private readonly string _link;

    private NetworkNamespace(string name, string link, IPAddress outside, IPAddress inside)
    {
        _name = name;
        _link = link;
        Outside = outside;
        Inside = inside;
    }

    /// <summary>This namespace's end of the link.</summary>
    internal IPAddress Outside { get; }

    /// <summary>The new namespace's end of the link.</summary>
    internal IPAddress Inside { get; }

    internal static NetworkNamespace Create(int mtu)
    {
        // Distinct names and a /30 per instance, so nothing collides with another run or a leftover.
        int id = Random.Shared.Next(1, 1 << 14);
        string name = $"tpq{id}", link = $"tpq{id}a", peer = $"tpq{id}b";
        var outside = new IPAddress([10, 233, (byte)(id >> 6), (byte)((id & 63) << 2 | 1)]);
        var inside = new IPAddress([10, 233, (byte)(id >> 6), (byte)((id & 63) << 2 | 2)]);
        var created = new NetworkNamespace(name, link, outside, inside);
        try
        {
            Ip("netns", "add", name);
            Ip("link", "add", link, "mtu", $"{mtu}", "type", "veth", "peer", "name", peer, "mtu", $"{mtu}");
            Ip("link", "set", peer, "netns", name);
            Ip("addr", "add", $"{outside}/30", "dev", link);
            Ip("link", "set", link, "up");
            Ip("-n", name, "addr", "add", $"{inside}/30", "dev", peer);
            Ip("-n", name, "link", "set", peer, "up");
            Ip("-n", name, "link", "set", "lo", "up");
        }
        catch
        {
            created.Dispose();
            throw;
        }
        return created;
    }

    /// <summary>Runs <paramref name="create"/> on a thread that joined the namespace, so the sockets it opens live there.</summary>
    internal T RunInside<T>(Func<T> create)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                // open(2), not FileStream: a namespace file cannot be seeked, and FileStream tries.
                int fd = open($"/var/run/netns/{_name}", ReadOnlyCloseOnExec);
                if (fd < 0)
                {
                    throw new InvalidOperationException($"open failed (errno {Marshal.GetLastPInvokeError()}).");
                }
                try
                {
                    if (setns(fd, CloneNewNet) != 0)
                    {
                        throw new InvalidOperationException($"setns failed (errno {Marshal.GetLastPInvokeError()}).");
                    }
                }
                finally
                {
                    close(fd);
                }
                result = create();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(CommandTimeout), "joining the namespace timed out");
        if (failure is not null)
        {
            throw new InvalidOperationException($"Could not work inside namespace {_name}: {failure.Message}", failure);
        }
        return result!;
    }

    public void Dispose()
    {
        // Deleting the namespace destroys its end of the pair, and with it ours; the second delete is for a half-made one.
        TryIp("netns", "del", _name);
        TryIp("link", "del", _link);
    }

    private const int CloneNewNet = 0x40000000;
    private const int ReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc")]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    private static void Ip(params string[] args)
    {
        (int code, string error) = Run(args);
        if (code != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({code}): {error.Trim()}");
        }
    }

    private static void TryIp(params string[] args) => Run(args);

    private static (int Code, string Error) Run(string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("could not start ip");
        Task<string> error = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(CommandTimeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"ip {string.Join(' ', args)} did not finish");
        }
        p.WaitForExit();
        return (p.ExitCode, error.GetAwaiter().GetResult());
    }
}
