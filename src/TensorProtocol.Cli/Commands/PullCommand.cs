using System.CommandLine;
using System.Diagnostics;
using TensorProtocol.Formats;

namespace TensorProtocol.Cli.Commands;

/// <summary><c>tensorp pull</c>: fetches named tensors from a serving node into one file.</summary>
internal static class PullCommand
{
    public static Command Create(CommonOptions common)
    {
        var ticket = new Argument<string>("TICKET") { Description = "The server's ticket, as printed by 'tensorp serve'." };
        var names = new Argument<string[]>("NAME") { Description = "Names of the tensors to pull.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<FileInfo>("--output", "-o")
        {
            Description = "The file to write: .safetensors (any number of tensors), or .npy for exactly one. Written only when every tensor arrived.",
            HelpName = "FILE",
            Required = true,
        };
        Option<FileInfo> key = CommonOptions.KeyOption();
        Option<double> timeout = CommonOptions.TimeoutOption();
        var command = new Command("pull", "Pull named tensors from a serving node into a .safetensors (or .npy) file.")
        {
            ticket, names, output, key, timeout,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "pull", async loggers =>
        {
            NodeTicket source = NodeFactory.ParseTicket(parse.GetValue(ticket)!);
            string[] wanted = parse.GetValue(names)!;
            FileInfo file = parse.GetValue(output)!;
            foreach (string name in wanted)
            {
                CommonOptions.ValidateName(name);
            }
            if (wanted.Distinct(StringComparer.Ordinal).Count() != wanted.Length)
            {
                throw CliException.Usage("a tensor name is given twice.");
            }
            bool npy = file.Extension.Equals(".npy", StringComparison.OrdinalIgnoreCase);
            if (npy && wanted.Length != 1)
            {
                throw CliException.Usage($"a .npy file holds one tensor, but {wanted.Length} names were given; write a .safetensors file instead.");
            }
            if (Directory.Exists(file.FullName) || file.Name.Length == 0)
            {
                throw CliException.File($"'{file.FullName}' is a directory; -o names the file to write (e.g. {Path.Combine(file.FullName, "out.safetensors")}).");
            }
            if (file.Directory is { Exists: false } directory)
            {
                throw CliException.File($"the output directory '{directory.FullName}' does not exist.");
            }
            OutputDirectory.EnsureWritable(file.DirectoryName!);
            var pulled = new List<KeyValuePair<string, TensorData>>(wanted.Length);
            TensorNode node = NodeFactory.StartClient(source, parse.GetValue(key), parse.GetValue(timeout), loggers);
            await using (node.ConfigureAwait(false))
            {
                bool live = TransferView.IsLive(common.Verbosity(parse));
                await TransferView.RunAsync(live, async view =>
                {
                    foreach (string name in wanted)
                    {
                        pulled.Add(new(name, await PullAsync(node, source, name, view, cancellationToken).ConfigureAwait(false)));
                    }
                }).ConfigureAwait(false);
            }
            // Atomic: the file appears complete, or not at all.
            if (npy)
            {
                TensorData tensor = pulled[0].Value;
                if (!NpyWriter.Supports(tensor.DType))
                {
                    throw CliException.File(
                        $"'{pulled[0].Key}' is {tensor.DType}, which numpy (and so a .npy file) cannot hold; pull it into a .safetensors file.");
                }
                NpyWriter.Write(file.FullName, tensor);
            }
            else
            {
                SafetensorsWriter.Write(file.FullName, pulled, SafetensorsNames.StoreReserved(pulled));
            }
            Output.Line($"wrote {file.FullName}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task<TensorData> PullAsync(TensorNode node, NodeTicket source, string name, TransferView view, CancellationToken cancellationToken)
    {
        Transfer transfer = view.Begin(TransferVerb.Pull, name);
        long start = Stopwatch.GetTimestamp();
        TensorData tensor;
        try
        {
            tensor = await node.RequestAsync(source, name, transfer, cancellationToken).ConfigureAwait(false);
        }
        catch (TensorProtocolException e)
        {
            transfer.Failed();
            throw new TensorProtocolException(e.Kind, $"tensor '{name}': {e.Message}", e);
        }
        catch
        {
            transfer.Failed();
            throw;
        }
        transfer.Succeeded(tensor, Stopwatch.GetElapsedTime(start));
        return tensor;
    }
}
