using System.CommandLine;
using System.CommandLine.Help;
using System.Runtime.InteropServices;
using TensorProtocol.Cli;
using TensorProtocol.Cli.Commands;

var common = new CommonOptions();
var root = new RootCommand("tensorp: send, receive, serve and pull tensors between nodes over authenticated QUIC.");
root.Options.Add(common.Verbose);
root.Options.Add(common.VeryVerbose);
root.Subcommands.Add(DemoCommand.Create(common));
root.Subcommands.Add(IdCommand.Create(common));
root.Subcommands.Add(ListenCommand.Create(common));
root.Subcommands.Add(SendCommand.Create(common));
root.Subcommands.Add(ServeCommand.Create(common));
root.Subcommands.Add(PullCommand.Create(common));
root.Subcommands.Add(BenchCommand.Create(common));

ParseResult parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
{
    // Usage errors: one line each, and where to find help; never the whole help text.
    string command = parse.CommandResult.Command == root ? "tensorp" : $"tensorp {parse.CommandResult.Command.Name}";
    foreach (System.CommandLine.Parsing.ParseError error in parse.Errors)
    {
        Console.Error.WriteLine($"tensorp: error: {error.Message.ReplaceLineEndings(" ")} Run '{command} --help' for usage.");
    }
    return ExitCodes.Usage;
}

// SIGINT and SIGTERM cancel the running command, which shuts down cleanly; a second signal terminates at once.
using var stop = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    if (!stop.IsCancellationRequested)
    {
        context.Cancel = true;
        stop.Cancel();
    }
}
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
return await parse.InvokeAsync(invocation, stop.Token).ConfigureAwait(false);
