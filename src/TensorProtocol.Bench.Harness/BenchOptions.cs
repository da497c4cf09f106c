namespace TensorProtocol.Bench;

/// <summary>What a benchmark run measures, and how the harness re-executes the program for its child processes.</summary>
public sealed record BenchOptions
{
    /// <summary>Every target, the full sizes, and a program whose arguments are the harness's own.</summary>
    public static BenchOptions Default { get; } = new();

    /// <summary>Smaller runs: a 256 MiB largest push, fewer round trips and cold connects.</summary>
    public bool Quick { get; init; }

    /// <summary>The targets to measure, in this order; empty for all of <see cref="BenchHarness.TargetNames"/>.</summary>
    public IReadOnlyList<string> Transports { get; init; } = [];

    /// <summary>
    /// How many times to measure every target, interleaved (all targets, then all again): the report then gives each
    /// figure's median and each target's median ratio. 1 (the default) measures each once.
    /// </summary>
    public int Rounds { get; init; } = 1;

    /// <summary>The bulk push sizes in bytes; empty for the defaults (1 MiB, 64 MiB and 1 GiB, or 64 and 256 MiB with <see cref="Quick"/>).</summary>
    public IReadOnlyList<long> Sizes { get; init; } = [];

    /// <summary>
    /// The arguments that select the benchmark in the running program, put before the harness's own when it starts
    /// a child process of itself: empty for a program that is only the benchmark, <c>["bench"]</c> for
    /// <c>tensorp</c>. The children then run <see cref="BenchHarness.RunChildAsync"/>.
    /// </summary>
    public IReadOnlyList<string> SelfArguments { get; init; } = [];
}
