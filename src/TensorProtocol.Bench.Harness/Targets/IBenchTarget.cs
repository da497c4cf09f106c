namespace TensorProtocol.Bench.Targets;

/// <summary>
/// One row of the report: something a client process measures against a server process of its own. The stream
/// transports (<see cref="StreamTransportTarget"/>) and the tensor node's push and pull
/// (<see cref="Tensors.TensorNodeTarget"/>) are both targets; the driver, the child processes and the report only
/// see this.
/// </summary>
internal interface IBenchTarget
{
    /// <summary>Name used on the command line (<c>--transport NAME</c>) and in the report.</summary>
    string Name { get; }

    /// <summary>
    /// The server child process's work: serve on 127.0.0.1:<paramref name="port"/>, announce it and answer the
    /// parent's requests until its stdin ends (see <see cref="Server.ServerMode.ServeParentAsync"/>). Returns the
    /// process's exit code.
    /// </summary>
    Task<int> RunServerAsync(int port, RunSettings settings);

    /// <summary>The client child process's work: start the server child and measure against it.</summary>
    Task<TransportResult> MeasureAsync(RunSettings settings, string label, CancellationToken cancellationToken);
}
