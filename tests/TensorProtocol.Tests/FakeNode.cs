using System.Buffers.Binary;
using System.Net;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>
/// A peer that speaks the wire protocol through the raw QUIC layer and misbehaves as a test tells it to: every
/// accepted stream goes to <see cref="Serve"/>, which reads a request with <see cref="ReadRequestAsync"/> and answers,
/// or does not, as it likes; its token is cancelled when the fake is disposed.
/// </summary>
internal sealed class FakeNode : IAsyncDisposable
{
    private readonly QuicEndpoint _endpoint;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _served = [];

    public FakeNode(Func<QuicConnection, QuicStream, CancellationToken, Task> serve, QuicConnectionOptions? connectionOptions = null)
    {
        _endpoint = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [TensorNodeOptions.DefaultApplicationProtocol],
            ConnectionOptions = connectionOptions ?? QuicConnectionOptions.Default,
        });
        Serve = serve;
        _acceptLoop = AcceptAsync();
    }

    public Func<QuicConnection, QuicStream, CancellationToken, Task> Serve { get; }

    public NodeTicket Ticket => new(new NodeId(_endpoint.PublicKey), [_endpoint.LocalEndPoint]);

    public int Connections;

    /// <summary>Reads one request: its header, then the payload it announces (pushes), up to the end of the stream.</summary>
    public static async Task<(RequestHeader Request, long PayloadBytes)> ReadRequestAsync(QuicStream stream, CancellationToken cancellationToken)
    {
        var prefix = new byte[4];
        await stream.ReadExactlyAsync(prefix, cancellationToken);
        var header = new byte[BinaryPrimitives.ReadUInt32LittleEndian(prefix)];
        await stream.ReadExactlyAsync(header, cancellationToken);
        Assert.True(RequestHeader.TryDecode(header, long.MaxValue, out RequestHeader? request, out ProtocolError error), error.Message);
        long payload = 0;
        var sink = new byte[64 << 10];
        int n;
        while ((n = await stream.ReadAsync(sink, cancellationToken)) > 0)
        {
            payload += n;
        }
        return (request, payload);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                QuicConnection connection = await _endpoint.AcceptConnectionAsync(_stop.Token);
                Interlocked.Increment(ref Connections);
                lock (_served)
                {
                    _served.Add(ServeConnectionAsync(connection));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or QuicException)
        {
        }
    }

    private async Task ServeConnectionAsync(QuicConnection connection)
    {
        try
        {
            while (true)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(_stop.Token);
                lock (_served)
                {
                    _served.Add(ServeOneAsync(connection, stream));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or QuicException)
        {
        }
    }

    private async Task ServeOneAsync(QuicConnection connection, QuicStream stream)
    {
        try
        {
            await Serve(connection, stream, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or QuicException or EndOfStreamException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _endpoint.DisposeAsync();
        await _acceptLoop;
        Task[] served;
        lock (_served)
        {
            served = [.. _served];
        }
        await Task.WhenAll(served);
        _stop.Dispose();
    }
}
