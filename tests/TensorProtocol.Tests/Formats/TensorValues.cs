using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace TensorProtocol.Tests.Formats;

/// <summary>
/// A tensor's elements as values, decoded here independently of the library, in the form Python's <c>tolist()</c>
/// gives them as JSON: numbers (exact doubles for every float type), booleans, and <c>[re, im]</c> pairs for complex
/// numbers; flattened in C order. Comparing values rather than bytes checks that both sides mean the same thing by a
/// dtype (bfloat16's bit layout, the 8-bit float encodings, unsigned 64-bit range, complex element order).
/// </summary>
internal static class TensorValues
{
    /// <summary>Asserts that <paramref name="actual"/>'s elements equal the flat JSON list <paramref name="expected"/>.</summary>
    public static void AssertEqual(JsonElement expected, TensorData actual, string label)
    {
        Assert.Equal(JsonValueKind.Array, expected.ValueKind);
        Assert.True(expected.GetArrayLength() == actual.Metadata.ElementCount,
            $"{label}: {expected.GetArrayLength()} expected values, {actual.Metadata.ElementCount} elements.");
        DType dtype = actual.DType;
        ReadOnlySpan<byte> bytes = actual.Payload.Span;
        int size = dtype.ElementSize;
        int i = 0;
        foreach (JsonElement value in expected.EnumerateArray())
        {
            ReadOnlySpan<byte> element = bytes.Slice(i * size, size);
            string where = $"{label}[{i}] ({dtype})";
            if (dtype == DType.BOOL)
            {
                Assert.True(element[0] is 0 or 1, $"{where}: byte {element[0]} is not a bool.");
                Assert.True(value.GetBoolean() == (element[0] == 1), $"{where}: expected {value}, got {element[0]}.");
            }
            else if (dtype == DType.C64 || dtype == DType.C128)
            {
                (double re, double im) = Complex(dtype, element);
                Assert.True(value[0].GetDouble() == re && value[1].GetDouble() == im, $"{where}: expected {value}, got [{re}, {im}].");
            }
            else if (IsFloat(dtype))
            {
                double got = Float(dtype, element);
                Assert.True(value.GetDouble().Equals(got), $"{where}: expected {value}, got {got:R}.");
            }
            else if (IsUnsigned(dtype))
            {
                ulong got = Unsigned(element);
                Assert.True(value.GetUInt64() == got, $"{where}: expected {value}, got {got}.");
            }
            else
            {
                long got = Signed(element);
                Assert.True(value.GetInt64() == got, $"{where}: expected {value}, got {got}.");
            }
            i++;
        }
    }

    /// <summary>The elements as a JSON list, decoded the same way.</summary>
    public static string ToJson(TensorData tensor)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            DType dtype = tensor.DType;
            ReadOnlySpan<byte> bytes = tensor.Payload.Span;
            for (int offset = 0; offset < bytes.Length; offset += dtype.ElementSize)
            {
                ReadOnlySpan<byte> element = bytes.Slice(offset, dtype.ElementSize);
                if (dtype == DType.BOOL)
                {
                    writer.WriteBooleanValue(element[0] != 0);
                }
                else if (dtype == DType.C64 || dtype == DType.C128)
                {
                    (double re, double im) = Complex(dtype, element);
                    writer.WriteStartArray();
                    writer.WriteNumberValue(re);
                    writer.WriteNumberValue(im);
                    writer.WriteEndArray();
                }
                else if (IsFloat(dtype))
                {
                    // Shortest round-trip text: Python parses it back to the same double.
                    writer.WriteNumberValue(Float(dtype, element));
                }
                else if (IsUnsigned(dtype))
                {
                    writer.WriteNumberValue(Unsigned(element));
                }
                else
                {
                    writer.WriteNumberValue(Signed(element));
                }
            }
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static bool IsFloat(DType d) =>
        d == DType.F64 || d == DType.F32 || d == DType.F16 || d == DType.BF16 || d == DType.F8_E4M3 || d == DType.F8_E5M2;

    private static bool IsUnsigned(DType d) => d == DType.U8 || d == DType.U16 || d == DType.U32 || d == DType.U64;

    private static double Float(DType dtype, ReadOnlySpan<byte> e) =>
        dtype == DType.F64 ? BinaryPrimitives.ReadDoubleLittleEndian(e)
        : dtype == DType.F32 ? BinaryPrimitives.ReadSingleLittleEndian(e)
        : dtype == DType.F16 ? (double)BinaryPrimitives.ReadHalfLittleEndian(e)
        // bfloat16 is the upper half of a float32.
        : dtype == DType.BF16 ? BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(e) << 16)
        : dtype == DType.F8_E4M3 ? Float8(e[0], exponentBits: 4, mantissaBits: 3, bias: 7, hasInfinity: false)
        : Float8(e[0], exponentBits: 5, mantissaBits: 2, bias: 15, hasInfinity: true);

    /// <summary>
    /// An 8-bit float: E4M3 in its "fn" form (no infinities; only S.1111.111 is NaN) and E5M2 (IEEE-like), as torch's
    /// float8_e4m3fn and float8_e5m2 and the safetensors F8_E4M3 and F8_E5M2.
    /// </summary>
    private static double Float8(byte b, int exponentBits, int mantissaBits, int bias, bool hasInfinity)
    {
        int sign = b >> 7 == 1 ? -1 : 1;
        int exponent = (b >> mantissaBits) & ((1 << exponentBits) - 1);
        int mantissa = b & ((1 << mantissaBits) - 1);
        int maxExponent = (1 << exponentBits) - 1;
        if (hasInfinity && exponent == maxExponent)
        {
            return mantissa == 0 ? sign * double.PositiveInfinity : double.NaN;
        }
        if (!hasInfinity && exponent == maxExponent && mantissa == (1 << mantissaBits) - 1)
        {
            return double.NaN;
        }
        double fraction = (double)mantissa / (1 << mantissaBits);
        return exponent == 0
            ? sign * fraction * Math.Pow(2, 1 - bias)
            : sign * (1 + fraction) * Math.Pow(2, exponent - bias);
    }

    private static (double Re, double Im) Complex(DType dtype, ReadOnlySpan<byte> e) =>
        dtype == DType.C64
            ? (BinaryPrimitives.ReadSingleLittleEndian(e), BinaryPrimitives.ReadSingleLittleEndian(e[4..]))
            : (BinaryPrimitives.ReadDoubleLittleEndian(e), BinaryPrimitives.ReadDoubleLittleEndian(e[8..]));

    private static ulong Unsigned(ReadOnlySpan<byte> e) => e.Length switch
    {
        1 => e[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(e),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(e),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(e),
    };

    private static long Signed(ReadOnlySpan<byte> e) => e.Length switch
    {
        1 => (sbyte)e[0],
        2 => BinaryPrimitives.ReadInt16LittleEndian(e),
        4 => BinaryPrimitives.ReadInt32LittleEndian(e),
        _ => BinaryPrimitives.ReadInt64LittleEndian(e),
    };
}
