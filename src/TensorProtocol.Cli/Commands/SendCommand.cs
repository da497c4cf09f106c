using System.CommandLine;
using System.Diagnostics;

namespace TensorProtocol.Cli.Commands;

/// <summary><c>tensorp send</c>: pushes every tensor of the given files to a listening node.</summary>
internal static class SendCommand
{
    public static Command Create(CommonOptions common)
    {
        var ticket = new Argument<string>("TICKET") { Description = "The receiver's ticket, as printed by 'tensorp listen'." };
        var files = new Argument<FileInfo[]>("FILE")
        {
            Description = "Files to send: .safetensors (every tensor, or the --select ones), .npy (named after the file), or raw bytes with --dtype and --shape.",
            Arity = ArgumentArity.OneOrMore,
        };
        var name = new Option<string>("--name") { Description = "The name to send the tensor under (only when exactly one tensor is sent)." };
        var select = new Option<string[]>("--select")
        {
            Description = "Send only these tensors of the .safetensors files (repeat the option for several).",
            HelpName = "NAME",
            Arity = ArgumentArity.OneOrMore,
        };
        var dtype = new Option<string>("--dtype") { Description = "The element type of raw files (F32, float16, bf16, int64, ...)." };
        var shape = new Option<string>("--shape") { Description = "The shape of raw files, comma-separated (e.g. 2,3; empty for a scalar)." };
        Option<FileInfo> key = CommonOptions.KeyOption();
        Option<double> timeout = CommonOptions.TimeoutOption();
        var command = new Command("send",
            "Send tensors to a listening node. Every tensor is tried even when one fails, and each failure is one line on stderr; the rest are " +
            "given up only when the peer itself is the problem (it refuses this node, is shutting down, or cannot be reached on the first " +
            "tensor or twice in a row). Exit code: 0 when the receiver acknowledged every tensor, otherwise the code of the first failure.")
        {
            ticket, files, name, select, dtype, shape, key, timeout,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "send", async loggers =>
        {
            NodeTicket target = NodeFactory.ParseTicket(parse.GetValue(ticket)!);
            TensorSources.RawLayout? raw = RawLayout(parse.GetValue(dtype), parse.GetValue(shape));
            using TensorSources sources = TensorSources.Open(parse.GetValue(files)!, parse.GetValue(select) ?? [], raw);
            List<(string Name, TensorData Tensor)> tensors = sources.Tensors;
            if (parse.GetValue(name) is { } rename)
            {
                CommonOptions.ValidateName(rename);
                if (tensors.Count != 1)
                {
                    throw CliException.Usage($"--name needs exactly one tensor to send, but the inputs hold {tensors.Count}; use --select to pick one.");
                }
                tensors[0] = (rename, tensors[0].Tensor);
            }
            if (tensors.Count == 0)
            {
                throw CliException.File("the input files hold no tensors; there is nothing to send.");
            }
            TensorNode node = NodeFactory.StartClient(target, parse.GetValue(key), parse.GetValue(timeout), loggers);
            await using (node.ConfigureAwait(false))
            {
                int verbosity = common.Verbosity(parse);
                bool live = TransferView.IsLive(verbosity);
                var batch = new SendBatch(node, target, verbosity, cancellationToken) { DeferFailures = live };
                long start = Stopwatch.GetTimestamp();
                try
                {
                    await TransferView.RunAsync(live, view => SendAllAsync(batch, view, tensors)).ConfigureAwait(false);
                }
                finally
                {
                    batch.FlushFailures();
                }
                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                string sent = batch.Failed == 0
                    ? $"sent {tensors.Count} tensor{(tensors.Count == 1 ? "" : "s")}"
                    : $"sent {batch.Sent} of {tensors.Count} tensors";
                Output.Line($"{sent} ({Output.Size(batch.SentBytes)}) in {Output.Duration(elapsed)} ({Output.Rate(batch.SentBytes, elapsed)})" +
                    (batch.Failed == 0 ? "" : $"; {batch.Failed} failed, {tensors.Count - batch.Sent - batch.Failed} not tried"));
                return batch.ExitCode;
            }
        }));
        return command;
    }

    private static TensorSources.RawLayout? RawLayout(string? dtype, string? shape)
    {
        if (dtype is null && shape is null)
        {
            return null;
        }
        if (dtype is null || shape is null)
        {
            throw CliException.Usage("raw files need both --dtype and --shape.");
        }
        if (!DType.TryParse(dtype, out DType? parsed))
        {
            throw CliException.Usage($"--dtype '{dtype}' is not a known element type; try F32, F16, BF16, I64, U8, BOOL, ...");
        }
        long[] dimensions = TensorSources.ParseShape(shape);
        try
        {
            _ = new TensorMetadata(parsed, dimensions);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw CliException.Usage($"--shape '{shape}' with --dtype {parsed} describes more than {long.MaxValue} bytes.");
        }
        return new TensorSources.RawLayout(parsed, dimensions);
    }

    private static async Task SendAllAsync(SendBatch batch, TransferView view, List<(string Name, TensorData Tensor)> tensors)
    {
        for (int i = 0; i < tensors.Count; i++)
        {
            (string name, TensorData tensor) = tensors[i];
            Transfer transfer = view.Begin(TransferVerb.Send, name, tensor);
            long start = Stopwatch.GetTimestamp();
            bool acknowledged, next;
            try
            {
                (acknowledged, next) = await batch.TryAsync(name, tensor, transfer, tensors.Count - i - 1).ConfigureAwait(false);
            }
            catch
            {
                transfer.Failed(); // interrupted
                throw;
            }
            if (acknowledged)
            {
                transfer.Succeeded(tensor, Stopwatch.GetElapsedTime(start));
            }
            else
            {
                // The failure itself is one line on stderr (after the live display, if there is one).
                transfer.Failed();
            }
            if (!next)
            {
                break;
            }
        }
    }
}
