namespace TensorProtocol.Bench;

/// <summary>
/// A child's end of the line channel its parent keeps on its stdin. End-of-file means "stop": the parent closes
/// stdin when done, and the pipe also closes if the parent dies, so no child outlives the run.
/// </summary>
internal static class ParentChannel
{
    /// <summary>Calls <paramref name="onLine"/> for each line from the parent; completes at end-of-file.</summary>
    public static Task ListenAsync(Action<string> onLine) =>
        // Console stdin only reads synchronously; a dedicated (background) thread keeps that off the thread pool the
        // transports run on, where on two cores a blocked thread would be a measurable handicap.
        Task.Factory.StartNew(
            () =>
            {
                using var stdin = new StreamReader(Console.OpenStandardInput());
                while (stdin.ReadLine() is { } line)
                {
                    onLine(line);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
}
