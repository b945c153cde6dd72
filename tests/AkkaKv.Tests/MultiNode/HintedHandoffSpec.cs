using System.Diagnostics;
using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.HintedHandoff;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using AkkaKv.Sharding;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AkkaKv.Tests.MultiNode;

/// <summary>
/// Sloppy quorum and hinted handoff across real nodes: a node cut off by the throttle adapter's
/// blackhole (both directions), writes that keep succeeding without waiting for a timeout, hints
/// held where the coordinator's rules say, and drained into the cut-off node's own replica slots
/// once the link heals. Each test starts its own cluster (4 nodes: every partition has one
/// fallback; 3 nodes: none). The last three cover hints stored by concurrent puts, a live
/// replica slower than replica-ack-timeout, and a coordinator whose gateway has not yet heard
/// where a partition's slots live.
/// </summary>
public sealed class HintedHandoffSpec(ITestOutputHelper output) : IAsyncLifetime
{
    // The cut-off nodes must stay members while the test runs: no split-brain decision before
    // the partition has been stable for a minute (each test heals well before that). Faster
    // gossip and a short remoting flush only shorten joining and leaving; the failure detector
    // keeps the shipped settings (cluster.conf), so the detection times printed are real ones.
    private const string ClusterHocon = """
        akka.cluster.split-brain-resolver.stable-after = 60s
        akka-kv.request.timeout = 4s
        akka-kv.request.replica-ack-timeout = 1s
        akka.cluster.gossip-interval = 250ms
        akka.cluster.leader-actions-interval = 250ms
        akka.remote.flush-wait-on-shutdown = 250ms
        """;

    private InProcessCluster _cluster = new() { ExtraHocon = ClusterHocon };

    private static readonly string[] Four = ["n1", "n2", "n3", "n4"];
    private static readonly string[] Three = ["n1", "n2", "n3"];
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DetectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    private KvSettings Settings => _cluster.Settings;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static Bytes B(string s) => Bytes.FromUtf8(s);

