using System.Diagnostics;

namespace TensorProtocol.Tests.Formats;

/// <summary>
/// Runs a script with Debian's /usr/bin/python3 (not whichever python3 is first on PATH), whose numpy and torch come
/// from python3-numpy and python3-torch. A missing interpreter or module fails the test with the fix, never skips it:
/// scripts/bootstrap installs them.
/// </summary>
internal static class DebianPython
{
    public const string Executable = "/usr/bin/python3";

    private const int MissingModule = 77;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Runs <paramref name="script"/> in <paramref name="directory"/> after importing <paramref name="modules"/> and
    /// the <paramref name="prelude"/> definitions; returns its stdout. Fails on a non-zero exit with stderr.
    /// </summary>
    public static string Run(string directory, string[] modules, string prelude, string script)
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: run scripts/bootstrap (it installs python3, python3-numpy and python3-torch).");
        string imports = string.Join('\n', modules.Select(m => $"""
            try:
                import {m}
            except ImportError:
                print('{m}', file=sys.stderr)
                sys.exit({MissingModule})
            """));
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-");
        using Process process = Process.Start(start)!;
        process.StandardInput.Write($"import sys\n{imports}\n{prelude}\n{script}");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill();
            Assert.Fail($"python did not finish within {s_timeout.TotalSeconds:0} s.");
        }
        Assert.False(process.ExitCode == MissingModule,
            $"python module '{error.Result.Trim()}' is not installed for {Executable}: run scripts/bootstrap (it installs python3-{error.Result.Trim()}).");
        Assert.True(process.ExitCode == 0, $"python failed with exit code {process.ExitCode}:\n{error.Result}{output.Result}");
        return output.Result;
    }
}
