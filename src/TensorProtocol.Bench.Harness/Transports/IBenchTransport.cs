using System.Net;

namespace TensorProtocol.Bench.Transports;

/// <summary>
/// One way of carrying bytes between the benchmark client and its server process. Every measurement is written
/// against these interfaces only, so a transport is compared with the others on exactly the same traffic. Bulk
/// transfers go through a transport's own bulk API where its streams offer one (<see cref="IBulkStream"/>).
/// </summary>
/// <remarks>
/// The shape is QUIC's (a connection carries client-opened streams); TCP-based transports carry exactly one
/// stream per connection (see <see cref="SingleStreamConnection"/>).
/// </remarks>
internal interface IBenchTransport
{
    /// <summary>Name used on the command line and in the report, e.g. <c>tcp</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Starts listening on <paramref name="listenOn"/> (always 127.0.0.1; port 0 means any free port). Runs in the
    /// server child process.
    /// </summary>
    Task<IBenchServer> StartServerAsync(IPEndPoint listenOn, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a new connection to a server of this transport, fully established (handshake included) when the task
    /// completes. <paramref name="endpointInfo"/> is the server's <see cref="IBenchServer.EndpointInfo"/>.
    /// </summary>
    Task<IBenchClientConnection> ConnectAsync(string endpointInfo, CancellationToken cancellationToken);
}

/// <summary>A listening server, in the server child process.</summary>
internal interface IBenchServer : IAsyncDisposable
{
    /// <summary>
    /// Everything a client needs to connect, on one line without line breaks (address, and for TLS the certificate
    /// pin). The child prints it as <c>listening: &lt;info&gt;</c> and the parent hands it to
    /// <see cref="IBenchTransport.ConnectAsync"/> unchanged.
    /// </summary>
    string EndpointInfo { get; }

    /// <summary>
    /// Waits for the next incoming connection. An exception here stops the server, so leave the handshake to
    /// <see cref="IBenchServerConnection.AcceptStreamAsync"/> where possible: a failed handshake then ends only its
    /// own connection.
    /// </summary>
    Task<IBenchServerConnection> AcceptConnectionAsync(CancellationToken cancellationToken);
}

/// <summary>The server's side of one connection.</summary>
internal interface IBenchServerConnection : IAsyncDisposable
{
    /// <summary>
    /// Waits for the next stream the client opens; <see langword="null"/> once the client will open no more
    /// (it closed the connection). The caller disposes each stream when it is done with it.
    /// </summary>
    Task<Stream?> AcceptStreamAsync(CancellationToken cancellationToken);
}

/// <summary>The client's side of one connection.</summary>
internal interface IBenchClientConnection : IAsyncDisposable
{
    /// <summary>Opens a new bidirectional stream to the server. The caller disposes it when it is done with it.</summary>
    Task<Stream> OpenStreamAsync(CancellationToken cancellationToken);
}
