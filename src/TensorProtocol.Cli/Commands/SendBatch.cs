namespace TensorProtocol.Cli.Commands;

/// <summary>
/// The tensors of one <c>tensorp send</c>, pushed one after the other. A tensor that fails does not stop the others;
/// each failure becomes one line. Only when the peer itself is the problem are the remaining tensors given up (each
/// would fail the same way, an unreachable peer after a full connect timeout): it refuses this node, it is shutting
/// down, or it cannot be reached on the first attempt or twice in a row.
/// </summary>
internal sealed class SendBatch(TensorNode node, NodeTicket target, int verbosity, CancellationToken cancellationToken)
{
    private readonly List<string> _failureLines = [];
    private int _attempts;
    private int _unreachableInARow;

    public int Sent { get; private set; }

    public long SentBytes { get; private set; }

    public int Failed { get; private set; }

    /// <summary>The exit code of the first failure; <see cref="ExitCodes.Ok"/> while there is none.</summary>
    public int ExitCode { get; private set; } = ExitCodes.Ok;

    /// <summary>
    /// Whether failure lines go to stderr as they happen, or are held back (while a live progress display owns the
    /// terminal) until <see cref="FlushFailures"/>.
    /// </summary>
    public bool DeferFailures { get; init; }

    /// <summary>
    /// Sends one tensor, telling <paramref name="progress"/> the bytes acknowledged: whether it was acknowledged, and
    /// whether the remaining ones are still worth trying.
    /// </summary>
    /// <exception cref="OperationCanceledException">Interrupted by SIGINT or SIGTERM.</exception>
    public async Task<(bool Acknowledged, bool Continue)> TryAsync(string name, TensorData tensor, IProgress<TransferProgress>? progress, int remainingAfterThis)
    {
        _attempts++;
        try
        {
            await node.SendAsync(target, name, tensor, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Every failure of one tensor is reported, and the next tensor is tried.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Failed++;
            (int code, string message) = ErrorReporter.Classify(e, $"send: tensor '{name}'");
            if (ExitCode == ExitCodes.Ok)
            {
                ExitCode = code;
            }
            string? giveUp = GiveUpReason(e);
            if (giveUp is not null && remainingAfterThis > 0)
            {
                message += $" {remainingAfterThis} more tensor{(remainingAfterThis == 1 ? "" : "s")} not tried: {giveUp}.";
            }
            Report(message, e);
            return (false, giveUp is null);
        }
        _unreachableInARow = 0;
        Sent++;
        SentBytes += tensor.Metadata.ByteLength;
        return (true, true);
    }

    /// <summary>Writes the failure lines held back while <see cref="DeferFailures"/> was set.</summary>
    public void FlushFailures()
    {
        foreach (string line in _failureLines)
        {
            Console.Error.WriteLine(line);
        }
        _failureLines.Clear();
    }

    private string? GiveUpReason(Exception e)
    {
        if (e is not TensorProtocolException protocol)
        {
            _unreachableInARow = 0;
            return null;
        }
        switch (protocol.Kind)
        {
            case TensorErrorKind.NotAllowed:
                return "the peer does not allow this node";
            case TensorErrorKind.Shutdown:
                return "the peer (or this node) is shutting down";
            case TensorErrorKind.Connection or TensorErrorKind.Timeout:
                _unreachableInARow++;
                // The first attempt failing means the peer was never reached; a reached peer gets one more try, on a
                // fresh connection, before it counts as gone.
                return _attempts == 1 || _unreachableInARow >= 2 ? "the peer cannot be reached" : null;
            default:
                _unreachableInARow = 0;
                return null;
        }
    }

    private void Report(string message, Exception error)
    {
        string line = ErrorReporter.Format(message);
        if (verbosity >= 2)
        {
            line += Environment.NewLine + Printable.Lines(error.ToString());
        }
        if (DeferFailures)
        {
            _failureLines.Add(line);
        }
        else
        {
            Console.Error.WriteLine(line);
        }
    }
}
