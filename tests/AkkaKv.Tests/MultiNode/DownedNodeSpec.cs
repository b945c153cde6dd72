using System.Diagnostics;
using AkkaKv.Coordination;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using AkkaKv.Sharding;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AkkaKv.Tests.MultiNode;

/// <summary>
/// A node cut off for longer than the split-brain resolver's stable-after: the majority downs and
/// removes it, the cut-off node downs itself (its actor system terminates), the removed node's
/// replica slots are re-placed on the live nodes and catch up from their peers, and the hints
/// held for it are replayed to those new homes. Afterwards every partition has N current replicas
/// on distinct live nodes, holding every write acknowledged before and during the outage.
/// </summary>
public sealed class DownedNodeSpec(ITestOutputHelper output) : IAsyncLifetime
{
    // A short stable-after so the resolver decides within the test; the failure detector and the
    // removal margin (5 s) are the shipped ones.
    private const string ClusterHocon = """
        akka.cluster.split-brain-resolver.stable-after = 4s
        akka-kv.request.timeout = 4s
        akka-kv.request.replica-ack-timeout = 1s
        akka-kv.request.replace-removed-slots-after = 2s
        akka.cluster.gossip-interval = 250ms
        akka.cluster.leader-actions-interval = 250ms
        akka.remote.flush-wait-on-shutdown = 250ms
        """;

    private static readonly string[] Four = ["n1", "n2", "n3", "n4"];
    private static readonly string[] Survivors = ["n1", "n2", "n4"];
    private const string Cut = "n3";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly InProcessCluster _cluster = new() { ExtraHocon = ClusterHocon };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static Bytes B(string s) => Bytes.FromUtf8(s);

    [Fact]
    public async Task A_node_downed_and_removed_has_its_slots_re_placed_on_live_nodes_that_hold_every_acknowledged_write()
    {
        await _cluster.StartSettledAsync(Four, Timeout);
        var keys = Enumerable.Range(0, 32).Select(i => $"dn-{i}").ToList();

        // Before the cut: every key on all three replicas.
        foreach (var key in keys)
            Assert.Equal(3, Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>("n1", new Put(B(key), B($"before-{key}"), null, new RequestOptions(W: 3)))).Acks);
        var slotsOnCut = (await _cluster.SlotOwnersAsync("n1")).Count(kv => kv.Value == Cut);

        var cutAt = Stopwatch.StartNew();
        await _cluster.SetBlackholeAsync(Cut, on: true);
        await InProcessCluster.EventuallyAsync(Timeout, () =>
        {
            foreach (var node in Survivors)
                Assert.Contains(Akka.Cluster.Cluster.Get(_cluster.System(node)).State.Unreachable, m => ClusterMembership.NodeNameOf(m) == Cut);
            return Task.CompletedTask;
        });
        output.WriteLine($"{Cut} unreachable from every other node {cutAt.Elapsed.TotalSeconds:0.0} s after the cut");

        // During the outage: new values at W=2 (sloppy: hints for the cut-off node on fallbacks).
        for (var i = 0; i < keys.Count; i++)
            Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>(Survivors[i % 3], new Put(B(keys[i]), B($"during-{keys[i]}"), null, new RequestOptions(W: 2))));
        var hintsHeld = 0;
        foreach (var node in Survivors) hintsHeld += HeldFor(await _cluster.HintStatsAsync(node), Cut);
        output.WriteLine($"{hintsHeld} hints held for {Cut} after the writes during the outage");
        Assert.True(hintsHeld > 0, "no write during the outage had a replica on the cut-off node");

        // The majority downs and removes it; the cut-off node downs itself and its system ends.
        await InProcessCluster.EventuallyAsync(Timeout, () =>
        {
            foreach (var node in Survivors)
                Assert.DoesNotContain(Akka.Cluster.Cluster.Get(_cluster.System(node)).State.Members, m => ClusterMembership.NodeNameOf(m) == Cut);
            return Task.CompletedTask;
        });
        output.WriteLine($"{Cut} removed by the majority {cutAt.Elapsed.TotalSeconds:0.0} s after the cut");
        var terminated = await Task.WhenAny(_cluster.System(Cut).WhenTerminated, Task.Delay(Timeout));
        Assert.True(terminated == _cluster.System(Cut).WhenTerminated, $"{Cut} did not down itself within {Timeout.TotalSeconds} s");
        output.WriteLine($"{Cut} downed itself (actor system terminated) {cutAt.Elapsed.TotalSeconds:0.0} s after the cut");

        // Without any request: its slots are re-placed on the three live nodes, one per node per
        // partition, and the hints held for it drain into those new homes.
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            var status = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            Assert.Equal(["n1", "n2", "n4"], status.Members.Select(m => m.Node).Order(StringComparer.Ordinal));
            Assert.Equal((0, 0, 0), (status.UnallocatedSlots, status.CoLocatedPartitions, status.MisplacedSlots));
            foreach (var node in Survivors)
                Assert.Equal((node, 0), (node, HeldFor(await _cluster.HintStatsAsync(node), Cut)));
        });
        output.WriteLine($"{slotsOnCut} slots of {Cut} re-placed and {hintsHeld} hints drained {cutAt.Elapsed.TotalSeconds:0.0} s after the cut");

        // Every replica of every key, on distinct live nodes, is current with both values written
        // (catch-up from peers plus replayed hints; no read repair yet: the
        // reports come from the first read).
        foreach (var key in keys)
        {
            var read = Assert.IsType<GetSuccess>(await _cluster.AskAsync<IGetResponse>("n2", new Get(B(key), new RequestOptions(R: 3))));
            // Both writes carried no context, so they are siblings: each acknowledged value is there.
            Assert.Equal([$"before-{key}", $"during-{key}"], read.Values.Select(v => v.ToUtf8()).Order(StringComparer.Ordinal));
            Assert.All(read.Replicas, r => Assert.Equal((key, r.Slot, ReplicaReadState.Current), (key, r.Slot, r.State)));
            Assert.Equal(3, read.Replicas.Select(r => r.Node).Distinct().Count());
            Assert.DoesNotContain(read.Replicas, r => r.Node == Cut);
        }
    }

    private static int HeldFor(HintStats stats, string target) => stats.Targets.FirstOrDefault(t => t.Target == target)?.Held ?? 0;
}
