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
            if (wanted.Distinct(StringComparer.Ordinal).Count() != wanted.Length)
            {
                throw CliException.Usage("a tensor name is given twice.");
            }
            bool npy = file.Extension.Equals(".npy", StringComparison.OrdinalIgnoreCase);
            if (npy && wanted.Length != 1)
            {
                throw CliException.Usage($"a .npy file holds one tensor, but {wanted.Length} names were given; write a .safetensors file instead.");
            }
            if (file.Directory is { Exists: false } directory)
            {
                throw CliException.File($"the output directory '{directory.FullName}' does not exist.");
            }
            var pulled = new List<KeyValuePair<string, TensorData>>(wanted.Length);
            TensorNode node = NodeFactory.StartClient(source, parse.GetValue(key), parse.GetValue(timeout), loggers);
            await using (node.ConfigureAwait(false))
            {
                foreach (string name in wanted)
                {
                    long start = Stopwatch.GetTimestamp();
                    TensorData tensor;
                    try
                    {
                        tensor = await node.RequestAsync(source, name, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TensorProtocolException e)
                    {
                        throw new TensorProtocolException(e.Kind, $"tensor '{name}': {e.Message}", e);
                    }
                    TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                    long size = tensor.Metadata.ByteLength;
                    Output.Line($"pulled {name} {tensor.DType.Name} {Output.Shape(tensor)} {Output.Size(size)} in {Output.Duration(elapsed)} ({Output.Rate(size, elapsed)})");
                    pulled.Add(new(name, tensor));
                }
            }
            // Atomic: the file appears complete, or not at all.
            if (npy)
            {
                NpyWriter.Write(file.FullName, pulled[0].Value);
            }
            else
            {
                SafetensorsWriter.Write(file.FullName, pulled);
            }
            Output.Line($"wrote {file.FullName}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
