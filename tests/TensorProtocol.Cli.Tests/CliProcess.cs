using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace TensorProtocol.Cli.Tests;

/// <summary>The real <c>tensorp</c> executable, run as a child process with its output captured line by line.</summary>
internal sealed partial class CliProcess : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// An environment that tempts a console library into colours and cursor moves: a colour terminal type, no
    /// NO_COLOR, and a CI marker (Spectre.Console treats CI logs as ANSI-capable). With stdout and stderr redirected,
    /// tensorp must still print no escape sequence.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> ColourfulEnvironment = new Dictionary<string, string?>
    {
        ["NO_COLOR"] = null,
        ["TERM"] = "xterm-256color",
        ["COLORTERM"] = "truecolor",
        ["GITHUB_ACTIONS"] = "true",
    };

    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly List<string> _stdoutLines = [];
    private readonly List<string> _stderrLines = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliProcess(string workingDirectory, string configHome, IReadOnlyDictionary<string, string?>? environment, IEnumerable<string> args, string? cgroupProcs = null)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "cli", "tensorp.dll");
        Assert.True(File.Exists(dll), $"tensorp.dll not found at {dll}; the test project copies it there after build.");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        // In a cgroup: a shell moves itself there, then becomes the tool, so that nothing of the tool runs outside it.
        var info = new ProcessStartInfo(cgroupProcs is null ? host : "/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (cgroupProcs is not null)
        {
            foreach (string arg in (string[])["-c", "echo $$ > \"$1\" && shift && exec \"$@\"", "sh", cgroupProcs, host])
            {
                info.ArgumentList.Add(arg);
            }
        }
        info.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["XDG_CONFIG_HOME"] = configHome;
        info.Environment["NO_COLOR"] = "1";
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            // null removes a variable (for instance NO_COLOR, to see what the tool does without that hint).
            info.Environment[name] = value;
        }
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stdout.Writer.TryComplete();
                _stdoutClosed.TrySetResult();
                return;
            }
            lock (_stdoutLines)
            {
                _stdoutLines.Add(e.Data);
            }
            _stdout.Writer.TryWrite(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stderrClosed.TrySetResult();
                return;
            }
            lock (_stderrLines)
            {
                _stderrLines.Add(e.Data);
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdoutLines)
            {
                return string.Join('\n', _stdoutLines);
            }
        }
    }

    /// <summary>Everything written to stdout and stderr so far.</summary>
    public string AllOutput => Stdout + "\n" + string.Join('\n', StderrLines);

    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_stdoutLines)
            {
                return [.. _stdoutLines];
            }
        }
    }

    public IReadOnlyList<string> StderrLines
    {
        get
        {
            lock (_stderrLines)
            {
                return [.. _stderrLines];
            }
        }
    }

    public static CliProcess Start(TestDirectory directory, params string[] args) => new(directory.Path, directory.ConfigHome, null, args);

    /// <summary>Starts with environment variables set (or, with a null value, removed) on top of the usual ones.</summary>
    public static CliProcess Start(TestDirectory directory, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        new(directory.Path, directory.ConfigHome, environment, args);

    /// <summary>Runs to completion (within <see cref="DefaultTimeout"/>).</summary>
    public static Task<CliProcess> RunAsync(TestDirectory directory, params string[] args) => RunAsync(directory, null, null, args);

    /// <summary>Runs to completion within <paramref name="timeout"/>, with <paramref name="environment"/> as for <see cref="Start(TestDirectory, IReadOnlyDictionary{string, string?}, string[])"/>.</summary>
    public static async Task<CliProcess> RunAsync(TestDirectory directory, IReadOnlyDictionary<string, string?>? environment, TimeSpan? timeout, params string[] args)
    {
        var process = new CliProcess(directory.Path, directory.ConfigHome, environment, args);
        await process.WaitForExitAsync(timeout);
        return process;
    }

    /// <summary>Runs to completion inside the cgroup whose <c>cgroup.procs</c> file is <paramref name="cgroupProcs"/>.</summary>
    public static async Task<CliProcess> RunInCgroupAsync(TestDirectory directory, string cgroupProcs, params string[] args)
    {
        var process = new CliProcess(directory.Path, directory.ConfigHome, null, args, cgroupProcs);
        await process.WaitForExitAsync();
        return process;
    }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    /// <summary>Waits for the next stdout line that satisfies <paramref name="match"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await foreach (string line in _stdout.Reader.ReadAllAsync(cts.Token))
            {
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        throw new TimeoutException($"No matching line on stdout. stdout:\n{Stdout}\nstderr:\n{string.Join('\n', StderrLines)}");
    }

    public async Task<string> WaitForTicketAsync()
    {
        string line = await WaitForLineAsync(l => l.StartsWith("ticket: ", StringComparison.Ordinal));
        return line["ticket: ".Length..];
    }

    public async Task WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tensorp did not exit in time. stdout:\n{Stdout}\nstderr:\n{string.Join('\n', StderrLines)}");
        }
    }

    public void Signal(int signal) => Assert.Equal(0, kill(_process.Id, signal));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }

    public const int SIGINT = 2;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

/// <summary>A fresh working directory (and config home, for the identity key) per test, deleted afterwards.</summary>
internal sealed class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        Path = Directory.CreateTempSubdirectory("tensorp-cli-test-").FullName;
        ConfigHome = System.IO.Path.Combine(Path, "config");
    }

    public string Path { get; }

    public string ConfigHome { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
