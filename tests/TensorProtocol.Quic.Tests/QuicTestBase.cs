using System.Net;

namespace TensorProtocol.Quic.Tests;

/// <summary>Helpers shared by the network tests: endpoints on loopback, connected pairs, bounded waits.</summary>
public abstract class QuicTestBase
{
    internal const string Alpn = "tensorp-test/1";

    /// <summary>Upper bound for any single wait in a test: a hang fails, it never blocks CI.</summary>
    internal static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    internal static QuicEndpoint CreateEndpoint(QuicConnectionOptions? connectionOptions = null, IReadOnlyList<string>? alpn = null, QuicIdentity? identity = null, int acceptQueue = 128, IPAddress? address = null) =>
        QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(address ?? IPAddress.Loopback, 0),
            ApplicationProtocols = alpn ?? [Alpn],
            ConnectionOptions = connectionOptions ?? QuicConnectionOptions.Default,
            Identity = identity,
            AcceptQueueCapacity = acceptQueue,
        });

    internal static CancellationToken Timeout(TimeSpan? limit = null) => new CancellationTokenSource(limit ?? TestTimeout).Token;

    internal static async Task<(QuicConnection Client, QuicConnection Server)> ConnectPairAsync(QuicEndpoint client, QuicEndpoint server, CancellationToken ct = default)
    {
        if (!ct.CanBeCanceled)
        {
            ct = Timeout();
        }
        Task<QuicConnection> accept = server.AcceptConnectionAsync(ct).AsTask();
        QuicConnection c = await client.ConnectAsync(server.LocalEndPoint, server.PublicKey, ct);
        QuicConnection s = await accept;
        return (c, s);
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Reads a stream to its end, hashing as it goes; returns the byte count and SHA-256.</summary>
    internal static async Task<(long Length, byte[] Hash)> ReadAllHashedAsync(QuicStream stream, int bufferSize = 1 << 20, CancellationToken ct = default)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = new byte[bufferSize];
        long total = 0;
        while (true)
        {
            int n = await stream.ReadAsync(buffer, ct);
            if (n == 0)
            {
                break;
            }
            hash.AppendData(buffer, 0, n);
            total += n;
        }
        return (total, hash.GetHashAndReset());
    }
}
