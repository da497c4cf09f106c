namespace TensorProtocol.Native;

/// <summary>A <c>tp_cancel</c>: one token that cancels every operation started with it.</summary>
internal sealed class CancelHandle
{
    private readonly CancellationTokenSource _source = new();

    public CancellationToken Token => _source.Token;

    public void Trigger() => _source.Cancel();
}
