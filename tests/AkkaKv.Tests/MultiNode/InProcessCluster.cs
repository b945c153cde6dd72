using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using Akka.Remote;
using Akka.Remote.Transport;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaKv.Hosting;
using AkkaKv.Sharding;
using AkkaKv.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaKv.Tests.MultiNode;

/// <summary>
/// N AkkaKv nodes as ActorSystems in this test process, each started through Akka.Hosting with
/// exactly the Host's wiring (<see cref="AkkaKvHosting.WithAkkaKvNode"/>): real remoting on
/// loopback through Akka.Remote's throttle adapter (so tests can blackhole links), real sharding
/// with the ring allocation strategy, a real SQLite journal per node in a temp dir.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    public const string TestHocon = """
        akka.loglevel = WARNING
        akka.remote.dot-netty.tcp.applied-adapters = [trttl]
        akka-kv.ring.partitions = 16
        akka-kv.ring.virtual-nodes = 32
        akka-kv.request.timeout = 4s
        akka-kv.request.coordinating-replica-timeout = 1s
        akka-kv.request.read-repair-window = 500ms
        # A slot still catching up when a peer is cut off waits this long for it before serving;
        # kept well under request.timeout together with the coordinating-replica timeout.
        akka-kv.replica.sync-timeout = 1s
        akka.cluster.split-brain-resolver.stable-after = 60s
        """;

    private readonly Dictionary<string, IHost> _hosts = new();
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "akkakv-mn-" + Guid.NewGuid().ToString("N")[..8]);
    public Dictionary<string, int> Ports { get; } = new();
    public IReadOnlyCollection<string> Running => _hosts.Keys;

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async Task StartAsync(string node, string? seed)
    {
        var port = Ports.TryGetValue(node, out var p) ? p : Ports[node] = FreePort();
        var options = new NodeOptions
        {
            NodeName = node,
            Port = port,
            Seeds = seed is null ? [] : [$"127.0.0.1:{Ports[seed]}"],
            DataDir = Path.Combine(Root, node),
            ExtraHocon = TestHocon,
            Protocol = "akka.trttl.tcp",
        };
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(NodeOptions.SystemName, (akka, _) => akka.WithAkkaKvNode(options));
        var host = builder.Build();
        await host.StartAsync();
        _hosts[node] = host;
    }

    public ActorSystem System(string node) => _hosts[node].Services.GetRequiredService<ActorSystem>();

    public IActorRef Gateway(string node) => _hosts[node].Services.GetRequiredService<ActorRegistry>().Get<KvGateway>();

    public Address AddressOf(string node) => Address.Parse(NodeOptions.AddressOf($"127.0.0.1:{Ports[node]}", "akka.trttl.tcp"));

    public async Task<T> AskAsync<T>(string node, object message, TimeSpan? timeout = null) =>
        await Gateway(node).Ask<T>(message, timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>Cuts (or restores) every link between <paramref name="node"/> and the other running nodes, both directions.</summary>
    public async Task SetBlackholeAsync(string node, bool on)
    {
        foreach (var other in _hosts.Keys.Where(n => n != node))
        {
            var transport = ((IRemoteActorRefProvider)((ExtendedActorSystem)System(other)).Provider).Transport;
            ThrottleMode mode = on ? Blackhole.Instance : Unthrottled.Instance;
            await transport.ManagementCommand(new SetThrottle(AddressOf(node), ThrottleTransportAdapter.Direction.Both, mode));
        }
    }

    /// <summary>Polls until <paramref name="node"/> sees exactly <paramref name="expected"/> Up and reachable, with every slot placed on distinct nodes.</summary>
    public async Task AwaitSettledAsync(string node, IReadOnlyCollection<string> expected, TimeSpan timeout, bool coLocationExpected = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var st = await AskAsync<NodeStatus>(node, GetStatus.Instance, TimeSpan.FromSeconds(5));
                last = string.Join(",", st.Members.Select(m => $"{m.Node}:{m.Status}:{m.Reachable}")) + $" unallocated={st.UnallocatedSlots} colocated={st.CoLocatedPartitions} misplaced={st.MisplacedSlots}";
                if (st.Members.Count == expected.Count && st.Members.All(m => m.Status == "Up" && m.Reachable && expected.Contains(m.Node))
                    && st.UnallocatedSlots == 0 && st.MisplacedSlots == 0 && (coLocationExpected ? st.CoLocatedPartitions > 0 : st.CoLocatedPartitions == 0)) return;
            }
            catch (AskTimeoutException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{node} did not settle on [{string.Join(",", expected)}]: {last}");
    }

    /// <summary>Stops a node gracefully: it leaves the cluster (CoordinatedShutdown), its slots are handed off.</summary>
    public async Task StopAsync(string node)
    {
        var host = _hosts[node];
        _hosts.Remove(node);
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
    }

    /// <summary>Which node hosts each replica slot, from the cluster-wide sharding stats as <paramref name="node"/> sees them.</summary>
    public async Task<Dictionary<SlotId, string>> SlotOwnersAsync(string node)
    {
        var system = System(node);
        var region = ClusterSharding.Get(system).ShardRegion(AkkaKvHosting.RegionName);
        var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
        var cluster = Cluster.Get(system);
        var names = cluster.State.Members.ToDictionary(m => m.Address, m => RingAllocationStrategy.NodeNameOf(m)!);
        var owners = new Dictionary<SlotId, string>();
        foreach (var (address, regionStats) in stats.Regions)
            foreach (var shard in regionStats.Stats.Keys)
                owners[SlotId.Parse(shard)] = names[address.HasLocalScope ? cluster.SelfAddress : address];
        return owners;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts.Values)
        {
            try { await host.StopAsync(TimeSpan.FromSeconds(10)); } catch (OperationCanceledException) { }
            host.Dispose();
        }
        _hosts.Clear();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
