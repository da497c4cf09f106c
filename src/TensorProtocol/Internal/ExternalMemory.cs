using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>
/// Native memory that belongs to the caller (<see cref="TensorData.FromNativeMemory"/>), for example a numpy or torch
/// buffer handed over by pointer. The memory is never freed here; its <c>owner</c> is disposed once the tensor is
/// disposed (or finalized, when forgotten) and no write in flight still pins it — the moment the caller may release
/// the memory.
/// </summary>
internal sealed class ExternalMemory : SafeHandle
{
    private IDisposable? _owner;

    public ExternalMemory(nint address, IDisposable? owner)
        : base(0, ownsHandle: true)
    {
        SetHandle(address);
        _owner = owner;
    }

    // Always "valid": releasing must run even for an empty tensor at address 0, because it disposes the owner.
    public override bool IsInvalid => false;

    protected override bool ReleaseHandle()
    {
        try
        {
            Interlocked.Exchange(ref _owner, null)?.Dispose();
            return true;
        }
#pragma warning disable CA1031 // An exception escaping here would end the process when it runs on the finalizer thread.
        catch (Exception)
        {
            return false;
        }
#pragma warning restore CA1031
    }
}
