namespace TensorProtocol.Bench;

/// <summary>
/// The option names every front end (the bench executable, <c>tensorp bench</c>) accepts. The hidden ones are how
/// the harness starts its own child processes: it re-executes the running program with the front end's
/// <see cref="BenchOptions.SelfArguments"/>, then <see cref="Child"/> ROLE, <see cref="Transport"/> NAME,
/// <see cref="Port"/> N and the run's <see cref="Quick"/>/<see cref="Size"/> options.
/// </summary>
public static class BenchArguments
{
    /// <summary>Smaller runs (256 MiB largest push, fewer round trips and connects).</summary>
    public const string Quick = "--quick";

    /// <summary>Also write the results as JSON to the file that follows.</summary>
    public const string Json = "--json";

    /// <summary>Measure only this target; repeatable.</summary>
    public const string Transport = "--transport";

    /// <summary>A bulk push size (see <see cref="BenchSizes"/>); repeatable; replaces the default sizes.</summary>
    public const string Size = "--size";

    /// <summary>Measure every target this many times, interleaved, and report medians (default 1).</summary>
    public const string Rounds = "--rounds";

    /// <summary>Hidden: run as the harness's <see cref="ClientRole"/> or <see cref="ServerRole"/> child process.</summary>
    public const string Child = "--child";

    /// <summary>Hidden: the port a server child listens on (0: any free one).</summary>
    public const string Port = "--port";

    /// <summary>The child that measures one target, starting its own server child.</summary>
    public const string ClientRole = "client";

    /// <summary>The child that serves one target on 127.0.0.1.</summary>
    public const string ServerRole = "server";
}
