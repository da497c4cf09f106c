using System.Globalization;
using Spectre.Console;

namespace TensorProtocol.Cli.Demo;

/// <summary>
/// Prints the demo's result: Spectre tables on a terminal (sized to fit 80 columns), aligned plain lines when stdout
/// is redirected, one per tensor ending in <c>match</c> or <c>MISMATCH</c>.
/// </summary>
internal static class DemoReport
{
    private static readonly string[] s_columns = ["via", "name", "dtype", "shape", "size", "from", "sha256", "check"];

    public static void Print(DemoResult result)
    {
        string[][] rows = [.. result.Arrivals.Select(Row)];
        (string What, string Result)[] measurements =
        [
            ($"push {Output.Size(result.Push.Bytes)} (acknowledged)", Throughput(result.Push)),
            ($"pull {Output.Size(result.Pull.Bytes)}", Throughput(result.Pull)),
            ($"4 KiB push ×{result.PushLatency.Samples} (acknowledged)", Latency(result.PushLatency)),
            ($"4 KiB pull ×{result.PullLatency.Samples}", Latency(result.PullLatency)),
        ];
        string verdict = $"all {rows.Length} tensors and {result.PushLatency.Probes + result.PullLatency.Probes} probes arrived intact";
        if (Output.IsTerminal)
        {
            PrintTables(result, rows, measurements, verdict);
        }
        else
        {
            PrintLines(result, rows, measurements, verdict);
        }
    }

    private static string[] Row(Arrival a) =>
        [a.Via, a.Name, a.Received.DType.Name, Output.Shape(a.Received.Shape), Output.Size(a.Received.ByteLength), a.From, a.ShortHash, a.Matched ? "match" : "MISMATCH"];

    private static string Throughput(TransferTime transfer) => $"{Output.Duration(transfer.Elapsed)}, {Output.Rate(transfer.Bytes, transfer.Elapsed)}";

    private static string Latency(LatencySummary latency) => $"p50 {Micros(latency.P50)}, p99 {Micros(latency.P99)}";

    private static string Micros(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMicroseconds:0} µs");

    private static void PrintLines(DemoResult result, string[][] rows, (string What, string Result)[] measurements, string verdict)
    {
        Output.Line($"alice {result.Alice}");
        Output.Line($"bob   {result.Bob} on {result.BobEndPoint}");
        int[] widths = [.. s_columns.Select((c, i) => rows.Select(r => r[i].Length).Append(c.Length).Max())];
        Output.Line(Align(s_columns, widths));
        foreach (string[] row in rows)
        {
            Output.Line(Align(row, widths));
        }
        foreach ((string what, string value) in measurements)
        {
            Output.Line($"{what}: {value}");
        }
        if (result.AllIntact)
        {
            Output.Line($"{verdict} (dtype, shape, sha256 and sender match)");
        }
    }

    private static string Align(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i])));

    private static void PrintTables(DemoResult result, string[][] rows, (string What, string Result)[] measurements, string verdict)
    {
        AnsiConsole.MarkupLine($"[bold]alice[/] {result.Alice}");
        AnsiConsole.MarkupLine($"[bold]bob[/]   {result.Bob} on {Markup.Escape(result.BobEndPoint.ToString())}");
        // Compact so that the table fits an 80-column terminal: "via" is implied by "from" (alice pushes, bob serves
        // the pulls) and "check" becomes a mark.
        var table = new Table().Title("what arrived (from alice: pushed to bob; from bob: pulled back)").Border(TableBorder.Simple);
        foreach (string column in (string[])["", "name", "dtype", "shape", "size", "from", "sha256"])
        {
            table.AddColumn(new TableColumn(column).Padding(0, 0, 1, 0));
        }
        foreach (string[] row in rows)
        {
            table.AddRow([row[^1] == "match" ? "[green]✓[/]" : "[red]✗[/]", .. row[1..^1].Select(Markup.Escape)]);
        }
        AnsiConsole.Write(table);
        var numbers = new Table().Title("measured on loopback").Border(TableBorder.Simple);
        numbers.AddColumn(new TableColumn("transfer").Padding(0, 0, 1, 0)).AddColumn(new TableColumn("time").Padding(0, 0, 1, 0));
        foreach ((string what, string value) in measurements)
        {
            numbers.AddRow(Markup.Escape(what), Markup.Escape(value));
        }
        AnsiConsole.Write(numbers);
        AnsiConsole.MarkupLine(result.AllIntact ? $"[green]{verdict}[/]" : "[red]some tensors did not arrive intact[/]");
    }
}
