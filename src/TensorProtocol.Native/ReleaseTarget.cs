using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>
/// How the lender of memory learns that the library let go of it: its <c>tp_release_fn</c>, or (no function, a
/// non-zero <c>release_data</c>) a release event on the node's completion queue, or not at all.
/// </summary>
internal readonly unsafe struct ReleaseTarget
{
    private readonly delegate* unmanaged[Cdecl]<nint, void> _function;
    private readonly nint _data;
    private readonly CompletionQueue? _queue;
    private readonly PendingCallbacks? _pending;

    public ReleaseTarget(delegate* unmanaged[Cdecl]<nint, void> function, nint data, CompletionQueue? queue, PendingCallbacks? pending = null)
    {
        _pending = pending;
        if (function is null && data != 0 && queue is null)
        {
            throw new ArgumentException("release is NULL and release_data is set, but the node has no completion queue to announce the release on.", "release");
        }
        _function = function;
        _data = data;
        _queue = function is null && data != 0 ? queue : null;
    }

    public void Notify()
    {
        if (_queue is not null)
        {
            // Cheap and non-blocking (one eventfd write), so fine on the QUIC loop thread, where the last Unpin runs.
            _queue.Post(new CompletionQueue.Entry((ulong)_data, CompletionQueue.KindRelease, tp_status.TP_OK, 0, null));
        }
        else if (_function is not null)
        {
            // A release callback may block (ctypes takes the GIL), so it never runs on the QUIC loop thread. Counted
            // until it returned, so that shutting the node down waits for it.
            _pending?.Enter();
            ThreadPool.UnsafeQueueUserWorkItem(static state =>
            {
                try
                {
                    state._function(state._data);
                }
                finally
                {
                    state._pending?.Exit();
                }
            }, this, preferLocal: false);
        }
    }
}
