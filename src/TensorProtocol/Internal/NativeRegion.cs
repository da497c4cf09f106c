using System.Runtime.InteropServices;

namespace TensorProtocol.Internal;

/// <summary>
/// Where a payload lies in one piece of native memory, even when it is cut into several segments for
/// <see cref="System.Buffers.ReadOnlySequence{T}"/>: lets a tensor above 2 GiB be viewed as one tensor span.
/// <paramref name="Handle"/> keeps the memory alive and says when it is gone.
/// </summary>
internal sealed record NativeRegion(SafeHandle Handle, nint Address);
