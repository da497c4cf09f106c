using System.CommandLine;
using System.Net;

namespace TensorProtocol.Cli.Commands;

/// <summary><c>tensorp serve</c>: registers the tensors of files for peers to pull.</summary>
internal static class ServeCommand
{
    public static Command Create(CommonOptions common)
    {
        var files = new Argument<FileInfo[]>("FILE")
        {
            Description = "Files whose tensors to serve: .safetensors (every tensor, by its name) or .npy (named after the file).",
            Arity = ArgumentArity.OneOrMore,
        };
        Option<FileInfo> key = CommonOptions.KeyOption();
        Option<int> port = CommonOptions.PortOption();
        Option<string> bind = CommonOptions.BindOption();
        Option<string[]> allow = CommonOptions.AllowOption("pull from this node");
        var map = new Option<bool>("--map")
        {
            Description = "Serve the tensors straight from the mapped files instead of loading them into memory at start (no copy, " +
                "for files larger than the memory to spare). Only for files nobody rewrites while they are served: cp over one, " +
                "torch.save or save_file to the same path rewrites it in place, and a mapped file that shrinks ends this process " +
                "at the next pull of its tensors.",
        };
        // The default since loading became it; kept so that scripts written for the earlier default still run.
        var copy = new Option<bool>("--copy") { Hidden = true };
        var command = new Command("serve", "Serve the tensors of files for 'tensorp pull', print 'ticket: <TICKET>', and run until Ctrl-C. " +
            "The tensors are loaded into memory at start, so rewriting a file later does not change what is served.")
        {
            files, key, port, bind, allow, map, copy,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "serve", async loggers =>
        {
            bool mapped = parse.GetValue(map);
            if (mapped && parse.GetValue(copy))
            {
                throw CliException.Usage("--map and --copy contradict each other: --map serves from the files, --copy (the default) loads them.");
            }
            using TensorSources sources = TensorSources.Open(parse.GetValue(files)!, [], raw: null);
            // Registering replaces: a second tensor of the same name would silently hide the first from every pull.
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach ((string name, _) in sources.Tensors)
            {
                if (!names.Add(name))
                {
                    throw CliException.File($"two tensors in the input files are named '{name}'; a pull could reach only one of them. Serve the files separately.");
                }
            }
            if (!mapped)
            {
                EnsureMemoryFor(sources.TotalBytes);
                sources.LoadIntoMemory(cancellationToken);
            }
            var options = new TensorNodeOptions
            {
                IdentityPath = Identity.Resolve(parse.GetValue(key)),
                LocalEndPoint = new IPEndPoint(parse.GetValue(bind) is { } address ? IPAddress.Parse(address) : IPAddress.IPv6Any, parse.GetValue(port)),
                AllowedPullers = CommonOptions.ParseAllowList(parse.GetValue(allow)),
                // Nothing here ever takes a pushed tensor: refuse every push (an empty set allows nobody), or each one
                // would be acknowledged and then held in memory until serve stops.
                AllowedSenders = new HashSet<NodeId>(),
                LoggerFactory = loggers,
            };
            TensorNode node = new(options);
            await using (node.ConfigureAwait(false))
            {
                node.Start();
                foreach ((string name, TensorData tensor) in sources.Tensors)
                {
                    try
                    {
                        node.Register(name, tensor);
                    }
                    catch (ArgumentException e)
                    {
                        // The file readers allow more (64 dimensions, longer names) than the protocol carries.
                        throw CliException.File($"'{name}' cannot be served: {e.Message}", e);
                    }
                }
                Output.Ticket(node.Ticket);
                Output.Line($"node {node.NodeId} serving {sources.Tensors.Count} tensors on {node.LocalEndPoint}");
                if (mapped)
                {
                    Console.Error.WriteLine("tensorp: note: the tensors are served from the mapped files (--map); rewriting a file in place while it is served ends this process");
                }
                Output.Tensors("serving", sources.Tensors);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
                // Shut down before the file mappings are released (the using above ends after this block).
                await node.ShutdownAsync().ConfigureAwait(false);
            }
            Output.Line("stopped");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// Refuses to load more than the process has room for (MemoryRoom: MemAvailable, or a container's memory cgroup):
    /// the allocation itself would likely succeed (the kernel overcommits) and the process be killed while copying,
    /// with no word of why.
    /// </summary>
    private static void EnsureMemoryFor(long bytes)
    {
        long? available = MemoryRoom.Available();
        if (available is { } free && bytes > free)
        {
            throw CliException.File(
                $"loading the tensors needs {TransferText.Size(bytes)} of memory but {TransferText.Size(free)} is available; " +
                "pass --map to serve them from the files instead (then nobody may rewrite a file while it is served).");
        }
    }
}
