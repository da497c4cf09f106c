namespace TensorProtocol.Internal;

/// <summary>Quotes untrusted text in error messages, cut short so that a pasted megabyte does not become one.</summary>
internal static class TextPreview
{
    private const int MaxLength = 80;

    public static string Quote(ReadOnlySpan<char> text) =>
        text.Length <= MaxLength ? $"'{text}'" : $"'{text[..MaxLength]}…' ({text.Length} characters)";
}
