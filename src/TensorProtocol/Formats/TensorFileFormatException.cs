namespace TensorProtocol.Formats;

/// <summary>
/// A tensor file (safetensors or .npy) is malformed or uses a feature this library does not support. The message
/// names the file, the tensor when there is one, and what is wrong.
/// </summary>
public sealed class TensorFileFormatException : FormatException
{
    /// <summary>Creates the exception for a problem in a file, optionally in one tensor of it.</summary>
    /// <param name="filePath">The file that is malformed.</param>
    /// <param name="tensorName">The tensor the problem is in, or null when it concerns the whole file.</param>
    /// <param name="problem">What is wrong, as a sentence.</param>
    /// <param name="innerException">The failure that revealed the problem, if any.</param>
    public TensorFileFormatException(string filePath, string? tensorName, string problem, Exception? innerException = null)
        : base(FormatMessage(filePath, tensorName, problem), innerException)
    {
        FilePath = filePath;
        TensorName = tensorName;
        Problem = problem;
    }

    /// <summary>The file that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem is in, or null when it concerns the whole file.</summary>
    public string? TensorName { get; }

    /// <summary>What is wrong, without the file and tensor names.</summary>
    public string Problem { get; }

    private static string FormatMessage(string filePath, string? tensorName, string problem) =>
        tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}";
}
