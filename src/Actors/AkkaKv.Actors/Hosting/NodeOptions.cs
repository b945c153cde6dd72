namespace AkkaKv.Hosting;

/// <summary>What makes one node process: its stable name, where it listens, whom it joins, where it keeps data.</summary>
public sealed record NodeOptions
{
    public required string NodeName { get; init; }
    /// <summary>Bind address for Akka remoting. Loopback unless told otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>
    /// The address other nodes and clients use to reach this node (<c>--public-host</c>), when it
    /// differs from the bind address <see cref="Host"/>: behind NAT or in a container. The node's
    /// Akka address (and its client port's) names it; the ports still bind <see cref="Host"/>.
    /// Null: <see cref="Host"/>.
    /// </summary>
    public string? PublicHost { get; init; }
    /// <summary>Akka remoting port (0: any free port).</summary>
    public int Port { get; init; }
    /// <summary>Port of the Redis-protocol (RESP) listener, bound on <see cref="Host"/>; 0: no listener.</summary>
    public int RespPort { get; init; }
    /// <summary>
    /// Port of the client endpoint, bound on <see cref="Host"/>: a second Akka remoting endpoint that
    /// serves only the gateway (get, put, delete, status) to .NET clients. With remoting TLS on it
    /// accepts client certificates (<c>tls.client-ca-file</c>) and the node port does not. 0: none.
    /// </summary>
    public int ClientPort { get; init; }
    /// <summary>
    /// Port of the node's HTTP endpoint, bound on <see cref="Host"/>: <c>/metrics</c> (Prometheus),
    /// <c>/health/live</c> and <c>/health/ready</c>; HTTPS with the node's certificate when it has
    /// one. 0: none.
    /// </summary>
    public int HttpPort { get; init; }
    /// <summary>Seed nodes as host:port. Empty: the node forms a cluster on its own.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];
    /// <summary>Data directory; the SQLite journal is <c>{DataDir}/akkakv.db</c>.</summary>
    public required string DataDir { get; init; }
    /// <summary>The operator's <c>--insecure</c>: start on a non-loopback address without TLS or a RESP password (see <c>ProtectedMode</c>).</summary>
    public bool Insecure { get; init; }
    /// <summary>Extra HOCON applied over the defaults (tests use it to shrink Q or timeouts).</summary>
    public string? ExtraHocon { get; init; }

    /// <summary>Akka remoting protocol: <c>akka.tcp</c>, or <c>akka.trttl.tcp</c> when tests apply the throttle adapter.</summary>
    public string Protocol { get; init; } = "akka.tcp";

    public const string SystemName = NodeActors.SystemName;

    public static string AddressOf(string hostPort, string protocol = "akka.tcp") => NodeActors.AddressOf(hostPort, protocol);
}
