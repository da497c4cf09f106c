using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TensorProtocol.Bench.Transports;

/// <summary>The socket plumbing shared by the TCP-based transports.</summary>
internal static class LoopbackTcp
{
    public static Socket Listen(IPEndPoint listenOn)
    {
        RequireLoopback(listenOn);
        var listener = new Socket(listenOn.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(listenOn);
            listener.Listen(backlog: 128);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public static async Task<Socket> AcceptAsync(Socket listener, CancellationToken cancellationToken)
    {
        Socket socket = await listener.AcceptAsync(cancellationToken);
        // Without NoDelay, Nagle holds back the small acks and echoes the latency measurements are made of.
        socket.NoDelay = true;
        return socket;
    }

    public static async Task<Socket> ConnectAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        RequireLoopback(server);
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static string Format(IPEndPoint endPoint) => endPoint.ToString();

    public static IPEndPoint Parse(string text) =>
        IPEndPoint.TryParse(text, out IPEndPoint? endPoint) && endPoint.Port != 0
            ? RequireLoopback(endPoint)
            : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"'{text}' is not an address:port."));

    // The benchmark must never send traffic off the machine, whatever a server process prints.
    private static IPEndPoint RequireLoopback(IPEndPoint endPoint) =>
        IPAddress.IsLoopback(endPoint.Address)
            ? endPoint
            : throw new ArgumentException($"{endPoint} is not a loopback address.", nameof(endPoint));
}
