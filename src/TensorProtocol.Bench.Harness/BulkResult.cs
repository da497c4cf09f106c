namespace TensorProtocol.Bench;

/// <summary>One bulk push, client to server, timed until the server acknowledged its last byte.</summary>
/// <param name="Bytes">How many bytes were pushed.</param>
/// <param name="MibPerSecond">Throughput, in MiB per second of wall-clock time.</param>
/// <param name="CpuSecondsPerGib">Client plus server CPU time spent meanwhile, per GiB pushed.</param>
public sealed record BulkResult(long Bytes, double MibPerSecond, double CpuSecondsPerGib);
