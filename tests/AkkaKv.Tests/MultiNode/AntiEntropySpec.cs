using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaKv.AntiEntropy;
using AkkaKv.Coordination;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Sharding;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AkkaKv.Tests.MultiNode;

/// <summary>
/// Merkle anti-entropy across real nodes: a node is cut off while many keys are written with
/// hinted handoff all but off (one hint per target, the rest overflow: the path that hands a target
/// to anti-entropy), so its replicas miss almost every write. After the heal, with no client
/// request, every replica of every written key becomes identical and the partitions' Merkle roots
/// equal, within a deadline.
/// </summary>
public sealed class AntiEntropySpec(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ClusterHocon = """
        akka-kv.hints.max-per-target = 1
        akka-kv.anti-entropy.round-interval = 2s
        akka-kv.anti-entropy.exchange-pause = 5ms
        akka-kv.request.timeout = 4s
        akka-kv.request.replica-ack-timeout = 1s
        akka.cluster.gossip-interval = 250ms
        akka.cluster.leader-actions-interval = 250ms
        akka.remote.flush-wait-on-shutdown = 250ms
        """;

    private static readonly string[] Three = ["n1", "n2", "n3"];
    private const string Cut = "n3";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly InProcessCluster _cluster = new() { ExtraHocon = ClusterHocon };
    private long _nextId = 1_000_000;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static Bytes B(string s) => Bytes.FromUtf8(s);

    [Fact]
    public async Task Replicas_that_missed_writes_while_cut_off_become_identical_after_the_heal_without_any_request()
    {
        await _cluster.StartSettledAsync(Three, Timeout);
        var settings = _cluster.Settings;
        var partitioner = new Partitioner(settings.PartitionCount);
        var owners = await _cluster.SlotOwnersAsync("n1");
        var keys = Enumerable.Range(0, 300).Select(i => $"ae-{i}").ToList();
        int missing;

        try
        {
            await CutOffAsync();
            foreach (var key in keys)
                Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>(keys.IndexOf(key) % 2 == 0 ? "n1" : "n2", new Put(B(key), B($"v-{key}"), null, new RequestOptions(W: 2))));

            // Before the heal (read locally on the cut-off node), its replicas lack almost all of them.
            missing = 0;
            foreach (var key in keys)
            {
                var slot = SlotOn(Cut, key, owners, partitioner, settings.ReplicationFactor);
                if ((await _cluster.ReplicaReadAsync(Cut, slot, B(key))).Siblings.IsEmpty) missing++;
            }
            output.WriteLine($"{missing} of {keys.Count} keys missing on {Cut}'s replicas before the heal");
            Assert.True(missing > keys.Count / 2, $"only {missing} keys were missing: hints were not bounded as configured");
        }
        finally
        {
            await _cluster.SetBlackholeAsync(Cut, on: false);
        }

        var healed = Stopwatch.StartNew();
        var partitions = keys.Select(k => partitioner.PartitionOf(B(k))).Distinct().ToList();
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            foreach (var key in keys)
            {
                var sets = (await ReplicaSetsAsync(key, owners, partitioner)).Select(r => r.Held).ToList();
                Assert.True(sets.All(s => s.Equals(sets[0])) && !sets[0].IsEmpty, $"{key}: replicas differ or are empty");
            }
            foreach (var partition in partitions)
            {
                var roots = new List<ulong>();
                for (var i = 0; i < settings.ReplicationFactor; i++)
                    roots.Add(await RootAsync(owners[new SlotId(partition, i)], new SlotId(partition, i)));
                Assert.True(roots.Distinct().Count() == 1, $"partition {partition}: Merkle roots differ: {string.Join(", ", roots.Select(r => r.ToString("x16")))}");
            }
        });
        output.WriteLine($"all {keys.Count} keys identical on 3 replicas and {partitions.Count} partitions' roots equal {healed.Elapsed.TotalSeconds:0.0} s after the heal");

        // The stats count an exchange's repairs when it finishes (all merges acked), which can be
        // just after the replicas already agree.
        NodeStatus? status = null;
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            status = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            var repaired = status.AntiEntropy!.Sum(a => a.KeysRepaired);
            Assert.True(repaired >= missing - 2 * 1, $"anti-entropy reports {repaired} keys repaired, {missing} were missing (at most one hint per holder could have filled one)");
        });
        output.WriteLine(StatusText.Render(status!));
    }

    [Fact]
    public async Task A_key_deleted_while_a_replica_was_cut_off_stays_deleted_on_every_replica_after_the_heal_and_its_tombstone_is_then_purged()
    {
        await _cluster.StartSettledAsync(Three, Timeout);
        var settings = _cluster.Settings;
        var partitioner = new Partitioner(settings.PartitionCount);
        var owners = await _cluster.SlotOwnersAsync("n1");
        var keys = Enumerable.Range(0, 40).Select(i => $"del-{i}").ToList();
        // Every replica holds every key before the cut.
        foreach (var key in keys)
            Assert.Equal(3, Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>("n1", new Put(B(key), B($"v-{key}"), null, new RequestOptions(W: 3)))).Acks);

        try
        {
            await CutOffAsync();
            // Deleted while n3 is cut off (hints bounded to one per holder: n3 misses almost all).
            foreach (var key in keys)
                Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>("n1", new Delete(B(key), null, new RequestOptions(W: 2, Overwrite: true))));

            // Before the heal (read locally on the cut-off node), its replicas still hold the values.
            var stillLive = 0;
            foreach (var key in keys)
            {
                var slot = SlotOn(Cut, key, owners, partitioner, settings.ReplicationFactor);
                if ((await _cluster.ReplicaReadAsync(Cut, slot, B(key))).Siblings.Values.Any()) stillLive++;
            }
            output.WriteLine($"{stillLive} of {keys.Count} deleted keys still have a live value on {Cut}'s replicas before the heal");
            Assert.True(stillLive > keys.Count / 2, $"only {stillLive} keys were still live on {Cut}: hints were not bounded as configured");
        }
        finally
        {
            await _cluster.SetBlackholeAsync(Cut, on: false);
        }

        // Anti-entropy spreads the tombstones, never the old values: every replica of every key
        // ends up with no live value (a tombstone, or nothing once the GC below has purged it
        // everywhere, which it does only after every replica held the tombstone), and a quorum read finds nothing.
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            foreach (var key in keys)
            {
                foreach (var (slot, held) in await ReplicaSetsAsync(key, owners, partitioner))
                    Assert.True(held.IsDeleted, $"{key} on {slot} ({owners[slot]}): {held.Values.Count()} live value(s), {held.Count} version(s)");
            }
        });
        foreach (var key in keys)
            Assert.IsType<NotFound>(await _cluster.AskAsync<IGetResponse>("n2", new Get(B(key), new RequestOptions(R: 3))));
        var tombstonesEverywhere = Stopwatch.StartNew();

        // Tombstone GC: once two rounds have confirmed every replica holds them, the tombstones are
        // purged from every replica (no grace period), and the keys stay deleted.
        NodeStatus? status = null;
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            foreach (var key in keys)
            {
                foreach (var (slot, held) in await ReplicaSetsAsync(key, owners, partitioner))
                    Assert.True(held.IsEmpty, $"{key} on {slot} ({owners[slot]}) still holds {held}");
            }
            status = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            Assert.True(status.AntiEntropy!.Sum(a => a.TombstonesPurged) >= keys.Count, "the status does not count the purges");
        });
        output.WriteLine($"all {keys.Count} tombstones purged from all 3 replicas {tombstonesEverywhere.Elapsed.TotalSeconds:0.0} s after they were everywhere");
        output.WriteLine(StatusText.Render(status!));
        foreach (var key in keys)
            Assert.IsType<NotFound>(await _cluster.AskAsync<IGetResponse>("n3", new Get(B(key), new RequestOptions(R: 3))));
        // And they stay gone: further rounds (every 2 s) bring nothing back.
        var rounds = status!.AntiEntropy!.Sum(a => a.RoundsCompleted);
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            var now = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            Assert.True(now.AntiEntropy!.Sum(a => a.RoundsCompleted) >= rounds + 6, "anti-entropy did not run two more rounds per node");
        });
        foreach (var key in keys)
            foreach (var (slot, held) in await ReplicaSetsAsync(key, owners, partitioner))
                Assert.True(held.IsEmpty, $"{key} came back on {slot}");
    }

    [Fact]
    public async Task Values_that_expired_read_as_not_found_on_every_node_and_are_then_purged_from_every_replica_like_tombstones()
    {
        await _cluster.StartSettledAsync(Three, Timeout);
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(_cluster.Settings.PartitionCount);
        var keys = Enumerable.Range(0, 40).Select(i => $"ttl-{i}").ToList();
        foreach (var key in keys)
            Assert.Equal(3, Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>("n1", new Put(B(key), B($"v-{key}"), null, new RequestOptions(W: 3), TtlMs: 1500))).Acks);
        Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>("n1", new Put(B("no-ttl"), B("stays"), null, new RequestOptions(W: 3))));

        // Every node reads them as not found once the deadline has passed (that this does not wait
        // for the clean-up is shown without a cluster: ExpiryTests and SiblingSetTests).
        var sw = Stopwatch.StartNew();
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            foreach (var node in Three)
                foreach (var key in keys)
                    Assert.IsType<NotFound>(await _cluster.AskAsync<IGetResponse>(node, new Get(B(key), new RequestOptions(R: 3))));
        });
        output.WriteLine($"every key read as not found on every node {sw.Elapsed.TotalSeconds:0.0} s after the writes");

        // Then tombstone GC purges the expired versions from every replica, and counts them.
        await InProcessCluster.EventuallyAsync(Timeout, async () =>
        {
            foreach (var key in keys)
                foreach (var (slot, held) in await ReplicaSetsAsync(key, owners, partitioner))
                    Assert.True(held.IsEmpty, $"{key} on {slot} ({owners[slot]}) still holds {held}");
            var status = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            Assert.True(status.AntiEntropy!.Sum(a => a.TombstonesPurged) >= keys.Count, "the status does not count the purges");
        });
        output.WriteLine($"all {keys.Count} expired keys purged from all 3 replicas {sw.Elapsed.TotalSeconds:0.0} s after the writes");
        Assert.Equal([B("stays")], Assert.IsType<GetSuccess>(await _cluster.AskAsync<IGetResponse>("n2", new Get(B("no-ttl"), new RequestOptions(R: 3)))).Values);
    }

    /// <summary>Blackholes <see cref="Cut"/> and waits until the other nodes see it unreachable.</summary>
    private async Task CutOffAsync()
    {
        await _cluster.SetBlackholeAsync(Cut, on: true);
        await InProcessCluster.EventuallyAsync(Timeout, () =>
        {
            foreach (var node in Three.Where(n => n != Cut))
                Assert.Contains(Akka.Cluster.Cluster.Get(_cluster.System(node)).State.Unreachable, m => ClusterMembership.NodeNameOf(m) == Cut);
            return Task.CompletedTask;
        });
    }

    /// <summary>What each replica slot of the key's partition holds for it, read locally on the slot's node.</summary>
    private async Task<List<(SlotId Slot, Versioning.SiblingSet Held)>> ReplicaSetsAsync(string key, Dictionary<SlotId, string> owners, Partitioner partitioner)
    {
        var partition = partitioner.PartitionOf(B(key));
        var sets = new List<(SlotId, Versioning.SiblingSet)>();
        for (var i = 0; i < _cluster.Settings.ReplicationFactor; i++)
        {
            var slot = new SlotId(partition, i);
            sets.Add((slot, (await _cluster.ReplicaReadAsync(owners[slot], slot, B(key))).Siblings));
        }
        return sets;
    }

    private static SlotId SlotOn(string node, string key, Dictionary<SlotId, string> owners, Partitioner partitioner, int n)
    {
        var partition = partitioner.PartitionOf(B(key));
        return Enumerable.Range(0, n).Select(i => new SlotId(partition, i)).Single(s => owners[s] == node);
    }

    private async Task<ulong> RootAsync(string node, SlotId slot)
    {
        var region = ClusterSharding.Get(_cluster.System(node)).ShardRegion(AkkaKvHosting.RegionName);
        var reply = await region.Ask<MerkleNodes>(new SlotEnvelope(slot, new MerkleNodesRequest(Interlocked.Increment(ref _nextId), 0, ValueList.From([0]))), TimeSpan.FromSeconds(10));
        return reply.Root;
    }

}
