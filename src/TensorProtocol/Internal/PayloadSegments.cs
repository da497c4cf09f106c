using System.Buffers;
using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>Builds the <see cref="ReadOnlySequence{T}"/> a <see cref="TensorData"/> holds its payload in.</summary>
internal static unsafe class PayloadSegments
{
    /// <summary>
    /// How native payloads above 2 GiB are cut: 1 GiB, a power of two, so every segment starts at a multiple of every
    /// element size (and of the page size) counted from the payload's start.
    /// </summary>
    internal const int NativeSegmentLength = 1 << 30;

    /// <summary>Chains the non-empty segments in order; their total length is computed with overflow checks.</summary>
    /// <exception cref="ArgumentException">The lengths add up to more than <see cref="long.MaxValue"/> bytes.</exception>
    internal static ReadOnlySequence<byte> FromSegments(IEnumerable<ReadOnlyMemory<byte>> segments, string paramName)
    {
        Segment? first = null;
        Segment? last = null;
        foreach (ReadOnlyMemory<byte> memory in segments)
        {
            if (memory.IsEmpty)
            {
                continue;
            }
            if (last is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                long start = last.RunningIndex + last.Memory.Length;
                if (start > long.MaxValue - memory.Length)
                {
                    throw new ArgumentException($"The segments add up to more than {long.MaxValue} bytes.", paramName);
                }
                last = last.Append(memory, start);
            }
        }
        if (first is null)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        return ReferenceEquals(first, last)
            ? new ReadOnlySequence<byte>(first.Memory)
            : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary>
    /// <paramref name="length"/> bytes of native memory as one segment when they fit one <see cref="Memory{T}"/>,
    /// else as 1 GiB segments. Every segment keeps <paramref name="owner"/> referenced while pinned.
    /// </summary>
    internal static ReadOnlySequence<byte> OverNative(SafeHandle owner, byte* pointer, long length)
    {
        if (length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        if (length <= int.MaxValue)
        {
            return new ReadOnlySequence<byte>(new NativeMemorySegment(owner, pointer, (int)length).Memory);
        }
        var pieces = new List<ReadOnlyMemory<byte>>((int)((length + NativeSegmentLength - 1) / NativeSegmentLength));
        for (long offset = 0; offset < length; offset += NativeSegmentLength)
        {
            int piece = (int)Math.Min(NativeSegmentLength, length - offset);
            pieces.Add(new NativeMemorySegment(owner, pointer + offset, piece).Memory);
        }
        return FromSegments(pieces, nameof(length));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            var next = new Segment(memory, runningIndex);
            Next = next;
            return next;
        }
    }
}
