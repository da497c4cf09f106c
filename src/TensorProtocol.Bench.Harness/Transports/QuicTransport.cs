using System.Net;
using TensorProtocol.Quic;

namespace TensorProtocol.Bench.Transports;

/// <summary>
/// TensorProtocol's QUIC layer (ngtcp2 + GnuTLS). Each request is its own QUIC stream, as the tensor protocol uses
/// them. <see cref="QuicTransport(string, int)"/>'s datagram size picks standard 1452-byte packets or large
/// loopback datagrams.
/// </summary>
/// <remarks>Endpoint info: <c>127.0.0.1:PORT key=HEX</c> — the server's Ed25519 key, which the client requires.</remarks>
internal sealed class QuicTransport(string name, int maxDatagramSize) : IBenchTransport
{
    private const string Alpn = "tensorp-bench/1";
    private const string KeyPrefix = "key=";

    public string Name => name;

    private QuicEndpoint CreateEndpoint(IPEndPoint bind, bool accept) => QuicEndpoint.Create(new QuicEndpointOptions
    {
        LocalEndPoint = bind,
        ApplicationProtocols = [Alpn],
        AcceptIncomingConnections = accept,
        ConnectionOptions = QuicConnectionOptions.Default with { MaxDatagramSize = maxDatagramSize },
    });

    public Task<IBenchServer> StartServerAsync(IPEndPoint listenOn, CancellationToken cancellationToken) =>
        Task.FromResult<IBenchServer>(new Server(CreateEndpoint(listenOn, accept: true)));

    public async Task<IBenchClientConnection> ConnectAsync(string endpointInfo, CancellationToken cancellationToken)
    {
        string[] parts = endpointInfo.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !parts[1].StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            throw new FormatException($"'{endpointInfo}' is not 'ADDRESS:PORT {KeyPrefix}HEX'.");
        }
        IPEndPoint server = LoopbackTcp.Parse(parts[0]);
        QuicPublicKey key = QuicPublicKey.Parse(parts[1][KeyPrefix.Length..]);
        // A client endpoint per connection keeps "cold connect" honest: nothing is shared with earlier connections.
        QuicEndpoint endpoint = CreateEndpoint(new IPEndPoint(IPAddress.Loopback, 0), accept: false);
        try
        {
            QuicConnection connection = await endpoint.ConnectAsync(server, key, cancellationToken);
            return new ClientConnection(endpoint, connection);
        }
        catch
        {
            await endpoint.DisposeAsync();
            throw;
        }
    }

    private sealed class Server(QuicEndpoint endpoint) : IBenchServer
    {
        public string EndpointInfo => $"{endpoint.LocalEndPoint} {KeyPrefix}{endpoint.PublicKey}";

        public async Task<IBenchServerConnection> AcceptConnectionAsync(CancellationToken cancellationToken) =>
            new ServerConnection(await endpoint.AcceptConnectionAsync(cancellationToken));

        public ValueTask DisposeAsync() => endpoint.DisposeAsync();
    }

    private sealed class ServerConnection(QuicConnection connection) : IBenchServerConnection
    {
        public async Task<Stream?> AcceptStreamAsync(CancellationToken cancellationToken)
        {
            try
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(cancellationToken);
                return new QuicBulkStream(stream);
            }
            catch (QuicException e) when (e.Kind is QuicErrorKind.ConnectionAborted or QuicErrorKind.OperationAborted or QuicErrorKind.IdleTimeout)
            {
                return null; // the client closed the connection
            }
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    private sealed class ClientConnection(QuicEndpoint endpoint, QuicConnection connection) : IBenchClientConnection
    {
        public async Task<Stream> OpenStreamAsync(CancellationToken cancellationToken) =>
            new QuicBulkStream(await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken));

        public async ValueTask DisposeAsync()
        {
            await connection.DisposeAsync();
            await endpoint.DisposeAsync();
        }
    }
}
