using Akka.Actor;

namespace AkkaKv;

/// <summary>
/// The well-known actors every node runs, and how to address them: the one place their names and
/// paths are spelled. The gateway is the public front door (clients address it); the hint and
/// anti-entropy actors are asked by other nodes for their status.
/// </summary>
public static class NodeActors
{
    /// <summary>The ActorSystem name of every node: remote addresses are <c>akka.tcp://akkakv@host:port</c>.</summary>
    public const string SystemName = "akkakv";

    /// <summary>The gateway (<c>/user/kv-gateway</c>): every client request goes here.</summary>
    public const string Gateway = "kv-gateway";

    /// <summary>The hinted-handoff actor (<c>/user/kv-hints</c>).</summary>
    public const string Hints = "kv-hints";

    /// <summary>The anti-entropy actor (<c>/user/kv-anti-entropy</c>).</summary>
    public const string AntiEntropy = "kv-anti-entropy";

    /// <summary>The courier (<c>/user/kv-courier</c>): carries requests to replica slots, and their replies, in one message per destination node.</summary>
    public const string Courier = "kv-courier";

    /// <summary>A node's remoting address from <c>host:port</c>.</summary>
    public static string AddressOf(string hostPort, string protocol = "akka.tcp") => $"{protocol}://{SystemName}@{hostPort}";

    /// <summary>The path of <paramref name="name"/> in this ActorSystem: <c>/user/{name}</c>.</summary>
    public static string LocalPath(string name) => "/user/" + name;

    /// <summary>The path of <paramref name="name"/> on the node at <paramref name="address"/>.</summary>
    public static ActorPath PathOn(Address address, string name) => new RootActorPath(address) / "user" / name;

    /// <summary>The gateway of the node at <c>host:port</c> (<see cref="Security.RemoteTls.Protocol"/> for a TLS endpoint).</summary>
    public static string GatewayPathOf(string hostPort, string protocol = "akka.tcp") => $"{AddressOf(hostPort, protocol)}/user/{Gateway}";
}
