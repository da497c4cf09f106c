using System.CommandLine;
using TensorProtocol.Quic;

namespace TensorProtocol.Cli.Commands;

/// <summary><c>tensorp id</c>: creates the identity key if missing and prints the node id.</summary>
internal static class IdCommand
{
    public static Command Create(CommonOptions common)
    {
        Option<FileInfo> key = CommonOptions.KeyOption();
        var command = new Command("id", "Create the identity key if missing (mode 0600), and print this node's id (what peers pass to --allow).")
        {
            key,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "id", _ =>
        {
            string path = Identity.Resolve(parse.GetValue(key));
            bool existed = File.Exists(path);
            using QuicIdentity identity = QuicIdentity.LoadOrCreate(path);
            Output.Line(new NodeId(identity.PublicKey).ToString());
            if (!existed)
            {
                Console.Error.WriteLine($"tensorp: created a new identity key at {path}");
            }
            else if (common.Verbosity(parse) > 0)
            {
                Console.Error.WriteLine($"tensorp: identity key {path}");
            }
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
