using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.Persistence.Sql;
using AkkaKv.Configuration;
using AkkaKv.Hosting;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using AkkaKv.Tests.Core;
using AkkaKv.Versioning;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// A replica slot against the real journal: Akka.Persistence.Sql on a SQLite file in a fresh
/// temp dir per test, events and snapshots through KvSerializer, as on a node.
/// </summary>
public sealed class ReplicaActorSpec : Akka.TestKit.Xunit2.TestKit
{
    // A slot whose snapshot stagger (SnapshotSchedule) is 0 at snapshot-every = 3, so the
    // snapshot specs below count events from the first one; A_slot_with_a_stagger_... covers the rest.
    private const string EntityId = "10/0";
    private static readonly SlotId Slot = new(10, 0);
    // An upper bound, not a sleep: a replica's first write opens its SQLite journal, which takes
    // seconds when the multi-node specs load both cores beside it (CI saw 5 s exceeded once).
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private readonly string _dir;
    private readonly KvSettings _settings = DefaultSettings();
    private long _nextRequestId;

    public ReplicaActorSpec(ITestOutputHelper output) : this(NewDataDir(), output) { }

    private ReplicaActorSpec(string dir, ITestOutputHelper output) : base(SystemConfig(dir), "replica-spec", output) => _dir = dir;

