// The README's main job: two tensor nodes on loopback. One pushes real tensors to the other and pulls one back;
// both print what arrived (name, shape, dtype, SHA-256 prefix) and the measured throughput and latency.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using TensorProtocol;

int mib = args.Length > 1 && args[0] == "--mib" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
var options = new TensorNodeOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
await using TensorNode alice = await TensorNode.StartAsync(options);
await using TensorNode bob = await TensorNode.StartAsync(options);
Console.WriteLine($"alice {alice.NodeId}");
Console.WriteLine($"bob   {bob.NodeId}");
Console.WriteLine($"bob's ticket: {bob.Ticket}");

static string Describe(string name, TensorData t) =>
    $"{name,-12} {t.DType,-5} [{string.Join(", ", t.Shape)}]  {t.Payload.Length,12:N0} bytes  sha256 {Convert.ToHexStringLower(SHA256.HashData(t.Payload.Span))[..16]}";

// 1. Push a few tensors: a float32 weight matrix, an int64 index vector, a bool mask.
var random = new Random(42);
float[] weights = new float[512 * 256];
for (int i = 0; i < weights.Length; i++) weights[i] = (float)random.NextDouble() - 0.5f;
var sent = new (string Name, TensorData Tensor)[]
{
    ("layer0.w", TensorData.FromArray(weights, [512, 256], requiresGrad: true)),
    ("token_ids", TensorData.FromArray(Enumerable.Range(0, 1000).Select(i => (long)i * 7).ToArray(), [1000])),
    ("mask", TensorData.FromArray(Enumerable.Range(0, 64).Select(i => i % 3 == 0).ToArray(), [8, 8])),
};
var clock = Stopwatch.StartNew();
foreach (var (name, tensor) in sent)
{
    await alice.SendAsync(bob.Ticket, name, tensor);
}
Console.WriteLine($"\nalice pushed {sent.Length} tensors to bob (first push includes the handshake): {clock.Elapsed.TotalMilliseconds:0.0} ms");
for (int i = 0; i < sent.Length; i++)
{
    ReceivedTensor r = await bob.ReceiveAsync();
    bool same = r.Data.Payload.Span.SequenceEqual(sent[i].Tensor.Payload.Span) && r.Sender == alice.NodeId;
    Console.WriteLine($"  bob got   {Describe(r.Name, r.Data)}  from alice, intact: {same}");
}

// 2. Pull: bob registers a tensor, alice requests it.
float[] embedding = new float[10_000 * 64];
for (int i = 0; i < embedding.Length; i++) embedding[i] = i % 101;
bob.Register("embeddings", TensorData.FromArray(embedding, [10_000, 64]));
TensorData pulled = await alice.RequestAsync(bob.Ticket, "embeddings");
Console.WriteLine($"  alice pulled {Describe("embeddings", pulled)}");

// 3. Throughput: one large tensor push (acknowledged once it is in bob's queue).
byte[] big = GC.AllocateUninitializedArray<byte>(mib << 20);
random.NextBytes(big);
var bigTensor = TensorData.FromArray(big, [big.LongLength]);
clock.Restart();
await alice.SendAsync(bob.Ticket, "big", bigTensor);
double seconds = clock.Elapsed.TotalSeconds;
ReceivedTensor bigReceived = await bob.ReceiveAsync();
bool bigIntact = bigReceived.Data.Payload.Span.SequenceEqual(big);
Console.WriteLine($"\npush of {mib} MiB: {mib / seconds:0} MiB/s ({seconds * 1000:0} ms), intact: {bigIntact}");

// 4. Latency: 4 KiB pushes over the pooled connection, each acknowledged.
var small = TensorData.FromArray(new float[1024], [1024]);
var samples = new List<double>();
for (int i = 0; i < 1200; i++)
{
    long t0 = Stopwatch.GetTimestamp();
    await alice.SendAsync(bob.Ticket, "small", small);
    if (i >= 200) samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
    bob.TryReceive(out _);
}
samples.Sort();
Console.WriteLine($"4 KiB push, acknowledged: p50 {samples[samples.Count / 2]:0} us, p99 {samples[(int)(samples.Count * 0.99)]:0} us; pooled connections: {alice.PoolSize}");
return bigIntact ? 0 : 1;
