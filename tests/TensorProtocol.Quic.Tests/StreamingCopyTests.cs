using TensorProtocol.Quic.Internal;

namespace TensorProtocol.Quic.Tests;

/// <summary>The receive path's copy into large destinations (streaming stores): every byte lands once, in place.</summary>
public sealed class StreamingCopyTests
{
    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(0, 0, 100)]
    [InlineData(3, 5, 4095)]
    [InlineData(1, 31, 4096)]
    [InlineData(0, 0, 65536)]
    [InlineData(7, 1, 65535)]
    [InlineData(13, 17, 1452 * 45 + 3)]
    public unsafe void Copy_WritesExactlyTheSourceBytes_AtAnyAlignment(int sourceOffset, int destinationOffset, int length)
    {
        var random = new Random(length + sourceOffset);
        byte[] source = new byte[sourceOffset + length];
        random.NextBytes(source);
        // Guard bytes around the destination range must stay untouched.
        byte[] destination = new byte[destinationOffset + length + 64];
        Array.Fill(destination, (byte)0xA5);
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            StreamingCopy.Copy(s + sourceOffset, d + destinationOffset, length);
        }
        Assert.True(source.AsSpan(sourceOffset, length).SequenceEqual(destination.AsSpan(destinationOffset, length)));
        Assert.All(destination[..destinationOffset], b => Assert.Equal(0xA5, b));
        Assert.All(destination[(destinationOffset + length)..], b => Assert.Equal(0xA5, b));
    }
}
