using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace TensorProtocol.Cli.Commands;

/// <summary>Starts the client node used by send and pull.</summary>
internal static class NodeFactory
{
    /// <summary>Parses the ticket first (exit 3 before anything else happens).</summary>
    public static NodeTicket ParseTicket(string text) => NodeTicket.Parse(string.Concat(text.Where(c => !char.IsWhiteSpace(c))));

    public static TensorNode StartClient(NodeTicket ticket, FileInfo? key, double timeoutSeconds, ILoggerFactory loggers)
    {
        // Bind the wildcard of the ticket's family, so an IPv4-only host never needs IPv6.
        bool ipv4Only = ticket.GetAddresses().All(a => a.AddressFamily == AddressFamily.InterNetwork);
        var defaults = new TensorNodeOptions();
        var node = new TensorNode(defaults with
        {
            IdentityPath = Identity.Resolve(key),
            LocalEndPoint = new IPEndPoint(ipv4Only ? IPAddress.Any : IPAddress.IPv6Any, 0),
            ConnectTimeout = TimeSpan.FromSeconds(timeoutSeconds),
            LoggerFactory = loggers,
            ProgressInterval = TransferView.NodeProgressInterval(defaults.ProgressInterval),
        });
        node.Start();
        return node;
    }
}