    private static string NewDataDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "akkakv-replica-spec-" + Guid.NewGuid().ToString("N"));
        AkkaKvHosting.PrepareSqlite(dir);
        return dir;
    }

    private static Config SystemConfig(string dir) =>
        ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = INFO").WithFallback(SqliteJournal.Config(dir));

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { /* best effort: a temp dir */ }
        catch (UnauthorizedAccessException) { }
    }

    // ---- catch-up from peers when a replica starts ----

    /// <summary>A replica whose peers are answered by a <see cref="FakePeerRegion"/>; <paramref name="observer"/> sees what it sends them.</summary>
    private (IActorRef Replica, IActorRef Region) StartReplicaWithPeers(TestProbe observer, KvSettings? settings = null, params (int Index, FakePeerRegion.Peer Peer)[] peers)
    {
        settings ??= _settings;
        var region = Sys.ActorOf(FakePeerRegion.PropsFor(settings, Slot, observer.Ref));
        foreach (var (index, peer) in peers) region.Tell(new FakePeerRegion.SetPeer(index, peer));
        var replica = Sys.ActorOf(ReplicaActor.PropsFor(settings, EntityId, TimeProvider.System, () => region));
        region.Tell(new FakePeerRegion.Serve(replica));
        return (replica, region);
    }

    private FakePeerRegion.Peer PeerState(IActorRef region, int index) =>
        region.Ask<FakePeerRegion.Peer>(new FakePeerRegion.GetPeer(index), Wait).GetAwaiter().GetResult();

    /// <summary>Every command the replica sent its peers until <paramref name="quiet"/> passes with none.</summary>
    private static List<SlotEnvelope> Drain(TestProbe observer, TimeSpan? quiet = null) =>
        observer.ReceiveWhile<SlotEnvelope>(quiet ?? TimeSpan.FromMilliseconds(300), m => m as SlotEnvelope ?? throw new InvalidOperationException($"unexpected {m}")).ToList();

    [Fact]
    public void A_starting_replica_holds_its_peers_writes_before_it_answers_a_read()
    {
        var observer = CreateTestProbe();
        var peerVersion = SiblingSet.Of([Foreign("n9/1.00000001", 3, "acked-while-away")]);
        var (replica, region) = StartReplicaWithPeers(observer, null, (1, FakePeerRegion.Peer.Of(0, ("k", peerVersion))));
        region.Tell(new FakePeerRegion.Hold(1));

        // A read sent while the replica is catching up waits for it.
        replica.Tell(new ReplicaRead(1, B("k")), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        region.Tell(new FakePeerRegion.Release(1));

        var result = ExpectMsg<ReplicaReadResult>(Wait);
        Assert.Equal(peerVersion, result.Siblings);

        // The caught-up version is durable in this node's journal: it survives a restart.
        StopAndAwaitTermination(replica);
        Assert.Equal(peerVersion, Read(StartReplica(), B("k")));
    }

    [Fact]
    public void The_node_counts_a_slot_as_catching_up_from_its_start_until_it_serves_and_not_after_it_stops()
    {
        // What `akkakv status` reports as "slots catching up" comes from these messages.
        var antiEntropy = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new ForwardCatchUpStates(antiEntropy.Ref)), AkkaKv.AntiEntropy.AntiEntropyActor.Name);
        var observer = CreateTestProbe();
        var (replica, region) = StartReplicaWithPeers(observer);
        region.Tell(new FakePeerRegion.Hold(1));
        Assert.Equal(new SlotCatchUpState(Slot, true), antiEntropy.ExpectMsg<SlotCatchUpState>(Wait));
        // Held by a silent peer: still catching up, nothing says otherwise.
        Assert.All(antiEntropy.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => (SlotCatchUpState)m), m => Assert.True(m.CatchingUp));

        region.Tell(new FakePeerRegion.Release(1));
        Assert.Equal(new SlotCatchUpState(Slot, false), antiEntropy.FishForMessage<SlotCatchUpState>(m => !m.CatchingUp, Wait));
        StopAndAwaitTermination(replica);
        Assert.Equal(new SlotCatchUpState(Slot, false), antiEntropy.ExpectMsg<SlotCatchUpState>(Wait));
    }

    private sealed class ForwardCatchUpStates : ReceiveActor
    {
        public ForwardCatchUpStates(IActorRef to) => Receive<SlotCatchUpState>(m => to.Forward(m));
    }

    [Fact]
    public void A_replica_catching_up_declines_a_put_its_coordinator_can_send_elsewhere_and_holds_one_it_cannot()
    {
        var observer = CreateTestProbe();
        var (replica, region) = StartReplicaWithPeers(observer);
        region.Tell(new FakePeerRegion.Hold(1));
        replica.Tell(new ReplicaPut(1, B("k"), B("v"), null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), MayDecline: true), TestActor);
        Assert.Equal(Slot, ExpectMsg<ReplicaNotReady>(Wait).Slot);

        replica.Tell(new ReplicaPut(2, B("k"), B("v"), null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), MayDecline: false), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        region.Tell(new FakePeerRegion.Release(1));
        Assert.Equal(2, ExpectMsg<ReplicaPutDone>(Wait).RequestId);
        // Nothing of the declined put was written: one version only.
        Assert.Equal(1, Read(replica, B("k")).Count);
    }

    [Fact]
    public void Catch_up_moves_only_the_keys_that_differ_both_ways()
    {
        // This journal holds 100 keys; the peer has 99 of them, plus one written while this node was away.
        var observer = CreateTestProbe();
        var (replica, _) = StartReplicaWithPeers(observer);
        var versions = new List<(string, SiblingSet)>();
        for (var i = 0; i < 100; i++) versions.Add(($"k{i:D3}", Put(replica, B($"k{i:D3}"), B("v"), null).Siblings));
        StopAndAwaitTermination(replica);
        Drain(observer);

        var missed = SiblingSet.Of([Foreign("n9/1.00000001", 1, "written-while-away")]);
        var peer = FakePeerRegion.Peer.Of(0, [.. versions.Where(v => v.Item1 != "k042"), ("new", missed)]);
        var (restarted, region) = StartReplicaWithPeers(observer, null, (1, peer), (2, peer));
        Assert.Equal(missed, Read(restarted, B("new")));

        var sent = Drain(observer);
        var fetched = sent.Select(e => e.Command).OfType<ReplicaFetch>().SelectMany(f => f.Keys).Select(k => k.ToUtf8()).Distinct().Order().ToList();
        Assert.Equal(["k042", "new"], fetched);
        var merged = sent.Where(e => e.Command is ReplicaMerge).Select(e => (e.Slot.Index, ((ReplicaMerge)e.Command).Key.ToUtf8())).Order().ToList();
        Assert.Equal([(1, "k042"), (2, "k042")], merged);
        Assert.Equal(versions.Single(v => v.Item1 == "k042").Item2, PeerState(region, 1).Keys[B("k042")]);
    }

    [Fact]
    public void Catch_up_repeats_exchanges_until_a_peer_with_more_differing_keys_than_one_exchange_repairs_is_in_sync()
    {
        var observer = CreateTestProbe();
        var keys = Enumerable.Range(0, 7).Select(i => ($"k{i}", SiblingSet.Of([Foreign("n9/1.00000001", i + 1, $"v{i}")]))).ToArray();
        var (replica, _) = StartReplicaWithPeers(observer, _settings with { CatchUpMaxKeys = 2 }, (1, FakePeerRegion.Peer.Of(0, keys)));
        foreach (var (key, version) in keys) Assert.Equal(version, Read(replica, B(key)));
        Assert.True(Drain(observer).Count(e => e.Command is ReplicaFetch && e.Slot.Index == 1) >= 4, "7 keys at 2 per exchange take at least 4 exchanges");
    }

    // ---- repair paged by bytes (limits.max-repair-reply-bytes) ----

    /// <summary>akka.remote's maximum-frame-size on a node (hocon/cluster.conf): a larger frame is dropped.</summary>
    private const long FrameBytes = 32 * 1024 * 1024;

    private static readonly string[] FortyKeys = Enumerable.Range(0, 40).Select(i => $"big{i:D2}").ToArray();

    /// <summary>A full-size value (limits.max-value-bytes), its bytes naming its key's index.</summary>
    private Bytes BigValue(int i)
    {
        var data = new byte[_settings.MaxValueBytes];
        Array.Fill(data, (byte)i);
        data[0] = (byte)'v';
        return Bytes.Wrap(data);
    }

    private long FrameOf(object message) => Sys.Serialization.FindSerializerFor(message).ToBinary(message).LongLength;

    [Fact]
    public void A_replica_answers_a_fetch_of_forty_1_MiB_values_in_pages_that_each_fit_a_remoting_frame()
    {
        var replica = StartReplica();
        for (var i = 0; i < FortyKeys.Length; i++) Put(replica, B(FortyKeys[i]), BigValue(i), null);

        // As an exchange does: ask for the keys not yet received, until every one came.
        var received = new List<string>();
        while (received.Count < FortyKeys.Length)
        {
            var asked = FortyKeys.Skip(received.Count).ToList();
            replica.Tell(new ReplicaFetch(++_nextRequestId, ValueList.From(asked.Select(k => B(k)))), TestActor);
            var page = ExpectMsg<ReplicaFetched>(Wait);
            var frame = FrameOf(page);
            Assert.True(frame < FrameBytes, $"a reply of {frame} bytes would be dropped by Akka.Remote");
            Assert.True(frame <= _settings.MaxRepairReplyBytes, $"a reply of {frame} bytes is over limits.max-repair-reply-bytes ({_settings.MaxRepairReplyBytes})");
            // A prefix of the keys asked, in their order, never empty: every fetch makes progress.
            Assert.NotEmpty(page.Entries);
            Assert.Equal(asked.Take(page.Entries.Count), page.Entries.Select(e => e.Key.ToUtf8()));
            foreach (var (key, siblings) in page.Entries)
                Assert.Equal(BigValue(Array.IndexOf(FortyKeys, key.ToUtf8())), Assert.Single(siblings.Values));
            received.AddRange(page.Entries.Select(e => e.Key.ToUtf8()));
        }
        Assert.Equal(FortyKeys, received.ToArray());
    }

    [Fact]
    public void An_empty_replica_catches_up_forty_1_MiB_values_from_a_peer_on_another_node_across_the_frame_limit()
    {
        // N = 2: this slot (10/0, empty) and its peer 10/1 on "another node", holding 40 full-size
        // values. The catch-up exchange runs beside this slot, so the peer's fetch replies cross
        // the wire, where a frame over 16 MiB is dropped.
        var settings = _settings with { ReplicationFactor = 2 };
        var peerSlot = new SlotId(Slot.Partition, 1);
        var peer = Sys.ActorOf(ReplicaActor.PropsFor(settings, peerSlot.ToString(), TimeProvider.System));
        for (var i = 0; i < FortyKeys.Length; i++) Put(peer, B(FortyKeys[i]), BigValue(i), null);

        var wire = Sys.ActorOf(FrameLimitedRelay.PropsFor(FrameBytes));
        wire.Tell(new FrameLimitedRelay.Route(peerSlot, peer, Remote: true));
        var replica = Sys.ActorOf(ReplicaActor.PropsFor(settings, EntityId, TimeProvider.System, () => wire));
        wire.Tell(new FrameLimitedRelay.Route(Slot, replica, Remote: false));

        // Reads wait for the catch-up (about 14 exchanges of 3 values each).
        replica.Tell(new ReplicaRead(++_nextRequestId, B(FortyKeys[0])), TestActor);
        Assert.Equal(BigValue(0), Assert.Single(ExpectMsg<ReplicaReadResult>(TimeSpan.FromSeconds(60)).Siblings.Values));
        for (var i = 1; i < FortyKeys.Length; i++) Assert.Equal(BigValue(i), Assert.Single(Read(replica, B(FortyKeys[i])).Values));

        wire.Tell(new FrameLimitedRelay.GetWireStats(), TestActor);
        var stats = ExpectMsg<FrameLimitedRelay.WireStats>(Wait);
        Assert.Empty(stats.Dropped);
        Assert.True(stats.Largest <= settings.MaxRepairReplyBytes, $"largest frame {stats.Largest} bytes");
        // Durable in this node's journal, not only in memory.
        StopAndAwaitTermination(replica);
        var restarted = StartReplica(settings);
        Assert.Equal(BigValue(39), Assert.Single(Read(restarted, B(FortyKeys[39])).Values));
    }

    [Fact]
    public void An_empty_replica_catches_up_a_peer_whose_leaf_entries_are_far_more_than_one_frame()
    {
        // 600 keys of 200 bytes: their (key, digest) entries alone are about 130 KB, against a
        // frame limit of 64 KiB here (room for the tree's node hashes, 32 KiB at most) and a repair
        // budget of 2 KiB. The exchange must page the leaf entries as it pages the values, or the
        // peer's first leaf answer is dropped on the wire.
        const long frame = 64 * 1024;
        var settings = _settings with { ReplicationFactor = 2, MaxRepairReplyBytes = 2048 };
        var keys = Enumerable.Range(0, 600).Select(i => $"{i:D4}{new string('k', 196)}").ToArray();
        var peerSlot = new SlotId(Slot.Partition, 1);
        var peer = Sys.ActorOf(ReplicaActor.PropsFor(settings, peerSlot.ToString(), TimeProvider.System));
        foreach (var key in keys) Put(peer, B(key), B($"v{key[..4]}"), null);

        var wire = Sys.ActorOf(FrameLimitedRelay.PropsFor(frame));
        wire.Tell(new FrameLimitedRelay.Route(peerSlot, peer, Remote: true));
        var replica = Sys.ActorOf(ReplicaActor.PropsFor(settings, EntityId, TimeProvider.System, () => wire));
        wire.Tell(new FrameLimitedRelay.Route(Slot, replica, Remote: false));

        replica.Tell(new ReplicaRead(++_nextRequestId, B(keys[0])), TestActor);
        Assert.Equal(B("v0000"), Assert.Single(ExpectMsg<ReplicaReadResult>(TimeSpan.FromSeconds(60)).Siblings.Values));
        foreach (var key in keys) Assert.Equal(B($"v{key[..4]}"), Assert.Single(Read(replica, B(key)).Values));

        wire.Tell(new FrameLimitedRelay.GetWireStats(), TestActor);
        var stats = ExpectMsg<FrameLimitedRelay.WireStats>(Wait);
        // Nothing was dropped: every leaf page (and every fetch page) fit the 64 KiB frame.
        Assert.Empty(stats.Dropped);
    }

    [Fact]
    public void An_empty_replica_catches_up_a_key_whose_versions_are_larger_than_a_frame()
    {
        // Five concurrent versions of 1 MiB each (as five replicas writing at once can leave),
        // against a frame limit of 3 MiB here and a repair budget of 1.5 MiB: the key cannot travel
        // whole, so the exchange moves it sibling page by sibling page.
        const long frame = 3 * 1024 * 1024;
        var settings = _settings with { ReplicationFactor = 2, MaxRepairReplyBytes = 3 * 512 * 1024 };
        var peerSlot = new SlotId(Slot.Partition, 1);
        var peer = Sys.ActorOf(ReplicaActor.PropsFor(settings, peerSlot.ToString(), TimeProvider.System));
        var versions = SiblingSet.Of(Enumerable.Range(0, 5).Select(i =>
            new Sibling(new Dot($"n{i}/1.00000000000{i}", 1), VersionVector.Empty, BigValue(i), 1_000 + i)));
        peer.Tell(new ReplicaMerge(++_nextRequestId, B("big"), versions, AckWanted: true), TestActor);
        ExpectMsg<ReplicaMergeDone>(Wait);
        peer.Tell(new ReplicaRead(++_nextRequestId, B("big")), TestActor);
        Assert.Equal(versions, ExpectMsg<ReplicaReadResult>(Wait).Siblings);

        var wire = Sys.ActorOf(FrameLimitedRelay.PropsFor(frame));
        wire.Tell(new FrameLimitedRelay.Route(peerSlot, peer, Remote: true));
        var replica = Sys.ActorOf(ReplicaActor.PropsFor(settings, EntityId, TimeProvider.System, () => wire));
        wire.Tell(new FrameLimitedRelay.Route(Slot, replica, Remote: false));

        replica.Tell(new ReplicaRead(++_nextRequestId, B("big")), TestActor);
        Assert.Equal(versions, ExpectMsg<ReplicaReadResult>(TimeSpan.FromSeconds(60)).Siblings);

        wire.Tell(new FrameLimitedRelay.GetWireStats(), TestActor);
        var stats = ExpectMsg<FrameLimitedRelay.WireStats>(Wait);
        Assert.Empty(stats.Dropped);
        Assert.True(stats.Largest <= settings.MaxRepairReplyBytes, $"largest frame {stats.Largest} bytes");
    }

    [Fact]
    public void A_put_minted_long_after_the_coordinator_sent_it_is_replicated_by_the_replica_to_its_peers()
    {
        // The coordinator sent it 10 s ago: it has long moved on to another coordinating replica
        // (after request.coordinating-replica-timeout) and will not replicate this version.
        var observer = CreateTestProbe();
        var (replica, _) = StartReplicaWithPeers(observer);
        Read(replica, B("other"));
        Drain(observer);
        var sentAt = DateTimeOffset.UtcNow.AddSeconds(-10).ToUnixTimeMilliseconds();
        replica.Tell(new ReplicaPut(7, B("k"), B("late"), VersionVector.Empty, sentAt), TestActor);
        var done = ExpectMsg<ReplicaPutDone>(Wait);

        var merges = new[] { observer.ExpectMsg<SlotEnvelope>(Wait), observer.ExpectMsg<SlotEnvelope>(Wait) };
        Assert.Equal([1, 2], merges.Select(m => m.Slot.Index).Order());
        Assert.All(merges, m =>
        {
            Assert.Equal(Slot.Partition, m.Slot.Partition);
            var merge = Assert.IsType<ReplicaMerge>(m.Command);
            Assert.Equal((B("k"), done.Siblings, false), (merge.Key, merge.Siblings, merge.AckWanted));
        });
    }

    [Fact]
    public void A_put_minted_promptly_is_left_to_the_coordinator_to_replicate()
    {
        var observer = CreateTestProbe();
        var (replica, _) = StartReplicaWithPeers(observer);
        Read(replica, B("other"));
        Drain(observer);
        replica.Tell(new ReplicaPut(8, B("k"), B("prompt"), VersionVector.Empty, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), TestActor);
        ExpectMsg<ReplicaPutDone>(Wait);
        observer.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_peer_that_never_answers_delays_serving_by_at_most_the_catch_up_timeout()
    {
        var observer = CreateTestProbe();
        var (replica, _) = StartReplicaWithPeers(observer, _settings with { CatchUpTimeout = TimeSpan.FromMilliseconds(300) },
            (1, FakePeerRegion.Peer.Empty with { Silent = true }));
        replica.Tell(new ReplicaRead(1, B("k")), TestActor);
        // The bound this test is about: served well within 5 s, not after a peer that never answers.
        var result = ExpectMsg<ReplicaReadResult>(TimeSpan.FromSeconds(5));
        Assert.True(result.Siblings.IsEmpty);
    }

    // ---- tombstone GC ----

    [Fact]
    public void A_purge_drops_only_tombstones_still_unchanged_and_is_durable()
    {
        var replica = StartReplica();
        var put = Put(replica, B("gone"), B("v"), null);
        Put(replica, B("gone"), null, put.Siblings.Context);
        Put(replica, B("kept"), B("v"), null);
        replica.Tell(new ListTombstones(1, 100), TestActor);
        var list = ExpectMsg<TombstoneList>(Wait);
        Assert.Equal(0, list.GcGeneration);
        Assert.Equal(["gone"], list.Entries.Select(e => e.Key.ToUtf8()));

        replica.Tell(new PurgeTombstones(2, 1, list.Entries), TestActor);
        Assert.Equal(1, ExpectMsg<TombstonesPurgedAck>(Wait).Purged);
        Assert.True(Read(replica, B("gone")).IsEmpty);

        // Durable: after a restart the key is still gone, the live one still there, the generation kept.
        StopAndAwaitTermination(replica);
        replica = StartReplica();
        Assert.True(Read(replica, B("gone")).IsEmpty);
        Assert.Equal(["v"], ValuesOf(Read(replica, B("kept"))));
        replica.Tell(new ListTombstones(3, 100), TestActor);
        var after = ExpectMsg<TombstoneList>(Wait);
        Assert.Equal(1, after.GcGeneration);
        Assert.Empty(after.Entries);
    }

    [Fact]
    public void An_expired_value_is_listed_and_purged_like_a_tombstone_and_one_not_yet_expired_is_kept()
    {
        var replica = StartReplica();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        replica.Tell(new ReplicaPut(++_nextRequestId, B("expired"), B("v"), null, ExpiresAtMs: now - 1_000), TestActor);
        Assert.Equal(now - 1_000, Assert.Single(ExpectMsg<ReplicaPutDone>(Wait).Siblings.Siblings).ExpiresAtMs);
        replica.Tell(new ReplicaPut(++_nextRequestId, B("later"), B("v"), null, ExpiresAtMs: now + 3_600_000), TestActor);
        ExpectMsg<ReplicaPutDone>(Wait);
        replica.Tell(new ListTombstones(1, 100), TestActor);
        var list = ExpectMsg<TombstoneList>(Wait);
        Assert.Equal(["expired"], list.Entries.Select(e => e.Key.ToUtf8()));

        replica.Tell(new PurgeTombstones(2, 1, list.Entries), TestActor);
        Assert.Equal(1, ExpectMsg<TombstonesPurgedAck>(Wait).Purged);
        Assert.True(Read(replica, B("expired")).IsEmpty);

        // Durable, and the value with a later deadline keeps it across the restart.
        StopAndAwaitTermination(replica);
        replica = StartReplica();
        Assert.True(Read(replica, B("expired")).IsEmpty);
        Assert.Equal(now + 3_600_000, Assert.Single(Read(replica, B("later")).Siblings).ExpiresAtMs);
    }

    [Fact]
    public void Increments_pipelined_to_a_replica_each_count_and_survive_a_restart()
    {
        // Fifty increments sent without waiting for the journal: each mints from the one before it
        // (not from the persisted state), so the numbers answered are 1..50 in order, and none is lost.
        var replica = StartReplica();
        for (var i = 0; i < 50; i++) replica.Tell(new ReplicaPut(++_nextRequestId, B("hits"), null, null, IncrementBy: 1), TestActor);
        var numbers = Enumerable.Range(0, 50).Select(_ => ExpectMsg<ReplicaPutDone>(Wait)).OrderBy(d => d.RequestId).Select(d => d.Number).ToList();
        Assert.Equal(Enumerable.Range(1, 50).Select(n => (long?)n), numbers);
        Assert.Equal("50", Assert.Single(AkkaKv.Counters.CounterRules.Read(Read(replica, B("hits")), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).Value.ToUtf8());

        // A string that is no integer is refused, and the key keeps it.
        Put(replica, B("name"), B("abc"), null);
        replica.Tell(new ReplicaPut(++_nextRequestId, B("name"), null, null, IncrementBy: 1), TestActor);
        Assert.Equal(AkkaKv.Counters.CounterRules.NotAnInteger, ExpectMsg<ReplicaPutRejected>(Wait).Reason);
        Assert.Equal("abc", Assert.Single(Read(replica, B("name")).Siblings).Value!.ToUtf8());

        // After a restart (a new incarnation) the count goes on from 50, under the new id.
        StopAndAwaitTermination(replica);
        replica = StartReplica();
        replica.Tell(new ReplicaPut(++_nextRequestId, B("hits"), null, null, IncrementBy: -10), TestActor);
        Assert.Equal(40, ExpectMsg<ReplicaPutDone>(Wait).Number);
    }

    [Fact]
    public void Hash_operations_pipelined_to_a_replica_each_apply_and_the_hash_survives_a_restart()
    {
        static ValueList<AkkaKv.Hashes.HashOp> Ops(params AkkaKv.Hashes.HashOp[] ops) => ValueList.From(ops);
        // Thirty HINCRBYs and thirty HSETs of distinct fields sent without waiting for the journal:
        // each applies to what the one before it made, so the increments answer 1..30 and every field is there.
        var replica = StartReplica();
        for (var i = 0; i < 30; i++)
        {
            replica.Tell(new ReplicaPut(++_nextRequestId, B("h"), null, null, HashOps: Ops(AkkaKv.Hashes.HashOp.Increment(B("n"), 1))), TestActor);
            replica.Tell(new ReplicaPut(++_nextRequestId, B("h"), null, null, HashOps: Ops(AkkaKv.Hashes.HashOp.Set((B($"f{i}"), B($"{i}"))))), TestActor);
        }
        var done = Enumerable.Range(0, 60).Select(_ => ExpectMsg<ReplicaPutDone>(Wait)).OrderBy(d => d.RequestId).ToList();
        Assert.Equal(Enumerable.Range(1, 30).Select(n => (long)n), done.Where((_, i) => i % 2 == 0).Select(d => d.Results![0]));
        Assert.All(done.Where((_, i) => i % 2 == 1), d => Assert.Equal(1L, d.Results![0]));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(31, AkkaKv.Hashes.HashRules.Read(Read(replica, B("h")), now)!.Value.Fields.Count);

        // A hash write to a string is refused with WRONGTYPE and the key keeps its string;
        // an HDEL of an absent field writes nothing and answers 0.
        Put(replica, B("name"), B("abc"), null);
        replica.Tell(new ReplicaPut(++_nextRequestId, B("name"), null, null, HashOps: Ops(AkkaKv.Hashes.HashOp.Set((B("f"), B("v"))))), TestActor);
        Assert.Equal(AkkaKv.Counters.CounterRules.WrongType, ExpectMsg<ReplicaPutRejected>(Wait).Reason);
        Assert.Equal("abc", Assert.Single(Read(replica, B("name")).Siblings).Value!.ToUtf8());
        replica.Tell(new ReplicaPut(++_nextRequestId, B("h"), null, null, HashOps: Ops(AkkaKv.Hashes.HashOp.Delete(B("absent")))), TestActor);
        Assert.Equal(0L, ExpectMsg<ReplicaPutDone>(Wait).Results![0]);

        // After a restart the hash is all there, and the next increment goes on from 30.
        StopAndAwaitTermination(replica);
        replica = StartReplica();
        var read = AkkaKv.Hashes.HashRules.Read(Read(replica, B("h")), now)!.Value.Fields;
        Assert.Equal(31, read.Count);
        Assert.Equal("29", read.Single(f => f.Name == B("f29")).Value.ToUtf8());
        replica.Tell(new ReplicaPut(++_nextRequestId, B("h"), null, null, HashOps: Ops(AkkaKv.Hashes.HashOp.Increment(B("n"), 12))), TestActor);
        Assert.Equal(42L, ExpectMsg<ReplicaPutDone>(Wait).Results![0]);
    }

    [Fact]
    public void A_replica_whose_journal_missed_a_purge_drops_its_old_values_instead_of_resurrecting_them()
    {
        // This node held the slot and saw "k" written; then it was away while "k" was deleted and
        // the tombstone purged on the peers (generation 1). Its journal still has the old value.
        var observer = CreateTestProbe();
        var (replica, _) = StartReplicaWithPeers(observer);
        Put(replica, B("k"), B("old"), null);
        StopAndAwaitTermination(replica);
        Drain(observer);

        var purged = FakePeerRegion.Peer.Of(1, ("other", SiblingSet.Of([Foreign("n9/1.00000001", 5, "current")])));
        (replica, var region) = StartReplicaWithPeers(observer, null, (1, purged), (2, purged));
        Assert.True(Read(replica, B("k")).IsEmpty, "the old value of a deleted, purged key came back");
        Assert.Equal(["current"], ValuesOf(Read(replica, B("other"))));
        // Nothing of its old journal went to the peers.
        Assert.DoesNotContain(Drain(observer), e => e.Command is ReplicaMerge m && m.Key == B("k"));
        Assert.False(PeerState(region, 1).Keys.ContainsKey(B("k")));

        // The reset is durable: after a restart the value stays gone and nothing more is copied.
        StopAndAwaitTermination(replica);
        (replica, _) = StartReplicaWithPeers(observer, null, (1, purged), (2, purged));
        Assert.True(Read(replica, B("k")).IsEmpty);
        Assert.DoesNotContain(Drain(observer), e => e.Command is ReplicaFetch or ReplicaMerge);
    }

    [Fact]
    public void Catch_up_copies_nothing_from_or_to_a_peer_behind_in_generation_and_tells_it_the_generation()
    {
        var observer = CreateTestProbe();
        var (replica, _) = StartReplicaWithPeers(observer);
        Put(replica, B("mine"), B("v"), null);
        // Two purges (generation 1, then 2): a purge moves the generation on by one.
        replica.Tell(new PurgeTombstones(1, 1, ValueList<MerkleEntry>.Empty), TestActor);
        ExpectMsg<TombstonesPurgedAck>(Wait);
        replica.Tell(new PurgeTombstones(2, 2, ValueList<MerkleEntry>.Empty), TestActor);
        ExpectMsg<TombstonesPurgedAck>(Wait);
        StopAndAwaitTermination(replica);
        Drain(observer);

        // Restarted at generation 2; peer 1 is still at 0 and offers an old value of a purged key.
        var stale = FakePeerRegion.Peer.Of(0, ("k", SiblingSet.Of([Foreign("n9/1.00000001", 1, "old")])));
        (replica, var region) = StartReplicaWithPeers(observer, null, (1, stale), (2, FakePeerRegion.Peer.Of(2)));
        Assert.True(Read(replica, B("k")).IsEmpty, "a value from a replica behind in GC generation was merged");
        var toStale = Drain(observer).Where(e => e.Slot.Index == 1).Select(e => e.Command).ToList();
        Assert.Contains(toStale, c => c is GcGenerationSeen { GcGeneration: 2 });
        Assert.DoesNotContain(toStale, c => c is ReplicaFetch or ReplicaMerge);
        Assert.False(PeerState(region, 1).Keys.ContainsKey(B("mine")));
    }

    [Fact]
    public void A_generation_notice_alone_drops_nothing_the_replica_asks_its_peers_and_resets_only_to_a_generation_a_majority_reports()
    {
        var observer = CreateTestProbe();
        var (replica, region) = StartReplicaWithPeers(observer, null, (1, FakePeerRegion.Peer.Of(0)), (2, FakePeerRegion.Peer.Of(0)));
        Put(replica, B("k"), B("v"), null);
        Drain(observer);

        // A forged notice (anyone who can reach the port could send one): a peer at generation 2^63-1.
        replica.Tell(new GcGenerationSeen(7, long.MaxValue), TestActor);
        var asked = Drain(observer).Where(e => e.Command is ListTombstones).Select(e => e.Slot.Index).Order().ToArray();
        Assert.Equal([1, 2], asked);
        Assert.Equal(["v"], ValuesOf(Read(replica, B("k"))));

        // One peer ahead (its generation raised, say, by forged purges) is not a majority: nothing is dropped.
        region.Tell(new FakePeerRegion.SetPeer(2, FakePeerRegion.Peer.Of(3)));
        replica.Tell(new GcGenerationSeen(8, long.MaxValue), TestActor);
        Assert.Equal(2, Drain(observer).Count(e => e.Command is ListTombstones));
        Assert.Equal(["v"], ValuesOf(Read(replica, B("k"))));

        // Both peers purged (generation 3): the next notice is confirmed by a majority, and the
        // replica resets to the generation they report, not the one the notice claimed.
        region.Tell(new FakePeerRegion.SetPeer(1, FakePeerRegion.Peer.Of(3)));
        replica.Tell(new GcGenerationSeen(9, long.MaxValue), TestActor);
        AwaitAssert(() => Assert.True(Read(replica, B("k")).IsEmpty), Wait);
        replica.Tell(new ListTombstones(10, 0), TestActor);
        Assert.Equal(3, ExpectMsg<TombstoneList>(Wait).GcGeneration);

        // A purge that jumps the generation (forged) is refused unacknowledged; the next one is taken.
        replica.Tell(new PurgeTombstones(11, long.MaxValue, ValueList<MerkleEntry>.Empty), TestActor);
        replica.Tell(new PurgeTombstones(12, 4, ValueList<MerkleEntry>.Empty), TestActor);
        Assert.Equal(12, ExpectMsg<TombstonesPurgedAck>(Wait).RequestId);
        replica.Tell(new ListTombstones(13, 0), TestActor);
        Assert.Equal(4, ExpectMsg<TombstoneList>(Wait).GcGeneration);
    }

    [Fact]
    public void Malformed_versions_from_a_peer_are_dropped_unacknowledged_and_an_oversized_put_is_refused()
    {
        var replica = StartReplica();
        Put(replica, B("k"), B("v"), null);

        // A version with counter 0 (no replica mints one): dropped; the read sent after it is the
        // first answer, so no acknowledgement came.
        replica.Tell(new ReplicaMerge(94, B("k"), SiblingSet.Of([Foreign("n3/2.00000001", 0, "zero")]), AckWanted: true), TestActor);
        replica.Tell(new ReplicaRead(95, B("k")), TestActor);
        var first = ExpectMsg<object>(Wait);
        Assert.Equal(["v"], ValuesOf(Assert.IsType<ReplicaReadResult>(first).Siblings));

        replica.Tell(new ReplicaPut(96, B("k"), Bytes.From(new byte[_settings.MaxValueBytes + 1]), null), TestActor);
        Assert.Contains("max-value-bytes", ExpectMsg<ReplicaPutRejected>(Wait).Reason);
        Assert.Equal(["v"], ValuesOf(Read(replica, B("k"))));
    }

    // ---- helpers ----

    private IActorRef StartReplica(KvSettings? settings = null) =>
        Sys.ActorOf(ReplicaActor.PropsFor(settings ?? _settings, EntityId, TimeProvider.System));

    private void StopAndAwaitTermination(IActorRef replica) => this.StopAndAwaitTermination(replica, Wait);

    private ReplicaPutDone Put(IActorRef replica, Bytes key, Bytes? value, VersionVector? context)
    {
        var id = ++_nextRequestId;
        replica.Tell(new ReplicaPut(id, key, value, context), TestActor);
        var done = ExpectMsg<ReplicaPutDone>(Wait);
        Assert.Equal(id, done.RequestId);
        return done;
    }

    private SiblingSet Read(IActorRef replica, Bytes key)
    {
        var id = ++_nextRequestId;
        replica.Tell(new ReplicaRead(id, key), TestActor);
        var result = ExpectMsg<ReplicaReadResult>(Wait);
        Assert.Equal(id, result.RequestId);
        Assert.Equal(Slot, result.Slot);
        return result.Siblings;
    }

    private static string[] ValuesOf(SiblingSet set) => set.Values.Select(v => v.ToUtf8()).Order(StringComparer.Ordinal).ToArray();

    private static Sibling Foreign(string actor, long counter, string? value, VersionVector? past = null) =>
        new(new Dot(actor, counter), past ?? VersionVector.Empty, value is null ? null : B(value), 1_000);

    private long Scalar(string sql) => Scalar(sql, Slot);

    private long Scalar(string sql, SlotId slot)
    {
        using var connection = new SqliteConnection(AkkaKvHosting.SqliteConnectionString(_dir));
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$pid", ReplicaActor.PersistenceIdOf(slot));
        return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    // ---- writes and reads ----

    [Fact]
    public void A_put_that_would_exceed_the_sibling_limit_is_refused_until_the_siblings_are_resolved()
    {
        var replica = StartReplica(_settings with { MaxSiblings = 2 });
        Put(replica, B("k"), B("a"), VersionVector.Empty);
        Put(replica, B("k"), B("b"), VersionVector.Empty);

        replica.Tell(new ReplicaPut(99, B("k"), B("c"), VersionVector.Empty), TestActor);
        var rejected = ExpectMsg<ReplicaPutRejected>(Wait);
        Assert.Contains("max-siblings", rejected.Reason);
        Assert.Equal(["a", "b"], ValuesOf(Read(replica, B("k"))));

        // A put with the read's context supersedes both: allowed, and the key is back to one version.
        var resolved = Put(replica, B("k"), B("ab"), Read(replica, B("k")).Context);
        Assert.Equal(["ab"], ValuesOf(resolved.Siblings));
    }

    [Fact]
    public void A_put_whose_context_claims_a_version_this_replica_never_minted_is_refused_and_later_puts_are_not_superseded()
    {
        var replica = StartReplica();
        var first = Put(replica, B("k"), B("v1"), null);
        var self = first.Siblings.Siblings.Single().Dot;
        var forged = VersionVector.Of([KeyValuePair.Create(self.Actor, long.MaxValue)]);

        replica.Tell(new ReplicaPut(99, B("k"), B("forged"), forged), TestActor);
        var rejected = ExpectMsg<ReplicaPutRejected>(Wait);
        Assert.Equal(99, rejected.RequestId);
        Assert.Contains($"claims version {long.MaxValue} of replica {self.Actor}, which has minted only up to {self.Counter}", rejected.Reason);
        // One past the last minted is also a claim of a version that does not exist yet.
        replica.Tell(new ReplicaPut(100, B("k"), B("forged"), VersionVector.Of([KeyValuePair.Create(self.Actor, self.Counter + 1)])), TestActor);
        Assert.Equal(100, ExpectMsg<ReplicaPutRejected>(Wait).RequestId);

        // Nothing was minted for the refused puts: the next blind put supersedes v1 and is what a read sees.
        var later = Put(replica, B("k"), B("later"), null);
        Assert.Equal(self.Counter + 1, later.Siblings.Siblings.Single().Dot.Counter);
        Assert.Equal(["later"], ValuesOf(Read(replica, B("k"))));
        // A context this replica did issue is still accepted.
        Assert.Equal(["resolved"], ValuesOf(Put(replica, B("k"), B("resolved"), Read(replica, B("k")).Context).Siblings));
    }

    [Fact]
    public void A_put_that_would_exceed_the_bytes_per_key_limit_is_refused_with_a_clear_reason()
    {
        var replica = StartReplica(_settings with { MaxValueBytes = 10, MaxBytesPerKey = 15 });
        Put(replica, B("k"), B("0123456789"), VersionVector.Empty);
        replica.Tell(new ReplicaPut(99, B("k"), B("abcdefghij"), VersionVector.Empty), TestActor);
        Assert.Contains("max-bytes-per-key", ExpectMsg<ReplicaPutRejected>(Wait).Reason);
    }

    [Fact]
    public void A_put_is_acknowledged_with_the_keys_sibling_set_holding_the_value()
    {
        var replica = StartReplica();

        var done = Put(replica, B("k"), B("v1"), null);

        Assert.Equal(Slot, done.Slot);
        Assert.Equal("n1", done.Node);
        var sibling = Assert.Single(done.Siblings.Siblings);
        Assert.Equal(B("v1"), sibling.Value);
        Assert.StartsWith("n1/0.", sibling.Dot.Actor);
        Assert.Equal(1, sibling.Dot.Counter);
    }

    [Fact]
    public void A_read_after_an_acknowledged_put_returns_the_value()
    {
        var replica = StartReplica();
        var done = Put(replica, B("k"), B("v1"), null);

        var read = Read(replica, B("k"));

        Assert.Equal(done.Siblings, read);
        Assert.Equal(["v1"], ValuesOf(read));
    }

    [Fact]
    public void A_read_of_a_key_never_written_returns_an_empty_set()
    {
        var replica = StartReplica();
        Put(replica, B("other"), B("v"), null);

        Assert.True(Read(replica, B("missing")).IsEmpty);
    }

    [Fact]
    public void Two_puts_carrying_the_same_context_both_survive_as_siblings_with_distinct_dots()
    {
        var replica = StartReplica();

        Put(replica, B("k"), B("a"), VersionVector.Empty);
        var second = Put(replica, B("k"), B("b"), VersionVector.Empty);

        Assert.Equal(["a", "b"], ValuesOf(second.Siblings));
        Assert.Equal(2, second.Siblings.Siblings.Select(s => s.Dot).Distinct().Count());
        Assert.Equal(second.Siblings, Read(replica, B("k")));
    }

    [Fact]
    public void The_context_a_put_returns_never_covers_a_concurrent_sibling_the_writer_did_not_see()
    {
        var replica = StartReplica();
        var first = Put(replica, B("k"), B("a"), VersionVector.Empty);
        var firstDot = first.Siblings.Siblings.Single().Dot;
        Assert.True(first.Written.Covers(firstDot));

        var second = Put(replica, B("k"), B("b"), VersionVector.Empty);
        Assert.Equal(2, second.Siblings.Count);
        Assert.False(second.Written.Covers(firstDot));
        // Writing again with the returned context loses nothing the writer did not see.
        Put(replica, B("k"), B("b2"), second.Written);
        Assert.Contains("a", ValuesOf(Read(replica, B("k"))));
    }

    [Fact]
    public void A_put_carrying_the_context_of_a_read_supersedes_exactly_the_siblings_that_were_read()
    {
        var replica = StartReplica();
        Put(replica, B("k"), B("a"), VersionVector.Empty);
        var both = Put(replica, B("k"), B("b"), VersionVector.Empty);

        var resolved = Put(replica, B("k"), B("ab"), both.Siblings.Context);

        Assert.Equal(["ab"], ValuesOf(resolved.Siblings));
        Assert.Equal(3, Assert.Single(resolved.Siblings.Siblings).Dot.Counter);
    }

    [Fact]
    public void A_blind_put_supersedes_the_value_the_replica_holds()
    {
        var replica = StartReplica();
        Put(replica, B("k"), B("old"), null);

        var done = Put(replica, B("k"), B("new"), null);

        Assert.Equal(["new"], ValuesOf(done.Siblings));
        Assert.Equal(["new"], ValuesOf(Read(replica, B("k"))));
    }

    [Fact]
    public void A_blind_put_also_supersedes_concurrent_siblings_the_replica_holds()
    {
        var replica = StartReplica();
        Put(replica, B("k"), B("a"), VersionVector.Empty);
        Put(replica, B("k"), B("b"), VersionVector.Empty);

        var done = Put(replica, B("k"), B("c"), null);

        Assert.Equal(["c"], ValuesOf(done.Siblings));
    }

    [Fact]
    public void A_delete_is_a_put_without_value_that_leaves_a_tombstone_reading_as_deleted()
    {
        var replica = StartReplica();
        var written = Put(replica, B("k"), B("v"), null);

        var deleted = Put(replica, B("k"), null, written.Siblings.Context);

        var tombstone = Assert.Single(deleted.Siblings.Siblings);
        Assert.True(tombstone.IsTombstone);
        var read = Read(replica, B("k"));
        Assert.False(read.IsEmpty);
        Assert.True(read.IsDeleted);
        Assert.Empty(read.Values);
    }

    [Fact]
    public void Puts_to_different_keys_do_not_touch_each_other()
    {
        var replica = StartReplica();
        Put(replica, B("a"), B("1"), null);
        Put(replica, B("b"), B("2"), null);
        Put(replica, B("a"), null, null);

        Assert.True(Read(replica, B("a")).IsDeleted);
        Assert.Equal(["2"], ValuesOf(Read(replica, B("b"))));
    }

    // ---- merges (replication and read repair) ----

    [Fact]
    public void A_merge_of_a_concurrent_sibling_set_keeps_both_versions_and_is_acknowledged_when_asked()
    {
        var replica = StartReplica();
        Put(replica, B("k"), B("local"), null);
        var remote = SiblingSet.Of([Foreign("n2/1.0000beef", 1, "remote")]);

        replica.Tell(new ReplicaMerge(77, B("k"), remote, AckWanted: true), TestActor);

        var ack = ExpectMsg<ReplicaMergeDone>(Wait);
        Assert.Equal(77, ack.RequestId);
        Assert.Equal(Slot, ack.Slot);
        Assert.Equal("n1", ack.Node);
        var read = Read(replica, B("k"));
        Assert.Equal(["local", "remote"], ValuesOf(read));
    }

    [Fact]
    public void A_merge_of_a_set_that_supersedes_the_local_version_replaces_it()
    {
        var replica = StartReplica();
        var local = Put(replica, B("k"), B("old"), null);
        var newer = SiblingSet.Of([Foreign("n2/1.0000beef", 1, "newer", local.Siblings.Context)]);

        replica.Tell(new ReplicaMerge(78, B("k"), newer, AckWanted: true), TestActor);
        ExpectMsg<ReplicaMergeDone>(Wait);

        Assert.Equal(newer, Read(replica, B("k")));
    }

    [Fact]
    public void A_merge_that_brings_nothing_new_is_still_acknowledged()
    {
        var replica = StartReplica();
        var local = Put(replica, B("k"), B("v"), null);

        replica.Tell(new ReplicaMerge(79, B("k"), local.Siblings, AckWanted: true), TestActor);

        Assert.Equal(79, ExpectMsg<ReplicaMergeDone>(Wait).RequestId);
        Assert.Equal(local.Siblings, Read(replica, B("k")));
    }

    [Fact]
    public void A_merge_without_ack_wanted_is_applied_silently()
    {
        var replica = StartReplica();
        var remote = SiblingSet.Of([Foreign("n2/1.0000beef", 4, "repaired")]);

        replica.Tell(new ReplicaMerge(80, B("k"), remote, AckWanted: false), TestActor);

        // The read is answered after the merge is applied (AwaitAssert: the merge persists asynchronously).
        AwaitAssert(() => Assert.Equal(remote, Read(replica, B("k"))), Wait);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    // ---- recovery ----

    [Fact]
    public void After_a_restart_with_the_same_entity_id_all_keys_recover_from_the_journal()
    {
        var replica = StartReplica();
        Put(replica, B("plain"), B("v1"), null);
        Put(replica, B("plain"), B("v2"), null);
        Put(replica, B("siblings"), B("a"), VersionVector.Empty);
        Put(replica, B("siblings"), B("b"), VersionVector.Empty);
        var deleted = Put(replica, B("gone"), B("x"), null);
        Put(replica, B("gone"), null, deleted.Siblings.Context);
        replica.Tell(new ReplicaMerge(90, B("merged"), SiblingSet.Of([Foreign("n3/2.00000001", 3, "m")]), AckWanted: true), TestActor);
        ExpectMsg<ReplicaMergeDone>(Wait);
        var before = new[] { "plain", "siblings", "gone", "merged" }.ToDictionary(k => k, k => Read(replica, B(k)));

        StopAndAwaitTermination(replica);
        var recovered = StartReplica();

        foreach (var (key, set) in before)
            Assert.Equal(set, Read(recovered, B(key)));
        Assert.Equal(["v2"], ValuesOf(before["plain"]));
        Assert.Equal(["a", "b"], ValuesOf(before["siblings"]));
        Assert.True(before["gone"].IsDeleted);
    }

    [Fact]
    public void With_snapshots_every_3_events_all_of_10_puts_recover_after_the_journal_prefix_is_deleted()
    {
        var settings = _settings with { SnapshotEvery = 3 };
        var replica = StartReplica(settings);
        var expected = new Dictionary<string, SiblingSet>();
        for (var i = 0; i < 10; i++)
        {
            var key = $"k{i % 4}";
            expected[key] = Put(replica, B(key), B($"v{i}"), null).Siblings;
        }
        // Journal: ReplicaIncarnated (1) + 10 puts (2..11); snapshots after puts 3, 6, 9, i.e. at seqNr 10.
        AwaitAssert(() =>
        {
            Assert.Equal(10, Scalar("SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = $pid"));
            Assert.Equal(0, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = $pid AND deleted = 0 AND sequence_number <= 10"));
        }, Wait);

        StopAndAwaitTermination(replica);
        var recovered = StartReplica(settings);

        foreach (var (key, set) in expected)
            Assert.Equal(set, Read(recovered, B(key)));
    }

    [Fact]
    public void A_put_after_recovery_mints_under_a_new_actor_id_that_no_version_before_used()
    {
        var replica = StartReplica();
        var dots = new List<Dot>();
        for (var i = 0; i < 4; i++)
            dots.Add(Put(replica, B($"k{i}"), B("v"), VersionVector.Empty).Siblings.Siblings.Single().Dot);
        StopAndAwaitTermination(replica);

        var recovered = StartReplica();
        var next = Put(recovered, B("k9"), B("after"), null).Siblings.Siblings.Single().Dot;
        // The key written before the restart, written again blind: the new version supersedes the old one.
        var again = Put(recovered, B("k0"), B("again"), null).Siblings;

        Assert.Single(dots.Select(d => d.Actor).Distinct());
        Assert.NotEqual(dots[0].Actor, next.Actor);
        Assert.StartsWith("n1/0.", next.Actor);
        Assert.Equal(1, next.Counter);
        Assert.Equal(["again"], ValuesOf(again));
        Assert.True(again.Context[dots[0].Actor] >= dots[0].Counter);
    }

    [Fact]
    public void A_replica_restarted_on_an_old_copy_of_its_journal_never_mints_a_version_its_peers_hold()
    {
        // What the replica minted before the copy was taken, and after it (the peers hold these).
        var replica = StartReplica();
        var old = Put(replica, B("k"), B("before-copy"), null).Siblings.Siblings.Single().Dot;
        var later = Put(replica, B("k"), B("after-copy"), null).Siblings;
        StopAndAwaitTermination(replica);
        // The old copy: the journal as it was before the second put.
        Scalar("DELETE FROM journal WHERE persistence_id = $pid AND sequence_number > 2");

        var restored = StartReplica();
        Assert.Equal(["before-copy"], ValuesOf(Read(restored, B("k"))));
        var rewritten = Put(restored, B("k"), B("after-restore"), null).Siblings;
        var dot = rewritten.Siblings.Single().Dot;

        Assert.NotEqual(old.Actor, dot.Actor);
        // A peer holding the version minted after the copy keeps both: the new write is concurrent
        // with it, not taken for a version already seen.
        var atPeer = later.Merge(rewritten);
        Assert.Equal(["after-copy", "after-restore"], ValuesOf(atPeer));
    }

    [Fact]
    public void A_version_of_this_replica_forged_with_the_last_counter_makes_it_start_a_new_incarnation_instead_of_wrapping_around()
    {
        var replica = StartReplica();
        var own = Put(replica, B("k"), B("v"), null).Siblings.Siblings.Single().Dot.Actor;
        replica.Tell(new ReplicaMerge(92, B("forged"), SiblingSet.Of([Foreign(own, long.MaxValue, "f")]), AckWanted: true), TestActor);
        ExpectMsg<ReplicaMergeDone>(Wait);

        replica.Tell(new ReplicaPut(93, B("k"), B("next"), null), TestActor);
        var rejected = ExpectMsg<ReplicaPutRejected>(Wait);
        Assert.Contains("new incarnation", rejected.Reason);

        var next = Put(replica, B("k"), B("retried"), null).Siblings;
        Assert.Equal(["retried"], ValuesOf(next));
        Assert.NotEqual(own, next.Siblings.Single().Dot.Actor);
        Assert.Equal(1, next.Siblings.Single().Dot.Counter);
    }

    [Fact]
    public void A_replica_whose_snapshot_covers_its_whole_journal_recovers_and_continues_the_sequence()
    {
        var settings = _settings with { SnapshotEvery = 3 };
        var replica = StartReplica(settings);
        var written = Enumerable.Range(0, 3).Select(i => Put(replica, B($"k{i}"), B($"v{i}"), null)).ToArray();
        // ReplicaIncarnated (1) + 3 puts: the snapshot at seqNr 4 covers every event.
        AwaitAssert(() =>
        {
            Assert.Equal(4, Scalar("SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = $pid"));
            Assert.Equal(0, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = $pid AND deleted = 0"));
        }, Wait);
        StopAndAwaitTermination(replica);

        var recovered = StartReplica(settings);
        var next = Put(recovered, B("k0"), B("again"), null);
        StopAndAwaitTermination(recovered);
        var again = StartReplica(settings);

        // A new incarnation at each start: the first version minted after the restart is its first.
        Assert.Equal(1, next.Siblings.Siblings.Single().Dot.Counter);
        Assert.NotEqual(written[0].Siblings.Siblings.Single().Dot.Actor, next.Siblings.Siblings.Single().Dot.Actor);
        Assert.Equal(next.Siblings, Read(again, B("k0")));
        Assert.Equal(written[2].Siblings, Read(again, B("k2")));
    }

    [Fact]
    public void The_specs_slot_has_no_snapshot_stagger_at_snapshot_every_3_and_slot_5_0_has_one()
    {
        Assert.Equal(0, SnapshotSchedule.InitialCount(Slot, 3));
        Assert.Equal(1, SnapshotSchedule.InitialCount(new SlotId(5, 0), 3));
    }

    [Fact]
    public void A_slot_with_a_stagger_takes_its_first_snapshot_early_and_the_next_ones_every_snapshot_every_events()
    {
        var settings = _settings with { SnapshotEvery = 3 };
        var staggered = new SlotId(5, 0); // stagger 1: first snapshot after 2 puts, then after 5, 8
        var replica = Sys.ActorOf(ReplicaActor.PropsFor(settings, staggered.ToString(), TimeProvider.System));
        const string lastSnapshot = "SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = $pid";
        Put(replica, B("a"), B("1"), null);
        Put(replica, B("b"), B("2"), null);
        // ReplicaIncarnated (1) + 2 puts: the first snapshot at seqNr 3, not 4 as for an unstaggered slot.
        AwaitAssert(() => Assert.Equal(3, Scalar(lastSnapshot, staggered)), Wait);
        for (var i = 0; i < 3; i++) Put(replica, B($"k{i}"), B("v"), null);
        AwaitAssert(() => Assert.Equal(6, Scalar(lastSnapshot, staggered)), Wait);
        StopAndAwaitTermination(replica);

        // The phase carries over a restart: recovered from the snapshot at seqNr 6, the slot counts
        // puts from there, so three puts later the next one is due: at seqNr 10, as the restart's
        // new incarnation took seqNr 7.
        var recovered = Sys.ActorOf(ReplicaActor.PropsFor(settings, staggered.ToString(), TimeProvider.System));
        for (var i = 0; i < 3; i++) Put(recovered, B($"r{i}"), B("v"), null);
        AwaitAssert(() => Assert.Equal(10, Scalar(lastSnapshot, staggered)), Wait);
    }

    [Fact]
    public void Events_replayed_at_recovery_count_toward_the_next_snapshot()
    {
        var settings = _settings with { SnapshotEvery = 3 };
        var replica = StartReplica(settings);
        Put(replica, B("a"), B("1"), null);
        Put(replica, B("b"), B("2"), null);
        StopAndAwaitTermination(replica);

        // 2 events before the restart and 2 after: 4 >= snapshot-every, so a snapshot is due.
        var recovered = StartReplica(settings);
        Put(recovered, B("c"), B("3"), null);
        Put(recovered, B("d"), B("4"), null);

        AwaitAssert(() => Assert.True(Scalar("SELECT COUNT(*) FROM snapshot WHERE persistence_id = $pid") > 0,
            "no snapshot after 4 events with snapshot-every = 3"), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_blind_put_after_recovery_supersedes_the_recovered_value()
    {
        var replica = StartReplica();
        Put(replica, B("k"), B("before"), null);
        StopAndAwaitTermination(replica);

        var recovered = StartReplica();
        var done = Put(recovered, B("k"), B("after"), null);

        Assert.Equal(["after"], ValuesOf(done.Siblings));
    }

    [Fact]
    public void A_tombstone_recovers_and_still_reads_as_deleted()
    {
        var replica = StartReplica();
        var written = Put(replica, B("k"), B("v"), null);
        Put(replica, B("k"), null, written.Siblings.Context);
        StopAndAwaitTermination(replica);

        var read = Read(StartReplica(), B("k"));

        Assert.True(read.IsDeleted);
        Assert.False(read.IsEmpty);
    }

    [Fact]
    public void The_stop_replica_hand_off_message_stops_the_replica_and_its_data_recovers()
    {
        var replica = StartReplica();
        var done = Put(replica, B("k"), B("v"), null);
        Watch(replica);

        replica.Tell(StopReplica.Instance);

        ExpectTerminated(replica, Wait);
        Assert.Equal(done.Siblings, Read(StartReplica(), B("k")));
    }
}
