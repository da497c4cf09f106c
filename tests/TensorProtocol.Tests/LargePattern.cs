using System.Buffers;
using System.Security.Cryptography;

namespace TensorProtocol.Tests;

/// <summary>
/// Test data for tensors above 2 GiB: every 8-byte word is a hash of its own index (splitmix64), so a byte that lands
/// at the wrong offset changes the SHA-256 — a repeating pattern could hide a misplaced segment.
/// </summary>
internal static class LargePattern
{
    /// <summary>Native memory of <paramref name="length"/> bytes (a multiple of 8) filled with the pattern.</summary>
    public static NativeAllocation Create(long length)
    {
        var memory = new NativeAllocation(length);
        const int Chunk = 1 << 30;
        for (long offset = 0; offset < length; offset += Chunk)
        {
            int n = (int)Math.Min(Chunk, length - offset);
            Span<ulong> words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(memory.Span(offset, n));
            ulong index = (ulong)offset / 8;
            for (int i = 0; i < words.Length; i++)
            {
                words[i] = SplitMix64(index + (ulong)i);
            }
        }
        return memory;
    }

    public static byte[] Sha256(ReadOnlySequence<byte> payload)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            hash.AppendData(segment.Span);
        }
        return hash.GetHashAndReset();
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
