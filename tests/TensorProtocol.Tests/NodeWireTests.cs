using System.Net;
using TensorProtocol.Quic;
using TensorProtocol.Wire;

namespace TensorProtocol.Tests;

/// <summary>A raw QUIC client speaking (and breaking) the wire protocol against a live node.</summary>
public sealed class NodeWireTests : NodeTestBase
{
    private static async Task<(QuicEndpoint Endpoint, QuicConnection Connection)> ConnectRawAsync(TensorNode node)
    {
        QuicEndpoint endpoint = QuicEndpoint.Create(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [TensorNodeOptions.DefaultApplicationProtocol],
            AcceptIncomingConnections = false,
        });
        QuicConnection connection = await endpoint.ConnectAsync(node.LocalEndPoint, node.NodeId.PublicKey, Timeout());
        return (endpoint, connection);
    }

    /// <summary>Sends raw bytes as one operation; returns the response status, or null if the node aborted the stream.</summary>
    private static async Task<ResponseStatus?> ExchangeAsync(QuicConnection connection, byte[] bytes)
    {
        QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
        await using (stream)
        {
            Task write = stream.WriteAsync(bytes, completeWrites: true, Timeout()).AsTask();
            try
            {
                var prefix = new byte[4];
                await stream.ReadExactlyAsync(prefix, Timeout());
                Assert.True(Frame.TryReadHeaderLength(prefix, out int length, out _));
                var header = new byte[length];
                await stream.ReadExactlyAsync(header, Timeout());
                Assert.True(ResponseHeader.TryDecode(header, 1 << 30, out ResponseHeader? response, out ProtocolError error), error.Message);
                return response.Status;
            }
            catch (Exception e) when (e is QuicException or EndOfStreamException)
            {
                return null;
            }
            finally
            {
                try
                {
                    await write;
                }
                catch (QuicException)
                {
                    // The node stopped reading a request it refused.
                }
            }
        }
    }

    [Fact]
    public async Task PayloadLengthThatDisagreesWithTheShape_IsRefusedAndNothingIsQueued()
    {
        await using TensorNode node = await StartNodeAsync();
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] frame = Hex.Parse(WireGoldenTests.PushFrame);
            // The golden push is a 2×3 F32 tensor: 24 payload bytes. Claim 25.
            int at = Array.IndexOf(frame, (byte)0x18);
            frame[at] = 0x19;
            byte[] withPayload = [.. frame, .. new byte[25]];
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, withPayload));

            byte[] good = [.. Hex.Parse(WireGoldenTests.PushFrame), .. new byte[24]];
            Assert.Equal(ResponseStatus.Ok, await ExchangeAsync(connection, good));
            Assert.Equal(1, node.QueuedCount);
        }
    }

    [Fact]
    public async Task Push_Announcing8GiB_IsAcceptedByDefault_SoATruncatedPayloadIsBadRequestNotTooLarge()
    {
        // Default limits: 16 GiB per tensor and of receive budget. The node reserves the budget and maps the 8 GiB
        // (address space only: pages are committed as bytes arrive), then sees the payload end early.
        await using TensorNode node = await StartNodeAsync();
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] header = RequestHeader.Push("huge", new TensorMetadata(DType.F32, [2L << 30])).ToFrame();
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, [.. header, .. new byte[4096]]));
            Assert.Equal(0, node.QueuedCount);
        }
    }

    [Fact]
    public async Task Push_AboveTheReceiveBudget_IsTooLargeEvenBelowMaxTensorBytes()
    {
        await using TensorNode node = await StartNodeAsync(o => o with { ReceiveMemoryBudget = 1 << 20 });
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] header = RequestHeader.Push("big", new TensorMetadata(DType.U8, [(1 << 20) + 1])).ToFrame();
            Assert.Equal(ResponseStatus.TooLarge, await ExchangeAsync(connection, header));
        }
    }

    [Fact]
    public async Task TruncatedPayload_OrTrailingBytes_AreRefused()
    {
        await using TensorNode node = await StartNodeAsync();
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] header = Hex.Parse(WireGoldenTests.PushFrame);
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, [.. header, .. new byte[10]]));
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, [.. header, .. new byte[30]]));
            Assert.Equal(0, node.QueuedCount);
        }
    }

    [Fact]
    public async Task BoolPush_WithBytesOtherThan0And1_IsRefused_AndAValidOneIsQueued()
    {
        await using TensorNode node = await StartNodeAsync();
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] header = RequestHeader.Push("b", new TensorMetadata(DType.BOOL, [4])).ToFrame();
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, [.. header, 0, 1, 2, 1]));
            Assert.Equal(0, node.QueuedCount);
            Assert.Equal(ResponseStatus.Ok, await ExchangeAsync(connection, [.. header, 0, 1, 1, 0]));
            Assert.True(node.TryReceive(out ReceivedTensor? received));
            Assert.Equal(new byte[] { 0, 1, 1, 0 }, received.Data.Payload.ToArray());
        }
    }

    [Fact]
    public async Task Pull_WithBytesAfterTheRequest_IsRefused_AndAnExactOneIsServed()
    {
        await using TensorNode node = await StartNodeAsync();
        node.Register("w", Floats(4, 2)); // the golden pull frame asks for "w"
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] pull = Hex.Parse(WireGoldenTests.PullFrame);
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, [.. pull, 0]));
            Assert.Equal(ResponseStatus.Ok, await ExchangeAsync(connection, pull));
        }
    }

    [Fact]
    public async Task StalledHeader_IsAbortedAfterTheRequestTimeout()
    {
        await using TensorNode node = await StartNodeAsync(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, Timeout());
            await stream.WriteAsync(new byte[] { 0x2c, 0x00 }, Timeout()); // half a length prefix, then silence
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<QuicException>(async () => await stream.ReadAsync(new byte[16], Timeout()));
            Assert.Equal(QuicErrorKind.StreamAborted, e.Kind);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
            // The connection and the node carry on.
            Assert.Equal(ResponseStatus.Ok, await ExchangeAsync(connection, [.. Hex.Parse(WireGoldenTests.PushFrame), .. new byte[24]]));
        }
    }

    [Fact]
    public async Task UnknownOperation_IsRefusedWithBadRequest()
    {
        await using TensorNode node = await StartNodeAsync();
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            byte[] frame = Hex.Parse(WireGoldenTests.PullFrame);
            frame[9] = 9; // operation byte: 4 (length) + 4 (magic) + 1 (version)
            Assert.Equal(ResponseStatus.BadRequest, await ExchangeAsync(connection, frame));
        }
    }

    [Fact]
    public async Task FuzzedRequests_NeverHurtTheNode()
    {
        await using TensorNode node = await StartNodeAsync();
        node.Register("w", TensorData.FromArray(new float[6], [2, 3]));
        var (endpoint, connection) = await ConnectRawAsync(node);
        await using (endpoint)
        {
            var random = new Random(1234);
            byte[][] seeds = [Hex.Parse(WireGoldenTests.PushFrame), Hex.Parse(WireGoldenTests.PullFrame)];
            int answered = 0, aborted = 0;
            const int cases = 2000;
            for (int batch = 0; batch < cases / 50; batch++)
            {
                var exchanges = new List<Task<ResponseStatus?>>();
                for (int i = 0; i < 50; i++)
                {
                    byte[] input;
                    if (random.Next(4) == 0)
                    {
                        input = new byte[random.Next(0, 200)];
                        random.NextBytes(input);
                    }
                    else
                    {
                        input = (byte[])seeds[random.Next(seeds.Length)].Clone();
                        for (int flips = random.Next(1, 4); flips > 0; flips--)
                        {
                            input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                        }
                        if (random.Next(3) == 0)
                        {
                            input = input[..random.Next(input.Length)];
                        }
                    }
                    exchanges.Add(ExchangeAsync(connection, input));
                }
                foreach (ResponseStatus? status in await Task.WhenAll(exchanges))
                {
                    if (status is null) aborted++; else answered++;
                }
            }
            Assert.Equal(cases, answered + aborted);
            Assert.True(answered > cases / 2, $"answered {answered}, aborted {aborted}");

            // Still healthy, on the same connection and on a fresh node-to-node path.
            Assert.Equal(ResponseStatus.Ok, await ExchangeAsync(connection, [.. Hex.Parse(WireGoldenTests.PushFrame), .. new byte[24]]));
            await using TensorNode peer = await StartNodeAsync();
            await peer.SendAsync(node.Ticket, "after the storm", Floats(8, 1), Timeout());
            Assert.Equal(6, (await peer.RequestAsync(node.Ticket, "w", Timeout())).Metadata.ElementCount);
        }
    }
}
