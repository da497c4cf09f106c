using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using TensorProtocol.Bench.Transports;

namespace TensorProtocol.Bench.Server;

/// <summary>
/// The server child process: serves one transport on 127.0.0.1 and announces it with a
/// <c>listening: &lt;info&gt;</c> line on stdout. After that, a <c>cpu</c> line on stdin is answered with
/// <c>cpu: &lt;TimeSpan ticks&gt;</c> (this process's CPU time so far), and end-of-file on stdin ends the process.
/// </summary>
internal static class ServerMode
{
    public const string ListeningPrefix = "listening: ";
    public const string CpuRequest = "cpu";
    public const string CpuReplyPrefix = "cpu: ";

    public static async Task<int> RunAsync(IBenchTransport transport, int port)
    {
        string label = $"[{transport.Name} server]";
        using var stop = new CancellationTokenSource();
        await using IBenchServer server = await transport.StartServerAsync(new IPEndPoint(IPAddress.Loopback, port), stop.Token);
        Task acceptLoop = AcceptLoopAsync(server, label, stop.Token);
        int exitCode = await ServeParentAsync(label, server.EndpointInfo, acceptLoop, "accept loop");
        await stop.CancelAsync();
        return exitCode;
    }

    /// <summary>
    /// The part every server child shares: announces <paramref name="endpointInfo"/>, then answers the parent's
    /// <c>cpu</c> requests until its stdin ends (returns 0), or until <paramref name="serving"/> ends first, which
    /// is a failure (returns 1).
    /// </summary>
    public static async Task<int> ServeParentAsync(string label, string endpointInfo, Task serving, string servingName)
    {
        Console.Out.WriteLine(ListeningPrefix + endpointInfo);
        Console.Out.Flush();

        Task parentDone = ParentChannel.ListenAsync(line =>
        {
            if (line == CpuRequest)
            {
                Console.Out.WriteLine(CpuReplyPrefix + Environment.CpuUsage.TotalTime.Ticks.ToString(CultureInfo.InvariantCulture));
                Console.Out.Flush();
            }
            else
            {
                Console.Error.WriteLine($"{label} unknown request '{line}'");
            }
        });
        if (await Task.WhenAny(parentDone, serving) == serving)
        {
            await Console.Error.WriteLineAsync($"{label} {servingName} ended: {serving.Exception?.GetBaseException().Message ?? "without error"}");
            return 1;
        }
        return 0;
    }

    private static async Task AcceptLoopAsync(IBenchServer server, string label, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IBenchServerConnection connection = await server.AcceptConnectionAsync(cancellationToken);
            _ = ServeConnectionAsync(connection, label, cancellationToken);
        }
    }

    private static async Task ServeConnectionAsync(IBenchServerConnection connection, string label, CancellationToken cancellationToken)
    {
        await using (connection)
        {
            var streams = new List<Task>();
            try
            {
                while (await connection.AcceptStreamAsync(cancellationToken) is { } stream)
                {
                    streams.Add(ServeStreamAsync(stream, label, cancellationToken));
                }
            }
            catch (Exception e) when (IsPeerGone(e))
            {
                // The client closed mid-handshake or between streams: normal at the end of a measurement.
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"{label} connection failed: {e}");
            }
            await Task.WhenAll(streams);
        }
    }

    private static async Task ServeStreamAsync(Stream stream, string label, CancellationToken cancellationToken)
    {
        await using (stream)
        {
            try
            {
                await StreamHandler.ServeAsync(stream, cancellationToken);
            }
            catch (Exception e) when (IsPeerGone(e))
            {
                // Cold-connect clients close as soon as they have their echo; that may surface as a reset here.
            }
            catch (Exception e)
            {
                // The client then sees its stream end early and fails loudly; this says why.
                await Console.Error.WriteLineAsync($"{label} stream failed: {e}");
            }
        }
    }

    private static bool IsPeerGone(Exception e) =>
        e is OperationCanceledException or SocketException or AuthenticationException
        || e is IOException and not EndOfStreamException;
}
