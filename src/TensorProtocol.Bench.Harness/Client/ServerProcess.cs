using System.Globalization;
using TensorProtocol.Bench.Measurements;
using TensorProtocol.Bench.Server;

namespace TensorProtocol.Bench.Client;

/// <summary>The server child process for one transport, as the measuring client sees it.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _child;

    private ServerProcess(ChildProcess child, string endpointInfo)
    {
        _child = child;
        EndpointInfo = endpointInfo;
    }

    /// <summary>What the server announced after <c>listening: </c>, for <c>IBenchTransport.ConnectAsync</c> (or a node ticket).</summary>
    public string EndpointInfo { get; }

    public long PeakRssBytes => ProcessStats.PeakRssBytes(_child.Id);

    /// <summary>Starts <c>--child server --transport NAME --port 0</c> with the run's settings and waits for its <c>listening:</c> line.</summary>
    public static async Task<ServerProcess> StartAsync(string transportName, RunSettings settings, CancellationToken cancellationToken)
    {
        string[] args =
        [
            BenchArguments.Child, BenchArguments.ServerRole, BenchArguments.Transport, transportName, BenchArguments.Port, "0",
            .. settings.ToArguments(),
        ];
        ChildProcess child = ChildProcess.StartSelf($"[{transportName} server]", args);
        try
        {
            string endpointInfo = await child.ReadLineAsync(ServerMode.ListeningPrefix, StartupTimeout, cancellationToken);
            return new ServerProcess(child, endpointInfo);
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// User plus system CPU time the server has used so far, as the server itself reports it over the control
    /// channel (finer than the 10 ms ticks of /proc/PID/stat). One request at a time.
    /// </summary>
    public async Task<TimeSpan> ReadCpuTimeAsync(CancellationToken cancellationToken)
    {
        await _child.WriteLineAsync(ServerMode.CpuRequest, cancellationToken);
        string ticks = await _child.ReadLineAsync(ServerMode.CpuReplyPrefix, ReplyTimeout, cancellationToken);
        return TimeSpan.FromTicks(long.Parse(ticks, NumberStyles.None, CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync() => _child.DisposeAsync();
}
