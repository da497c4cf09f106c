using TensorProtocol.Bench.Client;
using TensorProtocol.Bench.Targets;

namespace TensorProtocol.Bench;

/// <summary>
/// The loopback benchmark, for any front end: <see cref="RunAsync"/> measures each target in a client child process
/// that starts its own server child, both this same program re-executed with <see cref="BenchArguments.Child"/>;
/// the front end hands those invocations to <see cref="RunChildAsync"/>.
/// </summary>
public static class BenchHarness
{
    /// <summary>Every target, in report order: the stream transports, the tensor node, then the gRPC baselines.</summary>
    public static IReadOnlyList<string> TargetNames { get; } = [.. TargetRegistry.All.Select(t => t.Name)];

    /// <summary>Whether <paramref name="name"/> is one of <see cref="TargetNames"/> (case-insensitive).</summary>
    public static bool IsTarget(string name) => TargetRegistry.Find(name) is not null;

    /// <summary>
    /// Measures the targets of <paramref name="options"/>, one after the other. Progress and each child's
    /// diagnostics go to stderr. A target that fails is listed in <see cref="BenchReport.FailedTransports"/>.
    /// </summary>
    public static Task<BenchReport> RunAsync(BenchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        SelfInvocation.Configure(options.SelfArguments);
        IReadOnlyList<IBenchTarget> targets = options.Transports.Count == 0
            ? TargetRegistry.All
            : [.. options.Transports.Select(Find).Distinct()];
        return Driver.RunAsync(targets, RunSettings.For(options.Quick, options.Sizes), options.Rounds, cancellationToken);
    }

    /// <summary>
    /// The work of a child process the harness started: <paramref name="role"/> is <see cref="BenchArguments.ClientRole"/>
    /// (measure <paramref name="transport"/> and print its result) or <see cref="BenchArguments.ServerRole"/> (serve it
    /// on 127.0.0.1:<paramref name="port"/>). Its stdin and stdout belong to the parent. Returns the exit code.
    /// </summary>
    public static Task<int> RunChildAsync(BenchOptions options, string role, string transport, int port)
    {
        ArgumentNullException.ThrowIfNull(options);
        SelfInvocation.Configure(options.SelfArguments);
        IBenchTarget target = Find(transport);
        RunSettings settings = RunSettings.For(options.Quick, options.Sizes);
        return role switch
        {
            BenchArguments.ClientRole => ClientMode.RunAsync(target, settings),
            BenchArguments.ServerRole => target.RunServerAsync(port, settings),
            _ => throw new ArgumentException($"Unknown child role '{role}'.", nameof(role)),
        };
    }

    private static IBenchTarget Find(string name) =>
        TargetRegistry.Find(name) ?? throw new ArgumentException($"Unknown transport '{name}'; one of: {string.Join(", ", TargetNames)}.", nameof(name));
}