    [Fact]
    public async Task Puts_at_W2_succeed_at_once_while_a_node_is_cut_off_and_its_hints_drain_into_its_replicas_after_heal()
    {
        await _cluster.StartSettledAsync(Four, SettleTimeout);
        var settings = Settings;
        const string cut = "n3";
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(settings.PartitionCount);
        var ring = new HashRing(Four, settings.VirtualNodesPerNode);

        // 24 keys: those whose partition has a slot on the cut-off node get a hint each, held by
        // the partition's one fallback (the fourth node, not among its primaries).
        var keys = Enumerable.Range(0, 24).Select(i => $"hh-{i}").ToList();
        var onCut = new Dictionary<string, (SlotId Slot, string Fallback)>();
        foreach (var key in keys)
        {
            var partition = partitioner.PartitionOf(B(key));
            var preference = PreferenceList.For(partition, settings.ReplicationFactor, ring, partitioner);
            var slotNodes = Enumerable.Range(0, settings.ReplicationFactor).ToDictionary(i => i, i => owners[new SlotId(partition, i)]);
            Assert.Equal(preference.Primaries.Order(StringComparer.Ordinal), slotNodes.Values.Order(StringComparer.Ordinal));
            if (slotNodes.Where(kv => kv.Value == cut).Select(kv => (int?)kv.Key).SingleOrDefault() is { } index)
                onCut[key] = (new SlotId(partition, index), Assert.Single(preference.Fallbacks));
        }
        output.WriteLine($"{onCut.Count} of {keys.Count} keys have a replica slot on {cut}; fallbacks holding their hints: " +
            string.Join(", ", onCut.Values.GroupBy(v => v.Fallback).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}")));
        Assert.InRange(onCut.Count, 1, keys.Count - 1);
        var expectedHeld = onCut.Values.GroupBy(v => v.Fallback).ToDictionary(g => g.Key, g => g.Count());

        // Each coordinator has served its keys once before the cut, so it knows where their slots
        // are (a gateway that has not is the last test).
        string[] coordinators = ["n1", "n2", "n4"];
        for (var i = 0; i < keys.Count; i++) await LearnSlotNodesAsync(coordinators[i % coordinators.Length], keys[i]);

        var cutAt = Stopwatch.StartNew();
        await _cluster.SetBlackholeAsync(cut, on: true);
        try
        {
            await AwaitReachabilityAsync(cut, Four.Where(n => n != cut), reachable: false, DetectTimeout);
            var detected = cutAt.Elapsed;
            output.WriteLine($"{cut} seen unreachable by every other node {detected.TotalSeconds:0.0} s after the cut");

            var latencies = new List<TimeSpan>();
            for (var i = 0; i < keys.Count; i++)
            {
                var started = Stopwatch.StartNew();
                var reply = await _cluster.AskAsync<IWriteResponse>(coordinators[i % coordinators.Length],
                    new Put(B(keys[i]), B($"v{i}"), null, new RequestOptions(W: 2)));
                latencies.Add(started.Elapsed);
                var ok = Assert.IsType<WriteSuccess>(reply);
                Assert.Equal(2, ok.Acks);
            }
            output.WriteLine($"put latency while {cut} is cut off: max {latencies.Max().TotalMilliseconds:0} ms, median {latencies.Order().ElementAt(latencies.Count / 2).TotalMilliseconds:0} ms (request.timeout {settings.RequestTimeout.TotalMilliseconds:0} ms)");
            Assert.All(latencies, l => Assert.True(l < settings.RequestTimeout / 2, $"a put took {l.TotalMilliseconds:0} ms"));

            // Each write whose partition has a slot on the cut-off node is one hint, on that partition's fallback.
            await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(10), async () =>
            {
                foreach (var node in Four.Where(n => n != cut))
                    Assert.Equal((node, expectedHeld.GetValueOrDefault(node)), (node, HeldFor(await _cluster.HintStatsAsync(node), cut)));
            });

            // The status still places every slot: the cut-off node's slots stay where they were (its
            // region cannot answer, so they are shown as last known, with a warning saying so).
            var status = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            Assert.False(Assert.Single(status.Members, m => m.Node == cut).Reachable);
            Assert.Equal(0, status.UnallocatedSlots);
            Assert.Equal(owners.Count(kv => kv.Value == cut), status.SlotsPerNode.Single(kv => kv.Key == cut).Value);
            Assert.Contains($"shard region of {cut} is unreachable or did not answer", status.Warning ?? "");

            // The cut-off node's own slots do not have these writes yet (read locally on it).
            foreach (var (key, (slot, _)) in onCut)
                Assert.Empty((await _cluster.ReplicaReadAsync(cut, slot, B(key))).Siblings.Values);
        }
        finally
        {
            await _cluster.SetBlackholeAsync(cut, on: false);
        }

        var healedAt = Stopwatch.StartNew();
        await AwaitReachabilityAsync(cut, Four.Where(n => n != cut), reachable: true, DetectTimeout);
        var reachableAgain = healedAt.Elapsed;
        await AwaitDrainedAsync(cut, Four, expectedHeld,
            onCut.ToDictionary(kv => kv.Key, kv => (kv.Value.Slot, $"v{keys.IndexOf(kv.Key)}", kv.Value.Fallback)), DrainTimeout);
        output.WriteLine($"after heal: {cut} reachable again in {reachableAgain.TotalSeconds:0.0} s; {onCut.Count} hints drained {healedAt.Elapsed.TotalSeconds:0.0} s after heal");

        foreach (var (key, (slot, _)) in onCut)
        {
            var held = await _cluster.ReplicaReadAsync(cut, slot, B(key));
            Assert.Equal(cut, held.Node);
            Assert.Equal([B($"v{keys.IndexOf(key)}")], held.Siblings.Values);
        }
    }

