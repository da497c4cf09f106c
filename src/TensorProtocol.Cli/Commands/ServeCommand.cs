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
        var copy = new Option<bool>("--copy")
        {
            Description = "Load the tensors into memory at start instead of serving them from the mapped files. Use it when a file " +
                "may be rewritten in place while served (cp over it, torch.save or save_file to the same path): a mapped file that " +
                "shrinks ends this process at the next pull of its tensors.",
        };
        var command = new Command("serve", "Serve the tensors of files for 'tensorp pull', print 'ticket: <TICKET>', and run until Ctrl-C.")
        {
            files, key, port, bind, allow, copy,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "serve", async loggers =>
        {
            using TensorSources sources = TensorSources.Open(parse.GetValue(files)!, [], raw: null);
            bool copied = parse.GetValue(copy);
            if (copied)
            {
                sources.CopyIntoMemory();
            }
            var options = new TensorNodeOptions
            {
                IdentityPath = Identity.Resolve(parse.GetValue(key)),
                LocalEndPoint = new IPEndPoint(parse.GetValue(bind) is { } address ? IPAddress.Parse(address) : IPAddress.IPv6Any, parse.GetValue(port)),
                AllowedPullers = CommonOptions.ParseAllowList(parse.GetValue(allow)),
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
                if (!copied)
                {
                    Console.Error.WriteLine("tensorp: note: the tensors are served from the mapped files; rewriting a file in place while it is served ends this process (--copy loads them into memory instead)");
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
}
