namespace TensorProtocol.Tests;

public sealed class DTypeTests
{
    [Theory]
    // safetensors names, any case
    [InlineData("F64", "F64")]
    [InlineData("F32", "F32")]
    [InlineData("f32", "F32")]
    [InlineData("F16", "F16")]
    [InlineData("BF16", "BF16")]
    [InlineData("bf16", "BF16")]
    [InlineData("I64", "I64")]
    [InlineData("I32", "I32")]
    [InlineData("I16", "I16")]
    [InlineData("I8", "I8")]
    [InlineData("U64", "U64")]
    [InlineData("U32", "U32")]
    [InlineData("U16", "U16")]
    [InlineData("U8", "U8")]
    [InlineData("BOOL", "BOOL")]
    [InlineData("Bool", "BOOL")]
    [InlineData("F8_E4M3", "F8_E4M3")]
    [InlineData("f8_e4m3", "F8_E4M3")]
    [InlineData("F8_E5M2", "F8_E5M2")]
    [InlineData("C64", "C64")]
    [InlineData("C128", "C128")]
    // torch, with and without the prefix
    [InlineData("torch.float64", "F64")]
    [InlineData("torch.double", "F64")]
    [InlineData("double", "F64")]
    [InlineData("torch.float32", "F32")]
    [InlineData("float32", "F32")]
    [InlineData("torch.float", "F32")]
    [InlineData("float", "F32")]
    [InlineData("torch.float16", "F16")]
    [InlineData("torch.half", "F16")]
    [InlineData("half", "F16")]
    [InlineData("torch.bfloat16", "BF16")]
    [InlineData("bfloat16", "BF16")]
    [InlineData("torch.int64", "I64")]
    [InlineData("torch.long", "I64")]
    [InlineData("long", "I64")]
    [InlineData("torch.int32", "I32")]
    [InlineData("torch.int", "I32")]
    [InlineData("int", "I32")]
    [InlineData("torch.int16", "I16")]
    [InlineData("torch.short", "I16")]
    [InlineData("torch.int8", "I8")]
    [InlineData("torch.uint8", "U8")]
    [InlineData("uint8", "U8")]
    [InlineData("torch.uint16", "U16")]
    [InlineData("torch.uint32", "U32")]
    [InlineData("torch.uint64", "U64")]
    [InlineData("torch.bool", "BOOL")]
    [InlineData("bool", "BOOL")]
    [InlineData("torch.float8_e4m3fn", "F8_E4M3")]
    [InlineData("float8_e4m3fn", "F8_E4M3")]
    [InlineData("torch.float8_e5m2", "F8_E5M2")]
    [InlineData("float8_e5m2", "F8_E5M2")]
    [InlineData("torch.complex64", "C64")]
    [InlineData("torch.cfloat", "C64")]
    [InlineData("torch.complex128", "C128")]
    [InlineData("torch.cdouble", "C128")]
    [InlineData("TORCH.FLOAT32", "F32")]
    // numpy names and type strings
    [InlineData("float64", "F64")]
    [InlineData("<f8", "F64")]
    [InlineData("f8", "F64")]
    [InlineData("=f8", "F64")]
    [InlineData("<f4", "F32")]
    [InlineData("f4", "F32")]
    [InlineData("single", "F32")]
    [InlineData("float16", "F16")]
    [InlineData("<f2", "F16")]
    [InlineData("int64", "I64")]
    [InlineData("<i8", "I64")]
    [InlineData("int32", "I32")]
    [InlineData("<i4", "I32")]
    [InlineData("i4", "I32")]
    [InlineData("int16", "I16")]
    [InlineData("<i2", "I16")]
    [InlineData("int8", "I8")]
    [InlineData("|i1", "I8")]
    [InlineData("uint64", "U64")]
    [InlineData("<u8", "U64")]
    [InlineData("uint32", "U32")]
    [InlineData("<u4", "U32")]
    [InlineData("uint16", "U16")]
    [InlineData("<u2", "U16")]
    [InlineData("|u1", "U8")]
    [InlineData("u1", "U8")]
    [InlineData(">u1", "U8")] // one byte has no byte order
    [InlineData("|b1", "BOOL")]
    [InlineData("bool_", "BOOL")]
    [InlineData("complex64", "C64")]
    [InlineData("<c8", "C64")]
    [InlineData("csingle", "C64")]
    [InlineData("complex128", "C128")]
    [InlineData("<c16", "C128")]
    // clashes: the safetensors name wins over a numpy type string without byte order
    [InlineData("i8", "I8")]
    [InlineData("u8", "U8")]
    [InlineData("f16", "F16")]
    public void Parse_KnownSpelling_ReturnsType(string text, string expected)
    {
        Assert.Same(DType.Parse(expected), DType.Parse(text));
        Assert.Equal(expected, DType.Parse(text).Name);
        Assert.True(DType.TryParse(text, out DType? parsed));
        Assert.Equal(expected, parsed.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("float128")]
    [InlineData("f32 ")]
    [InlineData("torch.")]
    [InlineData("torch.F32")] // only torch names follow the prefix
    [InlineData("torch.<f4")]
    [InlineData("torch.float8_e4m3fnuz")]
    [InlineData("complex32")]
    [InlineData("<f16")] // numpy float128
    [InlineData("<f3")]
    [InlineData("<F4")] // numpy kind letters are lower case
    [InlineData("<f04")]
    [InlineData("<V2")]
    [InlineData("<i")]
    [InlineData("byte")] // int8 in numpy, uint8 in torch's tensor.byte(): ambiguous, refused
    public void Parse_Unknown_ThrowsFormatExceptionNamingTheInput(string text)
    {
        FormatException e = Assert.Throws<FormatException>(() => DType.Parse(text));
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.False(DType.TryParse(text, out _));
    }

    [Theory]
    [InlineData(">f4")]
    [InlineData(">i8")]
    [InlineData("!f8")]
    [InlineData(">c16")]
    public void Parse_BigEndianNumpy_IsRefusedAsNotLittleEndian(string text)
    {
        FormatException e = Assert.Throws<FormatException>(() => DType.Parse(text));
        Assert.Contains(text, e.Message, StringComparison.Ordinal);
        Assert.Contains("only little-endian", e.Message, StringComparison.Ordinal);
        Assert.False(DType.TryParse(text, out _));
    }

    [Fact]
    public void Parse_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => DType.Parse(null!));
        Assert.False(DType.TryParse(null, out _));
    }

    [Theory]
    [InlineData("F64", 8, 2)]
    [InlineData("F32", 4, 1)]
    [InlineData("F16", 2, 3)]
    [InlineData("BF16", 2, 4)]
    [InlineData("F8_E4M3", 1, 5)]
    [InlineData("F8_E5M2", 1, 6)]
    [InlineData("I8", 1, 7)]
    [InlineData("I16", 2, 8)]
    [InlineData("I32", 4, 9)]
    [InlineData("I64", 8, 10)]
    [InlineData("U8", 1, 11)]
    [InlineData("U16", 2, 12)]
    [InlineData("U32", 4, 13)]
    [InlineData("U64", 8, 14)]
    [InlineData("BOOL", 1, 15)]
    [InlineData("C64", 8, 16)]
    [InlineData("C128", 16, 17)]
    public void ElementSizeAndCode_AreFixed(string name, int size, byte code)
    {
        DType dtype = DType.Parse(name);
        Assert.Equal(size, dtype.ElementSize);
        Assert.Equal(code, dtype.Code);
        Assert.Same(dtype, DType.FromCode(code));
        Assert.Equal(name, dtype.ToString());
    }

    [Fact]
    public void All_HasEveryTypeOnceWithDistinctNonZeroCodes()
    {
        Assert.Equal(17, DType.All.Count);
        Assert.Equal(17, DType.All.Select(d => d.Code).Distinct().Count());
        Assert.Equal(17, DType.All.Select(d => d.Name).Distinct().Count());
        Assert.DoesNotContain(DType.All, d => d.Code == 0);
        foreach (DType dtype in DType.All)
        {
            Assert.Same(dtype, DType.Parse(dtype.Name));
            Assert.Same(dtype, DType.Parse(dtype.Name.ToLowerInvariant()));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(18)]
    [InlineData(255)]
    public void FromCode_Undefined_Throws(byte code)
    {
        Assert.False(DType.TryFromCode(code, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => DType.FromCode(code));
    }
}
