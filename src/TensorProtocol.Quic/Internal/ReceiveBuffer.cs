namespace TensorProtocol.Quic.Internal;

/// <summary>
/// Stream bytes that arrived while no read was pending, in pooled blocks (not one array per packet). Its size is
/// bounded by the flow-control window the stream granted, and so is the memory behind it, within about twice that
/// plus 4 KiB: blocks grow with what is buffered, from 4 KiB up to 64 KiB. Loop thread only.
/// </summary>
internal sealed class ReceiveBuffer(BlockPool pool)
{
    private readonly Queue<Block> _blocks = new();
    private Block? _tail;

    private sealed class Block(byte[] array)
    {
        public readonly byte[] Array = array;
        public int Start;
        public int End;
    }

    internal long Length { get; private set; }

    /// <summary>The bytes of the blocks held (for tests and diagnostics).</summary>
    internal long Capacity { get; private set; }

    internal void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_tail is null || _tail.End == _tail.Array.Length)
            {
                // As large as what is buffered so far (or this write), so a stream holding a few bytes holds a 4 KiB
                // block, and one filling its window soon gets 64 KiB blocks.
                _tail = new Block(pool.Rent((int)Math.Min(BlockPool.BlockSize, Math.Max(data.Length, Length))));
                _blocks.Enqueue(_tail);
                Capacity += _tail.Array.Length;
            }
            int n = Math.Min(data.Length, _tail.Array.Length - _tail.End);
            data[..n].CopyTo(_tail.Array.AsSpan(_tail.End));
            _tail.End += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>Moves up to <paramref name="destination"/>.Length bytes out; returns how many.</summary>
    internal int Read(Span<byte> destination)
    {
        int copied = 0;
        while (copied < destination.Length && _blocks.Count > 0)
        {
            Block head = _blocks.Peek();
            int n = Math.Min(head.End - head.Start, destination.Length - copied);
            if (n == 0)
            {
                break; // only the partly written tail block is left, and it is empty
            }
            head.Array.AsSpan(head.Start, n).CopyTo(destination[copied..]);
            head.Start += n;
            copied += n;
            Length -= n;
            // A drained block goes back to the pool; so does the tail once everything was read, or every small stream
            // (a request read to its end) would leave its partly filled 64 KiB block to the garbage collector.
            if (head.Start == head.End && (head != _tail || head.End == head.Array.Length || Length == 0))
            {
                _blocks.Dequeue();
                if (head == _tail)
                {
                    _tail = null;
                }
                Capacity -= head.Array.Length;
                pool.Return(head.Array);
            }
        }
        return copied;
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes from the front without consuming them.</summary>
    internal int Peek(Span<byte> destination)
    {
        int copied = 0;
        foreach (Block block in _blocks)
        {
            if (copied == destination.Length)
            {
                break;
            }
            int n = Math.Min(block.End - block.Start, destination.Length - copied);
            block.Array.AsSpan(block.Start, n).CopyTo(destination[copied..]);
            copied += n;
        }
        return copied;
    }

    internal void Clear()
    {
        while (_blocks.Count > 0)
        {
            pool.Return(_blocks.Dequeue().Array);
        }
        _tail = null;
        Length = 0;
        Capacity = 0;
    }
}
