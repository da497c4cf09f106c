namespace TensorProtocol.Tests;

/// <summary>Golden vectors are written as hex with spaces between fields, as in docs/protocol.md.</summary>
internal static class Hex
{
    public static byte[] Parse(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
