using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using Akka.Remote;
using Akka.Remote.Transport;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaKv.HintedHandoff;
using AkkaKv.Hosting;
using AkkaKv.Replica;
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
        akka-kv.replica.catch-up-timeout = 1s
        akka.cluster.split-brain-resolver.stable-after = 60s
        """;

    private readonly Dictionary<string, IHost> _hosts = new();
    private long _nextReadId;

    /// <summary>HOCON applied over <see cref="TestHocon"/> on every node of this cluster (a spec's own timeouts).</summary>
    public string ExtraHocon { get; init; } = "";

    /// <summary>The HOCON every node of this cluster starts with, over the shipped defaults.</summary>
    public string Hocon => TestHocon + "\n" + ExtraHocon;
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
            ExtraHocon = Hocon,
            Protocol = "akka.trttl.tcp",
        };
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddAkka(NodeOptions.SystemName, (akka, _) => akka.WithAkkaKvNode(options));
        var host = builder.Build();
        await host.StartAsync();
        _hosts[node] = host;
    }

    /// <summary>Starts <paramref name="nodes"/> (the first one seeds the others) and waits until each sees all of them Up with every slot placed.</summary>
    public async Task StartSettledAsync(IReadOnlyList<string> nodes, TimeSpan timeout)
    {
        await StartAsync(nodes[0], seed: null);
        foreach (var node in nodes.Skip(1)) await StartAsync(node, seed: nodes[0]);
        foreach (var node in nodes) await AwaitSettledAsync(node, nodes, timeout);
    }

    public ActorSystem System(string node) => _hosts[node].Services.GetRequiredService<ActorSystem>();

    public IActorRef Gateway(string node) => _hosts[node].Services.GetRequiredService<ActorRegistry>().Get<KvGateway>();

    /// <summary><paramref name="node"/>'s courier (<c>/user/kv-courier</c>).</summary>
    public IActorRef Courier(string node) => _hosts[node].Services.GetRequiredService<ActorRegistry>().Get<KvCourier>();

    /// <summary>What <paramref name="node"/>'s hint actor (<c>/user/kv-hints</c>) holds, per target node.</summary>
    public async Task<HintStats> HintStatsAsync(string node) =>
        await _hosts[node].Services.GetRequiredService<ActorRegistry>().Get<KvHints>().Ask<HintStats>(GetHintStats.Instance, TimeSpan.FromSeconds(10));

    /// <summary>
    /// What replica slot <paramref name="slot"/> holds for <paramref name="key"/>, read directly (no
    /// quorum, no read repair) through <paramref name="node"/>'s shard region.
    /// </summary>
    internal async Task<ReplicaReadResult> ReplicaReadAsync(string node, SlotId slot, Bytes key)
    {
        var region = _hosts[node].Services.GetRequiredService<ActorRegistry>().Get<ReplicaRegion>();
        return await region.Ask<ReplicaReadResult>(new SlotEnvelope(slot, new ReplicaRead(Interlocked.Increment(ref _nextReadId), key)), TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Stops replica slot <paramref name="slot"/>'s actor on <paramref name="node"/> (with the
    /// sharding hand-off stop message), as a restart or a move of the slot would: the next message
    /// for the slot starts it again, and it catches up from its peers before it serves.
    /// </summary>
    public async Task StopReplicaAsync(string node, SlotId slot)
    {
        var name = Uri.EscapeDataString(slot.ToString());
        var identity = await System(node).ActorSelection($"/system/sharding/{AkkaKvHosting.RegionName}/{name}/{name}")
            .Ask<ActorIdentity>(new Identify(slot), TimeSpan.FromSeconds(5));
        var replica = identity.Subject ?? throw new InvalidOperationException($"replica slot {slot} is not running on {node}");
        if (!await replica.GracefulStop(TimeSpan.FromSeconds(10), StopReplica.Instance))
            throw new TimeoutException($"replica slot {slot} on {node} did not stop");
    }

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
    public async Task<Dictionary<SlotId, string>> SlotOwnersAsync(string node) =>
        (await SlotsAsync(node)).ToDictionary(kv => kv.Key, kv => kv.Value.Node);

    /// <summary>
    /// Each allocated replica slot: the node hosting it, and whether its replica actor is running
    /// there (a slot moved by a rebalance starts at the first message for it).
    /// </summary>
    public async Task<Dictionary<SlotId, (string Node, bool Running)>> SlotsAsync(string node)
    {
        var system = System(node);
        var region = ClusterSharding.Get(system).ShardRegion(AkkaKvHosting.RegionName);
        var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
        var cluster = Cluster.Get(system);
        var names = cluster.State.Members.ToDictionary(m => m.Address, m => ClusterMembership.NodeNameOf(m)!);
        var slots = new Dictionary<SlotId, (string, bool)>();
        foreach (var (address, regionStats) in stats.Regions)
            foreach (var (shard, entities) in regionStats.Stats)
                slots[SlotId.Parse(shard)] = (names[address.HasLocalScope ? cluster.SelfAddress : address], entities > 0);
        return slots;
    }

    /// <summary>The settings every node of this cluster runs with (as node n1 reads them).</summary>
    public Configuration.KvSettings Settings =>
        Configuration.KvSettings.FromConfig(AkkaKvHosting.NodeConfig(new NodeOptions { NodeName = "n1", DataDir = "unused", ExtraHocon = Hocon }));

    /// <summary>
    /// Retries <paramref name="assertion"/> every 200 ms while it fails (an assertion, or an ask
    /// that timed out); after <paramref name="timeout"/>, its last failure is the test's.
    /// </summary>
    public static async Task EventuallyAsync(TimeSpan timeout, Func<Task> assertion)
    {
        var deadline = global::System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception e) when ((e is Xunit.Sdk.XunitException or AskTimeoutException) && deadline.Elapsed < timeout)
            {
                await Task.Delay(200);
            }
        }
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
