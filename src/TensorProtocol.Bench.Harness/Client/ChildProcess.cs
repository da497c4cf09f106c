using System.Diagnostics;

namespace TensorProtocol.Bench.Client;

/// <summary>
/// This same program started in another role (see <see cref="SelfInvocation"/>), with its stdin/stdout as a
/// line-based channel to it. stderr is inherited, so a child's diagnostics reach the terminal directly. Children
/// still running when this process exits, however it exits, are killed with their own children.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;

    private ChildProcess(Process process, string label)
    {
        _process = process;
        Label = label;
    }

    /// <summary>How diagnostics name this child, e.g. <c>[tcp server]</c>.</summary>
    public string Label { get; }

    public int Id => _process.Id;

    public static ChildProcess StartSelf(string label, IEnumerable<string> args)
    {
        ProcessStartInfo startInfo = SelfInvocation.StartInfo(args);
        startInfo.UseShellExecute = false;
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {label}.");
        KillOnExit.Add(process);
        return new ChildProcess(process, label);
    }

    /// <summary>Reads the child's next stdout line, which must start with <paramref name="prefix"/>; returns the rest.</summary>
    public async Task<string> ReadLineAsync(string prefix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Label} said nothing within {timeout.TotalSeconds:0} s (waiting for '{prefix}').");
        }
        if (line is null)
        {
            using var exitTimeout = new CancellationTokenSource(ExitTimeout);
            await _process.WaitForExitAsync(exitTimeout.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            string exit = _process.HasExited ? $"exited with code {_process.ExitCode}" : "closed its stdout";
            throw new InvalidOperationException($"{Label} {exit} (waiting for '{prefix}').");
        }
        return line.StartsWith(prefix, StringComparison.Ordinal)
            ? line[prefix.Length..]
            : throw new InvalidDataException($"{Label} printed '{line}' (waiting for '{prefix}').");
    }

    public async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken);
        await _process.StandardInput.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Closes the child's stdin, which every mode takes as "stop", waits a few seconds for it to exit, and kills it
    /// if it has not.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(ExitTimeout);
            await _process.WaitForExitAsync(timeout.Token);
            if (_process.ExitCode != 0)
            {
                await Console.Error.WriteLineAsync($"{Label} exited with code {_process.ExitCode}");
            }
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"{Label} did not exit within {ExitTimeout.TotalSeconds:0} s; killing it");
        }
        catch (IOException)
        {
            // Its stdin pipe is already broken: it is gone or going; the kill below makes sure.
        }
        finally
        {
            KillOnExit.KillNow(_process);
            _process.Dispose();
        }
    }

    private static class KillOnExit
    {
        private static readonly Lock Gate = new();
        private static readonly HashSet<Process> Running = [];

        static KillOnExit() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Gate)
            {
                foreach (Process process in Running)
                {
                    TryKill(process);
                }
            }
        };

        public static void Add(Process process)
        {
            lock (Gate)
            {
                Running.Add(process);
            }
        }

        public static void KillNow(Process process)
        {
            lock (Gate)
            {
                Running.Remove(process);
            }
            TryKill(process);
        }

        private static void TryKill(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }
}
