using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;

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
        var command = new Command("send", "Send tensors to a listening node; exits 0 only when the receiver acknowledged every tensor.")
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
                long start = Stopwatch.GetTimestamp();
                long total = tensors.Sum(t => t.Tensor.Metadata.ByteLength);
                if (Output.IsTerminal)
                {
                    await SendWithProgressAsync(node, target, tensors, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    foreach ((string tensorName, TensorData tensor) in tensors)
                    {
                        await SendOneAsync(node, target, tensorName, tensor, cancellationToken).ConfigureAwait(false);
                    }
                }
                TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
                Output.Line($"sent {tensors.Count} tensor{(tensors.Count == 1 ? "" : "s")} ({Output.Size(total)}) in {Output.Duration(elapsed)} ({Output.Rate(total, elapsed)})");
            }
            return ExitCodes.Ok;
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
        return new TensorSources.RawLayout(parsed, TensorSources.ParseShape(shape));
    }

    private static async Task SendOneAsync(TensorNode node, NodeTicket target, string name, TensorData tensor, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        await SendAsync(node, target, name, tensor, cancellationToken).ConfigureAwait(false);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        long size = tensor.Metadata.ByteLength;
        Output.Line($"sent {name} {tensor.DType.Name} {Output.Shape(tensor)} {Output.Size(size)} in {Output.Duration(elapsed)} ({Output.Rate(size, elapsed)})");
    }

    private static Task SendWithProgressAsync(TensorNode node, NodeTicket target, List<(string Name, TensorData Tensor)> tensors, CancellationToken cancellationToken) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                foreach ((string name, TensorData tensor) in tensors)
                {
                    long size = tensor.Metadata.ByteLength;
                    ProgressTask task = context.AddTask(Markup.Escape($"{name} {tensor.DType.Name}{Output.Shape(tensor)} {Output.Size(size)}"), maxValue: Math.Max(size, 1));
                    task.IsIndeterminate = true;
                    task.StartTask();
                    await SendAsync(node, target, name, tensor, cancellationToken).ConfigureAwait(false);
                    task.IsIndeterminate = false;
                    task.Value = task.MaxValue;
                    task.StopTask();
                }
            });

    private static async Task SendAsync(TensorNode node, NodeTicket target, string name, TensorData tensor, CancellationToken cancellationToken)
    {
        try
        {
            await node.SendAsync(target, name, tensor, cancellationToken).ConfigureAwait(false);
        }
        catch (TensorProtocolException e)
        {
            throw new TensorProtocolException(e.Kind, $"tensor '{name}': {e.Message}", e);
        }
    }
}
