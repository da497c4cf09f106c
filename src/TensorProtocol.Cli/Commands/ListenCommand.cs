using System.CommandLine;
using System.Diagnostics;
using System.Net;
using TensorProtocol.Formats;

namespace TensorProtocol.Cli.Commands;

/// <summary><c>tensorp listen</c>: runs a node and writes every tensor pushed to it into a directory.</summary>
internal static class ListenCommand
{
    public static Command Create(CommonOptions common)
    {
        Option<FileInfo> key = CommonOptions.KeyOption();
        Option<int> port = CommonOptions.PortOption();
        Option<string> bind = CommonOptions.BindOption();
        Option<string[]> allow = CommonOptions.AllowOption("send to this node");
        var outDir = new Option<DirectoryInfo>("--out", "-o")
        {
            Description = "The directory received tensors are written to (created if missing), one file per tensor. Default: the current directory.",
            HelpName = "DIR",
        };
        var format = new Option<string>("--format")
        {
            Description = "The file format of received tensors. With npy, tensors numpy cannot hold (bfloat16, 8-bit floats) are still written as .safetensors.",
            DefaultValueFactory = _ => "safetensors",
        };
        format.AcceptOnlyFromAmong("safetensors", "npy");
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "Replace an existing file of the same name. Default: existing files are never touched; a tensor whose file name is " +
                "taken is written as NAME.1.safetensors, NAME.2.safetensors, ... (the line printed for each tensor names its file).",
        };
        var command = new Command("listen",
            "Run a node, print 'ticket: <TICKET>' for senders, and write every received tensor to a file of its own (atomically: only complete " +
            "files appear; an existing file is never replaced unless --overwrite is given). Stop with Ctrl-C.")
        {
            key, port, bind, outDir, format, overwrite, allow,
        };
        command.SetAction((parse, cancellationToken) => common.RunAsync(parse, "listen", async loggers =>
        {
            string directory = Directory.CreateDirectory(parse.GetValue(outDir)?.FullName ?? Environment.CurrentDirectory).FullName;
            OutputDirectory.EnsureWritable(directory);
            bool npy = parse.GetValue(format) == "npy";
            var options = new TensorNodeOptions
            {
                IdentityPath = Identity.Resolve(parse.GetValue(key)),
                LocalEndPoint = new IPEndPoint(parse.GetValue(bind) is { } address ? IPAddress.Parse(address) : IPAddress.IPv6Any, parse.GetValue(port)),
                AllowedSenders = CommonOptions.ParseAllowList(parse.GetValue(allow)),
                QueueFullBehavior = QueueFullBehavior.Wait,
                LoggerFactory = loggers,
            };
            TensorNode node = new(options);
            await using (node.ConfigureAwait(false))
            {
                node.Start();
                Output.Ticket(node.Ticket);
                Output.Line($"node {node.NodeId} listening on {node.LocalEndPoint}, writing to {directory}");
                var receiver = new Receiver(directory, npy, parse.GetValue(overwrite));
                try
                {
                    await foreach (ReceivedTensor received in node.ReceiveAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        receiver.Write(received);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
                // Tensors already received in full (acknowledged to their senders) are written before exiting; nothing
                // partial ever is. The node stops queueing first (later pushes are answered ShuttingDown): draining while
                // it still queued took every push that kept arriving, so a peer that kept sending kept listen from ever
                // stopping.
                node.StopReceiving();
                await foreach (ReceivedTensor received in node.ReceiveAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    receiver.Write(received);
                }
                await node.ShutdownAsync().ConfigureAwait(false);
                Output.Line($"stopped after {receiver.Count} tensor{(receiver.Count == 1 ? "" : "s")} ({Output.Size(receiver.Bytes)})");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private sealed class Receiver(string directory, bool npy, bool overwrite)
    {
        private long _last = Stopwatch.GetTimestamp();

        public int Count { get; private set; }

        public long Bytes { get; private set; }

        public void Write(ReceivedTensor received)
        {
            // Rate: the tensor's size over the time since the previous one arrived (or since listening began).
            long now = Stopwatch.GetTimestamp();
            TimeSpan interval = Stopwatch.GetElapsedTime(_last, now);
            _last = now;
            using TensorData tensor = received.Data; // written out, then its memory goes back at once
            string stem = FileNames.Sanitize(received.Name);
            // A tensor .npy cannot hold (bfloat16, 8-bit floats) is still kept: as safetensors, and said so.
            bool asNpy = npy && NpyWriter.Supports(tensor.DType);
            if (npy && !asNpy)
            {
                Console.Error.WriteLine($"tensorp: note: '{Printable.Text(received.Name)}' is {tensor.DType}, which .npy cannot hold: written as .safetensors");
            }
            string extension = asNpy ? ".npy" : ".safetensors";
            string path;
            try
            {
                path = NewFile.Write(directory, stem, extension, overwrite, stream =>
                {
                    if (asNpy)
                    {
                        NpyWriter.Write(stream, tensor);
                    }
                    else
                    {
                        List<KeyValuePair<string, TensorData>> entry = [new(received.Name, tensor)];
                        SafetensorsWriter.Write(stream, entry, SafetensorsNames.StoreReserved(entry));
                    }
                });
            }
#pragma warning disable CA1031 // One tensor that cannot be written must not stop the listener; say so and go on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                (_, string message) = ErrorReporter.Classify(e, $"writing '{received.Name}' to {Path.Combine(directory, stem + extension)}");
                Console.Error.WriteLine($"tensorp: warning: {ErrorReporter.OneLine(message)}");
                return;
            }
            Count++;
            Bytes += tensor.Metadata.ByteLength;
            Output.Line(
                $"received {received.Name} {tensor.DType.Name} {Output.Shape(tensor)} {Output.Size(tensor.Metadata.ByteLength)} from {received.Sender} ({Output.Rate(tensor.Metadata.ByteLength, interval)}) -> {Path.GetFileName(path)}");
        }
    }
}
