using System.Runtime.InteropServices;

namespace TensorProtocol.Tests;

/// <summary>
/// Native memory for <see cref="TensorData.FromNativeMemory"/> tests, standing in for a numpy or torch buffer: freed
/// by <see cref="Dispose"/>, which counts its calls so tests can see when (and that only once) the owner was released.
/// Large blocks cost only address space until touched (malloc maps them lazily).
/// </summary>
internal sealed unsafe class NativeAllocation : IDisposable
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposals;

    public NativeAllocation(long length)
    {
        Length = length;
        Address = (nint)NativeMemory.Alloc((nuint)Math.Max(1, length));
    }

    public nint Address { get; }

    public long Length { get; }

    public int Disposals => Volatile.Read(ref _disposals);

    /// <summary>Completes on the first <see cref="Dispose"/>, on whatever thread it happens.</summary>
    public Task Released => _released.Task;

    public Span<byte> Span(long offset, int length) => new((byte*)Address + offset, length);

    public void Dispose()
    {
        if (Interlocked.Increment(ref _disposals) == 1)
        {
            NativeMemory.Free((void*)Address);
            _released.TrySetResult();
        }
    }
}
