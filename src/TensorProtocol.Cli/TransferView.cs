using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace TensorProtocol.Cli;

/// <summary>How a transfer direction is written: <c>sending</c>/<c>sent</c>, <c>pulling</c>/<c>pulled</c>.</summary>
internal sealed record TransferVerb(string Ongoing, string Done)
{
    public static TransferVerb Send { get; } = new("sending", "sent");

    public static TransferVerb Pull { get; } = new("pulling", "pulled");
}

/// <summary>One tensor's transfer as shown: told the node's progress reports, then the outcome.</summary>
internal abstract class Transfer : IProgress<TransferProgress>
{
    public abstract void Report(TransferProgress value);

    /// <summary>Every byte arrived (and, for a push, was acknowledged) in <paramref name="elapsed"/>.</summary>
    public abstract void Succeeded(TensorData tensor, TimeSpan elapsed);

    /// <summary>The transfer failed or was interrupted; the error itself is reported elsewhere.</summary>
    public abstract void Failed();
}

/// <summary>
/// How send and pull show their transfers. On a terminal: a live display with a bar per tensor (bytes, rate, ETA) and
/// a ✓ or ✗ once it ends. Otherwise, and with -v/-vv (whose log lines on stderr would tear a live display): plain
/// lines, one per tensor when it ends, plus a progress line every few seconds for a transfer that lasts.
/// </summary>
internal abstract class TransferView
{
    /// <summary>
    /// A test hook, not a user setting: milliseconds before the first plain progress line and between two (instead of
    /// <see cref="PlainDelay"/> and <see cref="PlainPeriod"/>); the node then reports at least that often too, so a
    /// short transfer on loopback shows its lines.
    /// </summary>
    public const string IntervalVariable = "TENSORP_PROGRESS_INTERVAL_MS";

    /// <summary>No plain progress line for a transfer done within this: fast transfers print what they always did.</summary>
    public static readonly TimeSpan PlainDelay = TimeSpan.FromSeconds(2);

    /// <summary>The least time between two plain progress lines of one transfer.</summary>
    public static readonly TimeSpan PlainPeriod = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan? s_intervalOverride = ReadIntervalOverride();

    /// <summary>Whether transfers show as a live display rather than plain lines.</summary>
    public static bool IsLive(int verbosity) => Output.IsTerminal && verbosity == 0;

    /// <summary>The node's <see cref="TensorNodeOptions.ProgressInterval"/>: its default unless the test hook asks for less.</summary>
    public static TimeSpan NodeProgressInterval(TimeSpan defaultInterval) =>
        s_intervalOverride is { } interval && interval < defaultInterval ? interval : defaultInterval;

    /// <summary>Runs <paramref name="body"/> with the view: inside a live display that ends with it, or plain lines.</summary>
    public static Task RunAsync(bool live, Func<TransferView, Task> body)
    {
        if (!live)
        {
            return body(new PlainView());
        }
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new TransferColumn())
            .StartAsync(async context =>
            {
                try
                {
                    await body(new LiveView(context)).ConfigureAwait(false);
                }
                finally
                {
                    // Spectre draws the last frame only when the body succeeds; a failure must show its ✗ too.
                    context.Refresh();
                }
            });
    }

    /// <summary>A transfer begins; <paramref name="tensor"/> is what is sent, null for a pull (not known yet).</summary>
    public abstract Transfer Begin(TransferVerb verb, string name, TensorData? tensor = null);

    private static string Label(string name, TensorData? tensor) =>
        Printable.Text(tensor is null ? name : $"{name} {tensor.DType.Name} {Output.Shape(tensor)}");

    private static TimeSpan? ReadIntervalOverride() =>
        int.TryParse(Environment.GetEnvironmentVariable(IntervalVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int milliseconds)
            ? TimeSpan.FromMilliseconds(milliseconds)
            : null;

    private sealed class PlainView : TransferView
    {
        public override Transfer Begin(TransferVerb verb, string name, TensorData? tensor = null) => new PlainTransfer(verb, name);
    }

    private sealed class PlainTransfer(TransferVerb verb, string name) : Transfer
    {
        private readonly ProgressLines _lines = new(verb.Ongoing, name,
            s_intervalOverride ?? PlainDelay, s_intervalOverride ?? PlainPeriod, Output.Line);

        public override void Report(TransferProgress value) => _lines.Report(value);

        public override void Succeeded(TensorData tensor, TimeSpan elapsed)
        {
            long size = tensor.Metadata.ByteLength;
            Output.Line($"{verb.Done} {Label(name, tensor)} {Output.Size(size)} in {Output.Duration(elapsed)} ({Output.Rate(size, elapsed)})");
        }

        public override void Failed()
        {
        }
    }

    private sealed class LiveView(ProgressContext context) : TransferView
    {
        public override Transfer Begin(TransferVerb verb, string name, TensorData? tensor = null) => new LiveTransfer(context, name, tensor);
    }

    /// <summary>A bar of the live display. Reports come from the thread pool; Spectre's task takes them under its lock.</summary>
    private sealed class LiveTransfer : Transfer
    {
        private readonly ProgressTask _task;
        private readonly string _name;

        public LiveTransfer(ProgressContext context, string name, TensorData? tensor)
        {
            _name = name;
            _task = context.AddTask(Markup.Escape(Label(name, tensor)), maxValue: 1);
            _task.IsIndeterminate = true;
        }

        public override void Report(TransferProgress value)
        {
            _task.Tag = value;
            _task.MaxValue = Math.Max(value.TotalBytes, 1);
            _task.Value = value.IsComplete ? _task.MaxValue : value.BytesTransferred;
            _task.IsIndeterminate = false;
        }

        public override void Succeeded(TensorData tensor, TimeSpan elapsed)
        {
            _task.Description = $"[green]✓[/] {Markup.Escape(Label(_name, tensor))}";
            _task.IsIndeterminate = false;
            _task.Value = _task.MaxValue;
            _task.StopTask();
        }

        public override void Failed()
        {
            _task.Tag = "failed";
            _task.Description = $"[red]✗[/] {_task.Description}";
            _task.IsIndeterminate = false;
            _task.StopTask();
        }
    }

    /// <summary>The live display's text of a bar: the same as a plain progress line, or the outcome once done.</summary>
    private sealed class TransferColumn : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(task.Tag switch
        {
            TransferProgress { IsComplete: true } done => TransferText.Done(done),
            TransferProgress progress => TransferText.Progress(progress),
            string status => status,
            _ => "waiting",
        });
    }
}
