using TensorProtocol.Native.Abi;

namespace TensorProtocol.Native;

/// <summary>Calls a <c>tp_completion_fn</c> exactly once, with the outcome of an operation.</summary>
internal readonly unsafe struct Completion
{
    private readonly delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> _function;
    private readonly nint _userData;

    public Completion(delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void> function, nint userData)
    {
        _function = function;
        _userData = userData;
    }

    public bool IsNull => _function is null;

    public void Succeed(nint tensor = 0) => _function(_userData, (int)tp_status.TP_OK, null, tensor);

    public void Fail(Exception e)
    {
        tp_status status = Errors.Classify(e);
        byte* message = NativeText.Allocate(Errors.Message(e, status));
        try
        {
            _function(_userData, (int)status, message, 0);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(message);
        }
    }
}
