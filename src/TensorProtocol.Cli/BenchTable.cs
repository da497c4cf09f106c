using System.Globalization;
using Spectre.Console;
using TensorProtocol.Bench;

namespace TensorProtocol.Cli;

/// <summary>
/// <c>tensorp bench</c>'s report: a row per target and push size plus a 4 KiB row, each with its ratio to
/// TensorProtocol's push in the same run, then the targets with their verdicts.
/// </summary>
internal static class BenchTable
{
    /// <summary>What every ratio is taken against.</summary>
    private const string Reference = "tensorp-push";

    /// <summary>Wide enough for every column when stdout is a file or a pipe (Spectre would assume 80).</summary>
    private const int RedirectedWidth = 120;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(BenchReport report)
    {
        IAnsiConsole console = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            console.Profile.Width = RedirectedWidth;
        }

        TransportResult? reference = report.Results.FirstOrDefault(r => r.Transport == Reference);
        var table = new Table()
            .Title(report.Rounds.Count == 1
                ? "loopback, two processes (client pushes to server); ratios within this run"
                : "loopback, two processes (client pushes to server); medians over rounds")
            .AddColumn("transport")
            .AddColumn(new TableColumn("size").RightAligned())
            .AddColumn(new TableColumn("MiB/s").RightAligned())
            .AddColumn(new TableColumn("p50 µs").RightAligned())
            .AddColumn(new TableColumn("p99 µs").RightAligned())
            .AddColumn(new TableColumn("cold ms").RightAligned())
            .AddColumn(new TableColumn($"{Reference} / row").RightAligned());
        foreach (TransportResult r in report.Results)
        {
            foreach (BulkResult bulk in r.Bulk)
            {
                double? ratio = reference?.BulkOf(bulk.Bytes) is { } ours ? ours.MibPerSecond / bulk.MibPerSecond : null;
                table.AddRow(r.Transport, BenchSizes.Format(bulk.Bytes), Number(bulk.MibPerSecond, "0.0"), "", "", "", Ratio(ratio));
            }
            double? latencyRatio = reference is null ? null : reference.RttP50Microseconds / r.RttP50Microseconds;
            table.AddRow(
                r.Transport, "4KiB", "", Number(r.RttP50Microseconds, "0.0"), Number(r.RttP99Microseconds, "0.0"),
                Number(r.ColdMilliseconds, "0.00"), Ratio(latencyRatio));
            if (r != report.Results[^1])
            {
                table.AddEmptyRow();
            }
        }
        console.Write(table);
        console.WriteLine($"{Reference} / row: its MiB/s over the row's for pushes (2 = twice as fast), its p50 over the row's for 4KiB (0.5 = half the latency).");
        if (report.Rounds.Count > 1)
        {
            console.WriteLine($"Every figure is the median of {report.Rounds.Count} interleaved rounds, and the ratios in the table are of those medians;");
            console.WriteLine("each target below is the median of its ratio within each round, so near a bound the two may differ.");
        }

        foreach (TargetCheck check in report.Targets)
        {
            string colour = check.Met ? "green" : "red";
            console.MarkupLine(string.Create(Invariant,
                $"target {Markup.Escape(check.Name)}: [bold]{check.Ratio:0.00}[/] ({Markup.Escape(check.Figures)}; target {Markup.Escape(check.Bound)}): [{colour}]{check.Verdict}[/]"));
        }
        foreach (string failed in report.FailedTransports)
        {
            console.MarkupLine($"[red]FAILED[/]: {Markup.Escape(failed)}");
        }
    }

    private static string Number(double value, string format) => value.ToString(format, Invariant);

    private static string Ratio(double? ratio) => ratio is { } r ? r.ToString("0.00", Invariant) : "-";
}
