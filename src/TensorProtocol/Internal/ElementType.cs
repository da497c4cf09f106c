using System.Numerics;
using System.Runtime.CompilerServices;

namespace TensorProtocol.Internal;

/// <summary>The <see cref="DType"/> that a .NET element type stands for, computed once per type.</summary>
internal static class ElementType<T>
    where T : unmanaged
{
    /// <summary>The element type, or null when <typeparamref name="T"/> is not a tensor element type.</summary>
    public static readonly DType? DType = Lookup();

    /// <summary>
    /// The alignment the runtime gives <typeparamref name="T"/> in arrays: its size for primitives, 8 for
    /// <see cref="Complex"/> (two doubles).
    /// </summary>
    public static readonly int Alignment = typeof(T) == typeof(Complex) ? sizeof(double) : Math.Min(Unsafe.SizeOf<T>(), 8);

    // The JIT folds these comparisons per instantiation; no reflection at run time.
    private static DType? Lookup() =>
        typeof(T) == typeof(float) ? TensorProtocol.DType.F32
        : typeof(T) == typeof(double) ? TensorProtocol.DType.F64
        : typeof(T) == typeof(Half) ? TensorProtocol.DType.F16
        : typeof(T) == typeof(long) ? TensorProtocol.DType.I64
        : typeof(T) == typeof(int) ? TensorProtocol.DType.I32
        : typeof(T) == typeof(short) ? TensorProtocol.DType.I16
        : typeof(T) == typeof(sbyte) ? TensorProtocol.DType.I8
        : typeof(T) == typeof(ulong) ? TensorProtocol.DType.U64
        : typeof(T) == typeof(uint) ? TensorProtocol.DType.U32
        : typeof(T) == typeof(ushort) ? TensorProtocol.DType.U16
        : typeof(T) == typeof(byte) ? TensorProtocol.DType.U8
        : typeof(T) == typeof(bool) ? TensorProtocol.DType.BOOL
        : typeof(T) == typeof(Complex) ? TensorProtocol.DType.C128
        : null;

    /// <summary>Returns the element type or throws, naming the .NET type.</summary>
    public static DType Require(string paramName) =>
        DType ?? throw new ArgumentException(
            $"{typeof(T).Name} is not a tensor element type. Use float, double, Half, long, int, short, sbyte, " +
            "ulong, uint, ushort, byte, bool or System.Numerics.Complex, or build the TensorData from raw bytes.",
            paramName);
}
