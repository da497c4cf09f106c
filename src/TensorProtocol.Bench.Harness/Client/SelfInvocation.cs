using System.Diagnostics;
using System.Reflection;

namespace TensorProtocol.Bench.Client;

/// <summary>
/// How to start the running program again as a harness child: the same executable (the apphost, or <c>dotnet</c>
/// with the entry assembly) and the front end's arguments that select the benchmark in it (see
/// <see cref="BenchOptions.SelfArguments"/>). Process-wide, set once by each entry point of the harness.
/// </summary>
internal static class SelfInvocation
{
    private static IReadOnlyList<string> s_selfArguments = [];

    public static void Configure(IReadOnlyList<string> selfArguments) => s_selfArguments = [.. selfArguments];

    /// <summary>A start description for this program with <paramref name="harnessArguments"/> after the front end's own.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> harnessArguments)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable is running.");
        var startInfo = new ProcessStartInfo(self);
        if (string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // `dotnet program.dll`: the entry assembly is the program, not this library.
            string entry = Assembly.GetEntryAssembly()?.Location
                ?? throw new InvalidOperationException("Cannot tell which assembly 'dotnet' is running.");
            startInfo.ArgumentList.Add(entry);
        }
        foreach (string arg in s_selfArguments.Concat(harnessArguments))
        {
            startInfo.ArgumentList.Add(arg);
        }
        // Every measuring process, whatever its transport, runs fully optimized code from its first call. With tiered
        // compilation a hot method is recompiled only after 100 ms of calls, in the background, so seconds into a run
        // the round-trip loops still ran partly unoptimized code: p50 swung 80-190 µs between runs of the same build
        // and p99 reached 2 ms, against 54-57 µs and ~115 µs this way. Precompiled (ReadyToRun) framework code is
        // compiled afresh too: without tiering it would never be replaced by fully optimized code, which held back
        // the baselines that are mostly framework code (gRPC's 4 KiB p50: ~360 µs with it, ~260 µs without).
        startInfo.Environment["DOTNET_TieredCompilation"] = "0";
        startInfo.Environment["DOTNET_ReadyToRun"] = "0";
        return startInfo;
    }
}
