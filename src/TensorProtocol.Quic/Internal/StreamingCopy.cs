using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TensorProtocol.Quic.Internal;

/// <summary>
/// Copies into a large destination with non-temporal (streaming) stores where the CPU has them. A bulk receive writes
/// each byte of a tensor once and nothing reads it back soon: ordinary stores first read every destination cache line
/// from memory (write-allocate) and push the loop's working set — packet buffers, ngtcp2's state — out of the caches,
/// about a third more memory traffic for the same bytes.
/// </summary>
internal static unsafe class StreamingCopy
{
    /// <summary>Reads at least this large copy with streaming stores; smaller ones are likely read again soon.</summary>
    internal const int MinReadLength = 1 << 20;

    // Below this a copy is mostly head and tail: the ordinary copy is as good. (So the 1.4 KB frames of a 1452-byte
    // path always go the ordinary way; the 64 KiB datagrams of loopback and jumbo paths take this one.)
    private const int MinCopyLength = 4096;

    internal static void Copy(byte* source, byte* destination, int length)
    {
        if (!Avx.IsSupported || length < MinCopyLength)
        {
            Buffer.MemoryCopy(source, destination, length, length);
            return;
        }
        // Streaming stores need a 32-byte aligned destination; starting at a cache line (64) keeps each line written
        // whole by one kind of store (a line split between the two is flushed partially). The head goes the ordinary way.
        int head = (int)((64 - ((nuint)destination & 63)) & 63);
        Buffer.MemoryCopy(source, destination, head, head);
        source += head;
        destination += head;
        length -= head;
        while (length >= 128)
        {
            Vector256<byte> a = Avx.LoadVector256(source);
            Vector256<byte> b = Avx.LoadVector256(source + 32);
            Vector256<byte> c = Avx.LoadVector256(source + 64);
            Vector256<byte> d = Avx.LoadVector256(source + 96);
            Avx.StoreAlignedNonTemporal(destination, a);
            Avx.StoreAlignedNonTemporal(destination + 32, b);
            Avx.StoreAlignedNonTemporal(destination + 64, c);
            Avx.StoreAlignedNonTemporal(destination + 96, d);
            source += 128;
            destination += 128;
            length -= 128;
        }
        Buffer.MemoryCopy(source, destination, length, length);
        // Streaming stores are weakly ordered: make them visible before whatever tells another thread the data is there.
        Sse.StoreFence();
    }
}
