using System.Diagnostics.CodeAnalysis;

namespace TensorProtocol;

/// <summary>
/// The element type of a tensor. The set is closed: every <see cref="DType"/> is one of the static instances of this
/// class, named as in safetensors, each with a fixed element size and a one-byte <see cref="Code"/> that identifies it
/// on the wire. Instances are unique, so reference equality is value equality.
/// </summary>
/// <remarks>
/// Multi-byte elements are always little-endian. <see cref="Parse(string)"/> also accepts torch and numpy spellings.
/// </remarks>
public sealed partial class DType
{
    // Wire codes are part of the protocol (docs/protocol.md): never renumber, only append. 0 stays invalid so that a
    // zeroed buffer never decodes as a tensor.

    /// <summary>IEEE 754 binary64 (torch.float64, numpy float64).</summary>
    public static DType F64 { get; } = new("F64", code: 2, elementSize: 8);

    /// <summary>IEEE 754 binary32 (torch.float32, numpy float32).</summary>
    public static DType F32 { get; } = new("F32", code: 1, elementSize: 4);

    /// <summary>IEEE 754 binary16 (torch.float16, numpy float16, .NET <see cref="Half"/>).</summary>
    public static DType F16 { get; } = new("F16", code: 3, elementSize: 2);

    /// <summary>bfloat16: the upper 16 bits of a binary32 (torch.bfloat16). .NET has no element type for it.</summary>
    public static DType BF16 { get; } = new("BF16", code: 4, elementSize: 2);

    /// <summary>Signed 64-bit integer (torch.int64, numpy int64).</summary>
    public static DType I64 { get; } = new("I64", code: 10, elementSize: 8);

    /// <summary>Signed 32-bit integer (torch.int32, numpy int32).</summary>
    public static DType I32 { get; } = new("I32", code: 9, elementSize: 4);

    /// <summary>Signed 16-bit integer (torch.int16, numpy int16).</summary>
    public static DType I16 { get; } = new("I16", code: 8, elementSize: 2);

    /// <summary>Signed 8-bit integer (torch.int8, numpy int8).</summary>
    public static DType I8 { get; } = new("I8", code: 7, elementSize: 1);

    /// <summary>Unsigned 64-bit integer (torch.uint64, numpy uint64).</summary>
    public static DType U64 { get; } = new("U64", code: 14, elementSize: 8);

    /// <summary>Unsigned 32-bit integer (torch.uint32, numpy uint32).</summary>
    public static DType U32 { get; } = new("U32", code: 13, elementSize: 4);

    /// <summary>Unsigned 16-bit integer (torch.uint16, numpy uint16).</summary>
    public static DType U16 { get; } = new("U16", code: 12, elementSize: 2);

    /// <summary>Unsigned 8-bit integer (torch.uint8, numpy uint8).</summary>
    public static DType U8 { get; } = new("U8", code: 11, elementSize: 1);

    /// <summary>Boolean, one byte per element holding 0 or 1 (torch.bool, numpy bool).</summary>
    public static DType BOOL { get; } = new("BOOL", code: 15, elementSize: 1);

    /// <summary>8-bit float with 4 exponent and 3 mantissa bits, no infinities (torch.float8_e4m3fn).</summary>
    public static DType F8_E4M3 { get; } = new("F8_E4M3", code: 5, elementSize: 1);

    /// <summary>8-bit float with 5 exponent and 2 mantissa bits (torch.float8_e5m2).</summary>
    public static DType F8_E5M2 { get; } = new("F8_E5M2", code: 6, elementSize: 1);

    /// <summary>Complex number of two binary32 values, real part first (torch.complex64, numpy complex64).</summary>
    public static DType C64 { get; } = new("C64", code: 16, elementSize: 8);

    /// <summary>
    /// Complex number of two binary64 values, real part first (torch.complex128, numpy complex128,
    /// .NET <see cref="System.Numerics.Complex"/>).
    /// </summary>
    public static DType C128 { get; } = new("C128", code: 17, elementSize: 16);

    private static readonly DType[] s_all =
        [F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2, C64, C128];

    private static readonly DType?[] s_byCode = BuildCodeTable();

    private DType(string name, byte code, int elementSize)
    {
        Name = name;
        Code = code;
        ElementSize = elementSize;
    }

    /// <summary>Every element type, in the order of the safetensors documentation.</summary>
    public static IReadOnlyList<DType> All => s_all;

    /// <summary>The safetensors name, e.g. <c>F32</c> or <c>BF16</c>.</summary>
    public string Name { get; }

    /// <summary>The size of one element in bytes.</summary>
    public int ElementSize { get; }

    /// <summary>The code that identifies this type on the wire (never 0).</summary>
    public byte Code { get; }

    /// <summary>Returns the element type with the given wire code.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No element type has this code.</exception>
    public static DType FromCode(byte code) =>
        TryFromCode(code, out DType? dtype)
            ? dtype
            : throw new ArgumentOutOfRangeException(nameof(code), code, $"No element type has wire code {code}.");

    /// <summary>Looks up the element type with the given wire code.</summary>
    public static bool TryFromCode(byte code, [NotNullWhen(true)] out DType? dtype)
    {
        dtype = code < s_byCode.Length ? s_byCode[code] : null;
        return dtype is not null;
    }

    /// <summary>The safetensors name.</summary>
    public override string ToString() => Name;

    private static DType?[] BuildCodeTable()
    {
        var table = new DType?[s_all.Max(d => d.Code) + 1];
        foreach (DType dtype in s_all)
        {
            table[dtype.Code] = dtype;
        }
        return table;
    }
}
