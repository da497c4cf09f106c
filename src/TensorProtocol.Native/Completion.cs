using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>
/// Delivers the outcome of an operation exactly once: through the caller's <c>tp_completion_fn</c>, or, when the
/// caller passed none, as an event on the node's completion queue.
/// </summary>
internal readonly unsafe struct Completion
{
    private readonly delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> _function;
    private readonly nint _userData;
    private readonly CompletionQueue? _queue;

    public Completion(delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> function, nint userData, CompletionQueue? queue)
    {
        _function = function;
        _userData = userData;
        _queue = function is null ? queue : null;
    }

    public void Succeed(nint tensor = 0)
    {
        if (_queue is not null)
        {
            Post(tp_status.TP_OK, null, tensor);
            return;
        }
        _function(_userData, (int)tp_status.TP_OK, null, tensor);
    }

    public void Fail(Exception e)
    {
        tp_status status = Errors.Classify(e);
        string message = Errors.Message(e, status);
        if (_queue is not null)
        {
            Post(status, message, 0);
            return;
        }
        byte* text = NativeText.Allocate(message);
        try
        {
            _function(_userData, (int)status, text, 0);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(text);
        }
    }

    private void Post(tp_status status, string? message, nint tensor)
    {
        if (!_queue!.Post(new CompletionQueue.Entry((ulong)_userData, CompletionQueue.KindCompletion, status, tensor, message)) && tensor != 0)
        {
            Handles.Free<TensorHandle>(tensor)?.Free(); // the queue was freed: nobody can take the tensor
        }
    }
}
