using AkkaKv.Placement;

namespace AkkaKv.Protocol;

// The membership commands (akkakv leave / down / transfers). A node accepts leave and down only on
// its node port, whose peers hold a node identity (a certificate of the node CA with remoting TLS,
// or loopback): the client port answers them with AdminReply(Accepted: false).

/// <summary>
/// Asks a node to make <see cref="Node"/> leave the cluster gracefully (Akka's Leave): it hands
/// its hints to another node, pushes its replicas to their peers, hands its slots off and exits.
/// Refused when the others would be fewer than N, unless <see cref="Force"/>.
/// </summary>
public sealed record LeaveNode(string Node, bool Force = false) : IKvMessage;

/// <summary>Asks a node to mark <see cref="Node"/>, which must be unreachable, Down (removed at once).</summary>
public sealed record DownNode(string Node) : IKvMessage;

/// <summary>The answer to <see cref="LeaveNode"/> or <see cref="DownNode"/>: done or refused, and why.</summary>
public sealed record AdminReply(bool Accepted, string Node, string Message) : IKvMessage;

/// <summary>Asks a node for the cluster's transfers; answered with a <see cref="TransferReport"/>.</summary>
public sealed record GetTransfers : IKvMessage
{
    public static readonly GetTransfers Instance = new();
}

/// <summary>Asks a node's anti-entropy actor for its <see cref="NodeTransfers"/> (node to node).</summary>
public sealed record GetNodeTransfers : IKvMessage
{
    public static readonly GetNodeTransfers Instance = new();
}
