using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TensorProtocol.Native.Abi;
using TensorProtocol.Native.Interop;

namespace TensorProtocol.Native;

/// <summary>
/// A <c>tp_queue</c>: outcomes of operations (and releases of lent memory) wait here instead of being called back,
/// and an eventfd is readable while any wait. An event loop watches the descriptor and drains the queue on its own
/// thread, so no caller code (and, for Python, no GIL) ever runs on library threads: one syscall per wake-up instead
/// of a foreign-thread callback.
/// </summary>
internal sealed unsafe class CompletionQueue : IDisposable
{
    public const int KindCompletion = 0;
    public const int KindRelease = 1;

    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly Lock _pollLock = new();
    private readonly List<nint> _errorStrings = []; // of the last poll; valid until the next one
    private readonly int _eventFd;
    private int _signaled;
    private int _disposed;

    public CompletionQueue()
    {
        _eventFd = libc.eventfd(0, libc.EFD_NONBLOCK | libc.EFD_CLOEXEC);
        if (_eventFd < 0)
        {
            throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    public int FileDescriptor => _eventFd;

    public readonly record struct Entry(ulong UserData, int Kind, tp_status Status, nint Tensor, string? Error);

    /// <summary>Queues an outcome; false (and nothing queued) once the queue is freed.</summary>
    public bool Post(Entry entry)
    {
        // Under the lock so that a Post racing with Dispose never writes to a closed (possibly reused) descriptor.
        lock (_pollLock)
        {
            if (_disposed != 0)
            {
                return false;
            }
            _entries.Enqueue(entry);
            Signal();
            return true;
        }
    }

    /// <summary>Moves up to <paramref name="capacity"/> outcomes into <paramref name="events"/>.</summary>
    public int Poll(tp_event* events, int capacity)
    {
        lock (_pollLock)
        {
            foreach (nint text in _errorStrings)
            {
                NativeMemory.Free((void*)text);
            }
            _errorStrings.Clear();
            // Unsignal before taking entries: a Post after this point signals again, so nothing waits unannounced.
            Volatile.Write(ref _signaled, 0);
            ulong counter;
            _ = libc.read(_eventFd, &counter, sizeof(ulong)); // EAGAIN when already clear: fine
            int count = 0;
            while (count < capacity && _entries.TryDequeue(out Entry entry))
            {
                byte* error = null;
                if (entry.Error is not null)
                {
                    error = NativeText.Allocate(entry.Error);
                    _errorStrings.Add((nint)error);
                }
                events[count++] = new tp_event
                {
                    user_data = entry.UserData,
                    kind = entry.Kind,
                    status = (int)entry.Status,
                    tensor = entry.Tensor,
                    error = error,
                };
            }
            if (!_entries.IsEmpty)
            {
                Signal(); // more than fitted: stay readable
            }
            return count;
        }
    }

    /// <summary>Blocks until an outcome waits or <paramref name="timeoutMilliseconds"/> pass (-1: no limit).</summary>
    public bool Wait(int timeoutMilliseconds)
    {
        if (!_entries.IsEmpty)
        {
            return true;
        }
        var descriptor = new libc.pollfd { fd = _eventFd, events = libc.POLLIN };
        int ready = libc.poll(&descriptor, 1, timeoutMilliseconds);
        return ready > 0 || !_entries.IsEmpty;
    }

    public void Dispose()
    {
        lock (_pollLock)
        {
            if (_disposed != 0)
            {
                return;
            }
            _disposed = 1;
            foreach (nint text in _errorStrings)
            {
                NativeMemory.Free((void*)text);
            }
            _errorStrings.Clear();
            while (_entries.TryDequeue(out Entry entry))
            {
                // Nobody will take these tensors any more: free them rather than leak them.
                if (entry.Tensor != 0)
                {
                    Handles.Free<TensorHandle>(entry.Tensor)?.Free();
                }
            }
            libc.close(_eventFd);
        }
    }

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            ulong one = 1;
            _ = libc.write(_eventFd, &one, sizeof(ulong));
        }
    }
}