    [Fact]
    public async Task With_two_of_three_primaries_cut_off_a_strict_put_fails_fast_and_a_sloppy_put_succeeds_through_a_fallback_hint()
    {
        await _cluster.StartSettledAsync(Four, SettleTimeout);
        var settings = Settings;
        string[] cut = ["n3", "n4"];
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(settings.PartitionCount);
        var ring = new HashRing(Four, settings.VirtualNodesPerNode);

        // A key whose primaries include both cut-off nodes: one live primary, one live fallback.
        var (key, preference) = Enumerable.Range(0, 1000).Select(i => $"strict-{i}")
            .Select(k => (k, PreferenceList.For(partitioner.PartitionOf(B(k)), settings.ReplicationFactor, ring, partitioner)))
            .First(x => cut.All(x.Item2.Primaries.Contains));
        var partition = preference.Partition;
        var live = Assert.Single(preference.Primaries, n => !cut.Contains(n));
        var fallback = Assert.Single(preference.Fallbacks);
        var slots = Enumerable.Range(0, settings.ReplicationFactor).ToDictionary(i => i, i => owners[new SlotId(partition, i)]);
        Assert.Equal(preference.Primaries.Order(StringComparer.Ordinal), slots.Values.Order(StringComparer.Ordinal));
        // The coordinator hints the unreachable slots in index order: the first to the fallback
        // (counted), the second to its own node (a holder of the partition already: not counted).
        var cutSlots = slots.Where(kv => cut.Contains(kv.Value)).OrderBy(kv => kv.Key).Select(kv => kv.Value).ToList();
        output.WriteLine($"key {key}: partition {partition}, slots {string.Join(" ", slots.Select(kv => $"{kv.Key}={kv.Value}"))}, fallback {fallback}, coordinating through {live}");
        await LearnSlotNodesAsync(live, key);

        var cutAt = Stopwatch.StartNew();
        foreach (var node in cut) await _cluster.SetBlackholeAsync(node, on: true);
        try
        {
            foreach (var node in cut) await AwaitReachabilityAsync(node, Four.Except(cut), reachable: false, DetectTimeout);
            output.WriteLine($"{string.Join(" and ", cut)} seen unreachable {cutAt.Elapsed.TotalSeconds:0.0} s after the cut");

            var started = Stopwatch.StartNew();
            var strict = await _cluster.AskAsync<IWriteResponse>(live, new Put(B(key), B("strict"), null, new RequestOptions(W: 2, Sloppy: false)));
            var strictTook = started.Elapsed;
            var failed = Assert.IsType<RequestFailed>(strict);
            output.WriteLine($"strict put failed in {strictTook.TotalMilliseconds:0} ms: {failed.Reason}");
            Assert.Contains("strict quorum (sloppy=0)", failed.Reason);
            Assert.True(strictTook < settings.RequestTimeout / 2, $"the strict put took {strictTook.TotalMilliseconds:0} ms to fail");
            Assert.Equal((0, 2), (failed.Acks, failed.Required));

            started.Restart();
            var sloppy = await _cluster.AskAsync<IWriteResponse>(live, new Put(B(key), B("sloppy"), null, new RequestOptions(W: 2)));
            var sloppyTook = started.Elapsed;
            output.WriteLine($"sloppy put: {sloppy} in {sloppyTook.TotalMilliseconds:0} ms");
            Assert.Equal(2, Assert.IsType<WriteSuccess>(sloppy).Acks);
            Assert.True(sloppyTook < settings.RequestTimeout / 2, $"the sloppy put took {sloppyTook.TotalMilliseconds:0} ms");

            // Exactly these hints exist: the failed strict put left none.
            await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(10), async () =>
            {
                Assert.Equal(new[] { (cutSlots[0], 1) }, Held(await _cluster.HintStatsAsync(fallback)));
                Assert.Equal(new[] { (cutSlots[1], 1) }, Held(await _cluster.HintStatsAsync(live)));
            });
        }
        finally
        {
            foreach (var node in cut) await _cluster.SetBlackholeAsync(node, on: false);
        }
    }

    [Fact]
    public async Task On_three_nodes_puts_at_W2_succeed_while_one_is_cut_off_the_coordinators_hold_its_hints_and_they_drain_after_heal()
    {
        await _cluster.StartSettledAsync(Three, SettleTimeout);
        var settings = Settings;
        const string cut = "n3";
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(settings.PartitionCount);
        // With N members there are no fallbacks: every partition has exactly one slot on each node.
        var keys = Enumerable.Range(0, 12).Select(i => $"h3-{i}").ToList();
        var slotOnCut = keys.ToDictionary(k => k, k =>
        {
            var partition = partitioner.PartitionOf(B(k));
            return Assert.Single(Enumerable.Range(0, settings.ReplicationFactor).Select(i => new SlotId(partition, i)), s => owners[s] == cut);
        });

        // As in the first test, each coordinator has served its keys once before the cut.
        string[] coordinators = ["n1", "n2"];
        for (var i = 0; i < keys.Count; i++) await LearnSlotNodesAsync(coordinators[i % 2], keys[i]);

        var cutAt = Stopwatch.StartNew();
        await _cluster.SetBlackholeAsync(cut, on: true);
        try
        {
            await AwaitReachabilityAsync(cut, Three.Where(n => n != cut), reachable: false, DetectTimeout);
            output.WriteLine($"{cut} seen unreachable by n1 and n2 {cutAt.Elapsed.TotalSeconds:0.0} s after the cut");

            var latencies = new List<TimeSpan>();
            for (var i = 0; i < keys.Count; i++)
            {
                var started = Stopwatch.StartNew();
                var reply = await _cluster.AskAsync<IWriteResponse>(coordinators[i % 2], new Put(B(keys[i]), B($"v{i}"), null, new RequestOptions(W: 2)));
                latencies.Add(started.Elapsed);
                Assert.Equal(2, Assert.IsType<WriteSuccess>(reply).Acks);
            }
            output.WriteLine($"put latency while {cut} is cut off: max {latencies.Max().TotalMilliseconds:0} ms");
            Assert.All(latencies, l => Assert.True(l < settings.RequestTimeout / 2, $"a put took {l.TotalMilliseconds:0} ms"));

            // The hint a coordinator holds on its own node does not count: W=3 cannot be met, and says so at once.
            var started3 = Stopwatch.StartNew();
            var w3 = Assert.IsType<RequestFailed>(await _cluster.AskAsync<IWriteResponse>("n1", new Put(B("h3-w3"), B("x"), null, new RequestOptions(W: 3))));
            output.WriteLine($"W=3 put failed in {started3.Elapsed.TotalMilliseconds:0} ms: {w3.Reason}");
            Assert.Contains("sloppy quorum cannot be met", w3.Reason);
            Assert.True(started3.Elapsed < settings.RequestTimeout / 2, $"the W=3 put took {started3.Elapsed.TotalMilliseconds:0} ms to fail");

            // Each coordinator holds the hints of the writes it coordinated.
            await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(10), async () =>
            {
                foreach (var node in coordinators)
                    Assert.Equal((node, keys.Count / 2), (node, HeldFor(await _cluster.HintStatsAsync(node), cut)));
            });
            foreach (var (key, slot) in slotOnCut)
                Assert.Empty((await _cluster.ReplicaReadAsync(cut, slot, B(key))).Siblings.Values);
        }
        finally
        {
            await _cluster.SetBlackholeAsync(cut, on: false);
        }

        var healedAt = Stopwatch.StartNew();
        await AwaitReachabilityAsync(cut, Three.Where(n => n != cut), reachable: true, DetectTimeout);
        await AwaitDrainedAsync(cut, Three, coordinators.ToDictionary(c => c, _ => keys.Count / 2),
            keys.ToDictionary(k => k, k => (slotOnCut[k], $"v{keys.IndexOf(k)}", coordinators[keys.IndexOf(k) % 2])), DrainTimeout);
        output.WriteLine($"{keys.Count} hints drained {healedAt.Elapsed.TotalSeconds:0.0} s after heal");

        foreach (var (key, slot) in slotOnCut)
            Assert.Equal([B($"v{keys.IndexOf(key)}")], (await _cluster.ReplicaReadAsync(cut, slot, B(key))).Siblings.Values);
    }

    [Fact]
    public async Task Hints_stored_at_once_by_concurrent_puts_all_drain_into_the_cut_off_replicas()
    {
        await _cluster.StartSettledAsync(Three, SettleTimeout);
        var settings = Settings;
        const string cut = "n3";
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(settings.PartitionCount);
        var keys = Enumerable.Range(0, 16).Select(i => $"burst-{i}").ToList();
        var slotOnCut = keys.ToDictionary(k => k, k =>
        {
            var partition = partitioner.PartitionOf(B(k));
            return Assert.Single(Enumerable.Range(0, settings.ReplicationFactor).Select(i => new SlotId(partition, i)), s => owners[s] == cut);
        });
        foreach (var key in keys) await LearnSlotNodesAsync("n1", key);

        await _cluster.SetBlackholeAsync(cut, on: true);
        try
        {
            await AwaitReachabilityAsync(cut, Three.Where(n => n != cut), reachable: false, DetectTimeout);
            // Many clients at once through one node: that node's hint actor gets the next hint
            // while the previous ones are still being written to its journal.
            var replies = await Task.WhenAll(keys.Select((key, i) =>
                _cluster.AskAsync<IWriteResponse>("n1", new Put(B(key), B($"v{i}"), null, new RequestOptions(W: 2)))));
            Assert.All(replies, reply => Assert.Equal(2, Assert.IsType<WriteSuccess>(reply).Acks));
            await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(10), async () => Assert.Equal(keys.Count, HeldFor(await _cluster.HintStatsAsync("n1"), cut)));
        }
        finally
        {
            await _cluster.SetBlackholeAsync(cut, on: false);
        }

        var healedAt = Stopwatch.StartNew();
        await AwaitReachabilityAsync(cut, Three.Where(n => n != cut), reachable: true, DetectTimeout);
        // A drain takes about two seconds; the bound leaves room for one replay-timeout (10 s),
        // should a replayed hint be lost in transit.
        await AwaitDrainedAsync(cut, Three, new Dictionary<string, int> { ["n1"] = keys.Count },
            keys.ToDictionary(k => k, k => (slotOnCut[k], $"v{keys.IndexOf(k)}", "n1")), TimeSpan.FromSeconds(15));
        output.WriteLine($"{keys.Count} hints stored at once drained {healedAt.Elapsed.TotalSeconds:0.0} s after heal");
        foreach (var (key, slot) in slotOnCut)
            Assert.Equal([B($"v{keys.IndexOf(key)}")], (await _cluster.ReplicaReadAsync(cut, slot, B(key))).Siblings.Values);
    }

    [Fact]
    public async Task A_put_counts_a_live_replicas_ack_that_comes_after_replica_ack_timeout_but_within_the_request_timeout()
    {
        await _cluster.StartSettledAsync(Three, SettleTimeout);
        var settings = Settings;
        const string cut = "n3", coordinator = "n1", slow = "n2";
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(settings.PartitionCount);
        // A key whose coordinating replica (the lowest slot index on a reachable node) is on n1.
        var key = Enumerable.Range(0, 1000).Select(i => $"late-{i}").First(k =>
        {
            var slots = Enumerable.Range(0, settings.ReplicationFactor).Select(i => owners[new SlotId(partitioner.PartitionOf(B(k)), i)]).ToList();
            return slots.IndexOf(coordinator) < slots.IndexOf(slow);
        });
        var partition = partitioner.PartitionOf(B(key));
        var slowSlot = Enumerable.Range(0, settings.ReplicationFactor).Select(i => new SlotId(partition, i)).Single(s => owners[s] == slow);
        await LearnSlotNodesAsync(coordinator, key);

        // The slot on n2 restarts (as after a node restart or a move): it first catches up from its
        // peers, and with the one on n3 cut off it serves only after catch-up-timeout. A live replica
        // slower than replica-ack-timeout, deterministically.
        await _cluster.StopReplicaAsync(slow, slowSlot);
        await _cluster.SetBlackholeAsync(cut, on: true);
        try
        {
            await AwaitReachabilityAsync(cut, Three.Where(n => n != cut), reachable: false, DetectTimeout);
            // W=2 is met once the slow replica acks; the request timeout leaves it ample time.
            var timeout = settings.CatchUpTimeout * 3;
            output.WriteLine($"key {key}: partition {partition}, slots {string.Join(" ", Enumerable.Range(0, settings.ReplicationFactor).Select(i => $"{i}={owners[new SlotId(partition, i)]}"))}; " +
                $"{slowSlot} on {slow} restarting; replica-ack-timeout {settings.ReplicaAckTimeout.TotalMilliseconds:0} ms, catch-up-timeout {settings.CatchUpTimeout.TotalMilliseconds:0} ms, request timeout {timeout.TotalMilliseconds:0} ms");
            var started = Stopwatch.StartNew();
            var reply = await _cluster.AskAsync<IWriteResponse>(coordinator, new Put(B(key), B("v"), null, new RequestOptions(W: 2, Timeout: timeout)));
            var answeredAfter = started.Elapsed;
            output.WriteLine($"put: {reply} after {answeredAfter.TotalMilliseconds:0} ms");

            // The slow replica does get the write, well within the request timeout.
            await InProcessCluster.EventuallyAsync(timeout, async () => Assert.Contains(B("v"), (await _cluster.ReplicaReadAsync(slow, slowSlot, B(key))).Siblings.Values));
            var slowHeldAfter = started.Elapsed;
            output.WriteLine($"{slowSlot} on {slow} held the write {slowHeldAfter.TotalMilliseconds:0} ms after the put started");
            Assert.True(reply is WriteSuccess { Acks: 2 },
                $"the put answered {reply} after {answeredAfter.TotalMilliseconds:0} ms, although {slowSlot} on {slow} held the write " +
                $"{slowHeldAfter.TotalMilliseconds:0} ms after the put started, within the {timeout.TotalMilliseconds:0} ms request timeout");
        }
        finally
        {
            await _cluster.SetBlackholeAsync(cut, on: false);
        }
    }

    [Fact]
    public async Task After_a_join_a_gateway_that_never_served_a_partition_writes_its_reachable_replicas_and_hints_only_the_cut_off_one()
    {
        // Slots keep their index when a node joins (only the slot of the node that left the
        // preference set moves), so which node hosts slot i is history, not a function of the ring.
        await _cluster.StartSettledAsync(Three, SettleTimeout);
        await _cluster.StartAsync("n4", seed: "n1");
        foreach (var node in Four) await _cluster.AwaitSettledAsync(node, Four, SettleTimeout);
        var settings = Settings;
        var owners = await _cluster.SlotOwnersAsync("n1");
        var partitioner = new Partitioner(settings.PartitionCount);
        var ring = new HashRing(Four, settings.VirtualNodesPerNode);
        var n = settings.ReplicationFactor;

        // A slot whose node differs from where the ring alone would put it (slot i on the i-th
        // primary: what a gateway assumes for a slot it has not heard from).
        var mismatch = Enumerable.Range(0, settings.PartitionCount)
            .Select(p => PreferenceList.For(p, n, ring, partitioner))
            .SelectMany(pref => Enumerable.Range(0, n).Select(i => (Pref: pref, Slot: new SlotId(pref.Partition, i),
                Node: owners[new SlotId(pref.Partition, i)], Guess: SlotPlacement.Assign(n, new string?[n], pref.Primaries)[i])))
            .Where(x => x.Node != "n1" && x.Node != x.Guess)
            .Select(x => (x.Pref, x.Slot, x.Node, x.Guess)).ToList();
        Assert.True(mismatch.Count > 0, "after n4 joined, no slot sits off its ring-only position: nothing to check");
        var (preference, slotOnCut, cut, guess) = mismatch[0];
        var fallback = Assert.Single(preference.Fallbacks);
        var coordinator = Four.First(node => node != cut);
        var key = Enumerable.Range(0, 10_000).Select(i => $"cold-{i}").First(k => partitioner.PartitionOf(B(k)) == preference.Partition);
        var slots = Enumerable.Range(0, n).Select(i => new SlotId(preference.Partition, i)).ToList();
        output.WriteLine($"{mismatch.Count} slot(s) off their ring-only position; key {key}: partition {preference.Partition}, slots " +
            string.Join(" ", slots.Select(s => $"{s.Index}={owners[s]}")) + $" (ring-only guess for slot {slotOnCut.Index}: {guess}); cutting {cut}, fallback {fallback}, coordinating through {coordinator}, which has served no request");
        // Every replica of the partition is started and caught up while all nodes are reachable
        // (a read through another node), so only the coordinator's knowledge is missing.
        await LearnSlotNodesAsync(Four.First(node => node != cut && node != coordinator), key);

        await _cluster.SetBlackholeAsync(cut, on: true);
        try
        {
            await AwaitReachabilityAsync(cut, Four.Where(node => node != cut), reachable: false, DetectTimeout);
            var started = Stopwatch.StartNew();
            var reply = await _cluster.AskAsync<IWriteResponse>(coordinator, new Put(B(key), B("v"), null, new RequestOptions(W: 2)));
            output.WriteLine($"put: {reply} in {started.Elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(2, Assert.IsType<WriteSuccess>(reply).Acks);

            // One hint, for the cut-off node's slot, on the fallback; every slot on a reachable node has the write.
            var expected = $"hints held: {fallback} for {cut} x1; reachable slots without the write: none";
            await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(5), async () =>
            {
                var held = new List<string>();
                foreach (var node in Four.Where(node => node != cut))
                    held.AddRange(Held(await _cluster.HintStatsAsync(node)).Select(h => $"{node} for {h.Target} x{h.Held}"));
                var stale = new List<string>();
                foreach (var slot in slots.Where(s => owners[s] != cut))
                    if (!(await _cluster.ReplicaReadAsync(owners[slot], slot, B(key))).Siblings.Values.Contains(B("v")))
                        stale.Add($"{slot} on {owners[slot]}");
                var actual = $"hints held: {string.Join(", ", held)}; reachable slots without the write: {(stale.Count == 0 ? "none" : string.Join(", ", stale))}";
                Assert.True(actual == expected, $"\nexpected {expected}\nactual   {actual}");
            });
        }
        finally
        {
            await _cluster.SetBlackholeAsync(cut, on: false);
        }
    }

    /// <summary>
    /// A read at R=N through <paramref name="node"/>: its gateway learns from the replies which
    /// node hosts each slot of the key's partition (as a gateway does from its first requests).
    /// </summary>
    private async Task LearnSlotNodesAsync(string node, string key) =>
        Assert.IsType<NotFound>(await _cluster.AskAsync<IGetResponse>(node, new Get(B(key), new RequestOptions(R: 3))));

    /// <summary>
    /// Waits until no node holds a hint for <paramref name="cut"/> and each has replayed exactly
    /// its share to it; on failure, prints which writes the cut-off node's slots still lack.
    /// </summary>
    private async Task AwaitDrainedAsync(string cut, IEnumerable<string> nodes, IReadOnlyDictionary<string, int> replayedBy,
        Dictionary<string, (SlotId Slot, string Value, string Holder)> writes, TimeSpan timeout)
    {
        try
        {
            await InProcessCluster.EventuallyAsync(timeout, async () =>
            {
                var stats = await Task.WhenAll(nodes.Select(_cluster.HintStatsAsync));
                Assert.All(stats, s => Assert.Equal((s.Node, 0, (long)replayedBy.GetValueOrDefault(s.Node)), (s.Node, HeldFor(s, cut), ReplayedTo(s, cut))));
            });
        }
        catch (XunitException)
        {
            await PrintMissingAsync(cut, writes);
            throw;
        }
    }

    /// <summary>Which writes the cut-off node's slots still lack, and whose hint they wait for.</summary>
    private async Task PrintMissingAsync(string cut, Dictionary<string, (SlotId Slot, string Value, string Holder)> writes)
    {
        foreach (var (key, (slot, value, holder)) in writes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            string state;
            try { state = (await _cluster.ReplicaReadAsync(cut, slot, B(key))).Siblings.Values.Contains(B(value)) ? "" : "lacks it"; }
            catch (Akka.Actor.AskTimeoutException) { state = "does not answer"; }
            if (state != "") output.WriteLine($"not drained: {key} ({value}) for slot {slot} on {cut}, hint held by {holder}: the slot {state}");
        }
    }

    private static int HeldFor(HintStats stats, string target) => stats.Targets.FirstOrDefault(t => t.Target == target)?.Held ?? 0;

    private static long ReplayedTo(HintStats stats, string target) => stats.Targets.FirstOrDefault(t => t.Target == target)?.Replayed ?? 0;

    private static List<(string Target, int Held)> Held(HintStats stats) =>
        stats.Targets.Where(t => t.Held > 0).Select(t => (t.Target, t.Held)).ToList();

    /// <summary>Polls until every one of <paramref name="observers"/> sees <paramref name="node"/> as (un)reachable.</summary>
    private async Task AwaitReachabilityAsync(string node, IEnumerable<string> observers, bool reachable, TimeSpan timeout) =>
        await InProcessCluster.EventuallyAsync(timeout, () =>
        {
            foreach (var observer in observers)
            {
                var cluster = Akka.Cluster.Cluster.Get(_cluster.System(observer));
                var state = cluster.State;
                var unreachable = state.Unreachable.Any(m => ClusterMembership.NodeNameOf(m) == node);
                Assert.True(unreachable != reachable, $"{observer} sees {node} {(unreachable ? "unreachable" : "reachable")}");
                // The gateway routes around a node only when this node's own failure detector
                // agrees with the gossip (a thawed node's stale view must not refuse puts), and
                // the gossip can say so first, from another observer.
                if (!reachable && state.Members.FirstOrDefault(m => ClusterMembership.NodeNameOf(m) == node) is { } member)
                    Assert.False(cluster.FailureDetector.IsAvailable(member.Address), $"{observer}'s own failure detector still finds {node} available");
                Assert.Contains(state.Members, m => ClusterMembership.NodeNameOf(m) == node && m.Status == Akka.Cluster.MemberStatus.Up);
            }
            return Task.CompletedTask;
        });
}
