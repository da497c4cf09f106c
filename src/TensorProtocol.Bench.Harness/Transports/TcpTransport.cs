using System.Net;
using System.Net.Sockets;

namespace TensorProtocol.Bench.Transports;

/// <summary>Plain TCP with NoDelay: the floor every other transport is measured against.</summary>
/// <remarks>Endpoint info: <c>127.0.0.1:PORT</c>.</remarks>
internal sealed class TcpTransport : IBenchTransport
{
    public string Name => "tcp";

    public Task<IBenchServer> StartServerAsync(IPEndPoint listenOn, CancellationToken cancellationToken) =>
        Task.FromResult<IBenchServer>(new Server(LoopbackTcp.Listen(listenOn)));

    public async Task<IBenchClientConnection> ConnectAsync(string endpointInfo, CancellationToken cancellationToken)
    {
        Socket socket = await LoopbackTcp.ConnectAsync(LoopbackTcp.Parse(endpointInfo), cancellationToken);
        return new SingleStreamConnection(new NetworkStream(socket, ownsSocket: true));
    }

    private sealed class Server(Socket listener) : IBenchServer
    {
        public string EndpointInfo { get; } = LoopbackTcp.Format((IPEndPoint)listener.LocalEndPoint!);

        public async Task<IBenchServerConnection> AcceptConnectionAsync(CancellationToken cancellationToken)
        {
            Socket socket = await LoopbackTcp.AcceptAsync(listener, cancellationToken);
            return new SingleStreamConnection(new NetworkStream(socket, ownsSocket: true));
        }

        public ValueTask DisposeAsync()
        {
            listener.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
