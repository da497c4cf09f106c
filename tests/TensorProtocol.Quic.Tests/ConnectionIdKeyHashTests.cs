using System.Buffers.Binary;
using TensorProtocol.Quic.Internal;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// A client chooses the DCID of its first Initial, and the server keeps it registered for routing: its hash must not be
/// steerable into one bucket without knowing the per-process seed.
/// </summary>
public sealed class ConnectionIdKeyHashTests
{
    [Fact]
    public void ClientChosenIds_CannotBeMadeToCollide_WithoutKnowingTheSeed()
    {
        // ulong.GetHashCode() folds the two halves with XOR before the seeded mixing, so every ID whose 8-byte words
        // have equal halves reaches HashCode.Combine as the same input: one bucket, whatever the seed.
        var hashes = new HashSet<int>();
        var id = new byte[16];
        var random = new Random(5);
        for (int i = 0; i < 1000; i++)
        {
            uint x = (uint)random.Next(), y = (uint)random.Next();
            BinaryPrimitives.WriteUInt32LittleEndian(id.AsSpan(0), x);
            BinaryPrimitives.WriteUInt32LittleEndian(id.AsSpan(4), x);
            BinaryPrimitives.WriteUInt32LittleEndian(id.AsSpan(8), y);
            BinaryPrimitives.WriteUInt32LittleEndian(id.AsSpan(12), y);
            hashes.Add(new ConnectionIdKey(id).GetHashCode());
        }
        Assert.True(hashes.Count > 900, $"1000 distinct client-chosen IDs gave {hashes.Count} distinct hash codes");
    }
}
