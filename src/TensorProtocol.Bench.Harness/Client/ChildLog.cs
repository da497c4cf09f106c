namespace TensorProtocol.Bench.Client;

/// <summary>Progress lines of a child process: on stderr, since its stdout is the channel to its parent.</summary>
internal static class ChildLog
{
    public static void Progress(string label, string message) => Console.Error.WriteLine($"{label} {message}");
}
