using System.Globalization;
using Spectre.Console;

namespace TensorProtocol.Cli;

/// <summary>Human output on stdout: Spectre.Console widgets on a terminal, plain lines when stdout is redirected.</summary>
internal static class Output
{
    /// <summary>Whether stdout is an interactive terminal (progress bars and tables are shown).</summary>
    public static bool IsTerminal { get; } = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>
    /// Writes a plain line and flushes it at once (scripts parse some of them, such as <c>ticket:</c>). Control
    /// characters are escaped: lines quote tensor names that a peer or a file chose.
    /// </summary>
    public static void Line(string text)
    {
        Console.Out.WriteLine(Printable.Text(text));
        Console.Out.Flush();
    }

    /// <summary>Prints the ticket on a line of its own, in the exact form scripts parse.</summary>
    public static void Ticket(NodeTicket ticket) => Line($"ticket: {ticket}");

    /// <summary>Prints a table of tensors on a terminal, one plain line per tensor otherwise.</summary>
    public static void Tensors(string title, IEnumerable<(string Name, TensorData Tensor)> tensors)
    {
        if (IsTerminal)
        {
            var table = new Table().Title(title).AddColumns("name", "dtype", "shape", "size");
            foreach ((string name, TensorData tensor) in tensors)
            {
                table.AddRow(Markup.Escape(Printable.Text(name)), tensor.DType.Name, Shape(tensor), Size(tensor.Metadata.ByteLength));
            }
            AnsiConsole.Write(table);
            return;
        }
        foreach ((string name, TensorData tensor) in tensors)
        {
            Line($"{title}: {name} {tensor.DType.Name} {Shape(tensor)} {Size(tensor.Metadata.ByteLength)}");
        }
    }

    public static string Shape(TensorData tensor) => Shape(tensor.Shape);

    public static string Shape(IEnumerable<long> shape) =>
        "[" + string.Join(",", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    // The units' text lives in TransferText, which the tests compile in; these keep the callers short.
    public static string Size(long bytes) => TransferText.Size(bytes);

    public static string Rate(long bytes, TimeSpan elapsed) => TransferText.Rate(bytes, elapsed);

    public static string Duration(TimeSpan elapsed) => TransferText.Duration(elapsed);
}
