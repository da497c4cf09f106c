using System.Text;
using TensorProtocol.Internal;

namespace TensorProtocol.Tests;

public sealed class Base32Tests
{
    // RFC 4648 section 10, lower case and without padding.
    [Theory]
    [InlineData("", "")]
    [InlineData("f", "my")]
    [InlineData("fo", "mzxq")]
    [InlineData("foo", "mzxw6")]
    [InlineData("foob", "mzxw6yq")]
    [InlineData("fooba", "mzxw6ytb")]
    [InlineData("foobar", "mzxw6ytboi")]
    public void Rfc4648Vectors(string input, string encoded)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(input);
        Assert.Equal(encoded, Base32.Encode(bytes));
        Assert.Equal(encoded.Length, Base32.GetEncodedLength(bytes.Length));
        var decoded = new byte[Base32.GetDecodedLength(encoded.Length)];
        Assert.Equal(Base32.Result.Done, Base32.TryDecode(encoded.ToUpperInvariant(), decoded, out int written, out _));
        Assert.Equal(bytes, decoded[..written]);
    }

    [Fact]
    public void RoundTrip_EveryLength()
    {
        var random = new Random(7);
        for (int length = 0; length < 100; length++)
        {
            byte[] bytes = new byte[length];
            random.NextBytes(bytes);
            string text = Base32.Encode(bytes);
            var decoded = new byte[Base32.GetDecodedLength(text.Length)];
            Assert.Equal(Base32.Result.Done, Base32.TryDecode(text, decoded, out int written, out _));
            Assert.Equal(length, written);
            Assert.Equal(bytes, decoded);
        }
    }

    [Theory]
    [InlineData("m", "InvalidLength")]
    [InlineData("mzx", "InvalidLength")]
    [InlineData("mzxw6y", "InvalidLength")]
    [InlineData("mz", "NonZeroTrailingBits")] // "my" is the encoding of "f"
    [InlineData("m0", "InvalidCharacter")]
    [InlineData("mé", "InvalidCharacter")]
    public void TryDecode_Malformed(string text, string result)
    {
        Base32.Result expected = Enum.Parse<Base32.Result>(result);
        var buffer = new byte[8];
        Assert.Equal(expected, Base32.TryDecode(text, buffer, out _, out int errorIndex));
        Assert.Equal(expected == Base32.Result.InvalidCharacter ? 1 : -1, errorIndex);
    }
}
