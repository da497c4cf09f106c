// The QUIC loopback demo: two endpoints in one process, an authenticated handshake, then a large payload over
// one stream, checked end to end (every received byte is compared with what was sent). Usage: demo [--mib N] [--datagram BYTES] [--cc bbr|cubic|reno]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using TensorProtocol.Quic;

int mib = 1024;
int datagram = 1452;
var cc = QuicCongestionControl.Bbr;
int windowMib = 0;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--mib": mib = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--datagram": datagram = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--cc": cc = Enum.Parse<QuicCongestionControl>(args[++i], ignoreCase: true); break;
        case "--window-mib": windowMib = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: demo [--mib N] [--datagram BYTES] [--cc bbr|cubic|reno]");
            return 2;
    }
}

if (!QuicEndpoint.IsSupported)
{
    Console.Error.WriteLine($"QUIC is not available: {QuicEndpoint.NotSupportedReason}");
    return 1;
}

var connectionOptions = QuicConnectionOptions.Default with { MaxDatagramSize = datagram, CongestionControl = cc };
if (windowMib > 0)
{
    connectionOptions = connectionOptions with
    {
        InitialStreamReceiveWindow = windowMib << 20,
        MaxStreamReceiveWindow = windowMib << 20,
        InitialConnectionReceiveWindow = 2 * windowMib << 20,
        MaxConnectionReceiveWindow = 2 * windowMib << 20,
    };
}
QuicEndpoint Create() => QuicEndpoint.Create(new QuicEndpointOptions
{
    LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
    ApplicationProtocols = ["tensorp-demo/1"],
    ConnectionOptions = connectionOptions,
});

await using QuicEndpoint server = Create();
await using QuicEndpoint client = Create();
Console.WriteLine($"server {server.LocalEndPoint}  key {server.PublicKey}");
Console.WriteLine($"client {client.LocalEndPoint}  key {client.PublicKey}");
Console.WriteLine($"ngtcp2 datagram {datagram} B, congestion control {cc}, GSO {client.GsoEnabled}, GRO {server.GroEnabled}");

long total = (long)mib << 20;
byte[] chunk = new byte[16 << 20];
new Random(1).NextBytes(chunk);

// The payload is `chunk` repeated; the receiver compares each byte with it (vectorized, far cheaper than hashing,
// so the demo measures the transport rather than SHA-256).
Task<(long Bytes, bool Intact)> receiver = Task.Run(async () =>
{
    await using QuicConnection connection = await server.AcceptConnectionAsync();
    QuicStream stream = await connection.AcceptInboundStreamAsync();
    var buffer = new byte[4 << 20];
    long received = 0;
    bool intact = true;
    int n;
    while ((n = await stream.ReadAsync(buffer)) > 0)
    {
        for (int done = 0; done < n;)
        {
            int at = (int)((received + done) % chunk.Length);
            int run = Math.Min(n - done, chunk.Length - at);
            intact &= buffer.AsSpan(done, run).SequenceEqual(chunk.AsSpan(at, run));
            done += run;
        }
        received += n;
    }
    await stream.WriteAsync("ok"u8.ToArray(), completeWrites: true);
    return (received, intact);
});

var handshake = Stopwatch.StartNew();
await using QuicConnection connection = await client.ConnectAsync(server.LocalEndPoint, server.PublicKey);
handshake.Stop();
Console.WriteLine($"handshake (mutual Ed25519 auth): {handshake.Elapsed.TotalMilliseconds:0.00} ms; peer key verified {connection.RemotePublicKey == server.PublicKey}");

QuicStream send = await connection.OpenOutboundStreamAsync();
var transfer = Stopwatch.StartNew();
long sent = 0;
// Two writes in flight: the zero-copy write completes on acknowledgement, so keep the pipe full.
ValueTask pending = ValueTask.CompletedTask;
while (sent < total)
{
    int size = (int)Math.Min(chunk.Length / 2, total - sent);
    ReadOnlyMemory<byte> slice = chunk.AsMemory((int)(sent % chunk.Length), size);
    ValueTask next = send.WriteAsync(slice, completeWrites: sent + size == total);
    await pending;
    pending = next;
    sent += size;
}
await pending;
var ack = new byte[2];
await send.ReadExactlyAsync(ack);
transfer.Stop();
var (bytes, receivedIntact) = await receiver;
QuicConnectionStatistics stats = await connection.GetStatisticsAsync();

bool intact = bytes == total && receivedIntact;
double seconds = transfer.Elapsed.TotalSeconds;
Console.WriteLine($"transferred {total / (1 << 20)} MiB in {seconds:0.000} s: {total / (1 << 20) / seconds:0.0} MiB/s ({total * 8 / seconds / 1e9:0.00} Gbit/s), every byte as sent: {intact}");
Console.WriteLine($"srtt {stats.SmoothedRtt.TotalMicroseconds:0} us, cwnd {stats.CongestionWindow / 1024} KiB, packets sent {stats.PacketsSent}, lost stream frames {stats.StreamFramesLost}");
return intact ? 0 : 1;
