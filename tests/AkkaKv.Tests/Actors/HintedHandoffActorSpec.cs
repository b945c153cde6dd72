using Akka.Actor;
using Akka.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;
using Akka.Configuration;
using Akka.TestKit;
using AkkaKv.Configuration;
using AkkaKv.HintedHandoff;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using AkkaKv.Versioning;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Actors.ActorSpecSupport;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The hint actor against the real journal (SQLite in a fresh temp dir), on a one-node cluster:
/// the test system joins itself under the role <c>kv-node-n1</c>, so node n1 is an Up, reachable
/// member and n9 is no member at all. A probe stands in for the shard region.
/// </summary>
public sealed class HintedHandoffActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string SelfNode = "n1";
    private const string AwayNode = "n9";
    private static readonly SlotId SlotA = new(7, 1);
    private static readonly SlotId SlotB = new(12, 2);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    /// <summary>Long enough for several replay ticks: nothing sent by then is not going to be sent.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(700);

    private static readonly SiblingSet Left = Set(Version("n2/1.00000001", 1, "left"));
    private static readonly SiblingSet Right = Set(Version("n3/2.00000002", 1, "right"));

    private readonly string _dir;
    /// <summary>
    /// No replay tick within a test, so no resend: replay is driven by stores, acks and cluster
    /// events only. The tests of the timeout use <see cref="Resending"/>.
    /// </summary>
    private readonly KvSettings _settings = DefaultSettings() with
    {
        HintsReplayInterval = TimeSpan.FromMinutes(5),
        HintsReplayTimeout = TimeSpan.FromMinutes(5),
    };

    /// <summary>A tick every 200 ms; a hint without an ack for 500 ms is sent again.</summary>
    private KvSettings Resending => _settings with
    {
        HintsReplayInterval = TimeSpan.FromMilliseconds(200),
        HintsReplayTimeout = TimeSpan.FromMilliseconds(500),
    };
    private long _nextRequestId;

    public HintedHandoffActorSpec(ITestOutputHelper output) : this(SqliteJournal.NewDataDir("hints-spec"), output) { }

    private HintedHandoffActorSpec(string dir, ITestOutputHelper output) : base(SystemConfig(dir), "hints-spec", output)
    {
        _dir = dir;
        Assert.Equal(SelfNode, _settings.NodeName);
        JoinItself(Sys);
    }

    private static Config SystemConfig(string dir) => SqliteJournal.OneNodeClusterConfig(dir, SelfNode);

    private void JoinItself(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, TimeSpan.FromSeconds(30));
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteJournal.DeleteDataDir(_dir);
    }

    // ---- helpers ----

    private static IActorRef StartHints(ActorSystem system, KvSettings settings, TestProbe region) =>
        system.ActorOf(HintedHandoffActor.PropsFor(settings, () => region.Ref, TimeProvider.System));

    private IActorRef StartHints(TestProbe region, KvSettings? settings = null) => StartHints(Sys, settings ?? _settings, region);

    private void StopAndAwaitTermination(IActorRef actor) => this.StopAndAwaitTermination(actor, Wait);

    private long Scalar(string sql) => SqliteJournal.Scalar(_dir, sql, "hints-" + SelfNode);

    private StoreHint Request(SlotId slot, string node, string key, SiblingSet siblings) => new(++_nextRequestId, slot, node, B(key), siblings);

    private void Store(IActorRef hints, SlotId slot, string node, string key, SiblingSet siblings)
    {
        var request = Request(slot, node, key, siblings);
        hints.Tell(request, TestActor);
        Assert.Equal(new HintStored(request.RequestId, slot, SelfNode), ExpectMsg<HintStored>(Wait));
    }

    private HintTargetStats[] Stats(IActorRef hints)
    {
        hints.Tell(GetHintStats.Instance, TestActor);
        var stats = ExpectMsg<HintStats>(Wait);
        Assert.Equal(SelfNode, stats.Node);
        return stats.Targets.ToArray();
    }

    private static ReplicaMerge ExpectReplay(TestProbe region, SlotId slot, string key)
    {
        var envelope = region.ExpectMsg<SlotEnvelope>(Wait);
        Assert.Equal(slot, envelope.Slot);
        var merge = Assert.IsType<ReplicaMerge>(envelope.Command);
        Assert.Equal(key, merge.Key.ToUtf8());
        Assert.True(merge.AckWanted);
        return merge;
    }

    /// <summary>The target replica's durable ack, as a replica sends it: to the hint actor, from the replica (here the region probe).</summary>
    private static void Ack(IActorRef hints, TestProbe region, ReplicaMerge merge, SlotId slot, string node) =>
        hints.Tell(new ReplicaMergeDone(merge.RequestId, slot, node), region.Ref);

    /// <summary>
    /// Waits until the stats are <paramref name="expected"/>, then drains what the region got until
    /// then: a resend that raced the ack is already in the probe's queue by the time the stats answer.
    /// </summary>
    private void AwaitStats(IActorRef hints, HintTargetStats[] expected, TestProbe? drain = null)
    {
        AwaitAssert(() => Assert.Equal(expected, Stats(hints)), Wait);
        drain?.ReceiveWhile(TimeSpan.FromMilliseconds(50), m => m);
    }

    /// <summary>Acks every envelope the region gets (at most 20) until it stays quiet; returns what was delivered.</summary>
    private static List<ReplicaMerge> AckEverything(IActorRef hints, TestProbe region, string node)
    {
        var delivered = new List<ReplicaMerge>();
        for (var i = 0; i < 20; i++)
        {
            if (region.ReceiveOne(Quiet) is not SlotEnvelope envelope) return delivered;
            var merge = Assert.IsType<ReplicaMerge>(envelope.Command);
            delivered.Add(merge);
            Ack(hints, region, merge, envelope.Slot, node);
        }
        throw new InvalidOperationException($"the region never went quiet: {string.Join(", ", delivered.Select(m => m.RequestId))}");
    }

    // ---- storing ----

    [Fact]
    public void A_stored_hint_is_answered_HintStored_only_once_it_is_in_the_journal()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region);
        var request = Request(SlotA, AwayNode, "k", Left);

        hints.Tell(request, TestActor);

        Assert.Equal(new HintStored(request.RequestId, SlotA, SelfNode), ExpectMsg<HintStored>(Wait));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = $pid AND deleted = 0"));
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Stats_show_the_hints_held_per_target_in_node_name_order()
    {
        var hints = StartHints(CreateTestProbe("region"));
        Assert.Empty(Stats(hints));

        Store(hints, SlotA, AwayNode, "k1", Left);
        Store(hints, SlotA, AwayNode, "k2", Left);
        Store(hints, SlotB, "n8", "k1", Right);
        // A second write of a held key merges into its hint: still one hint for it.
        Store(hints, SlotA, AwayNode, "k1", Right);

        Assert.Equal([new HintTargetStats("n8", 1, 0, 0), new HintTargetStats(AwayNode, 2, 0, 0)], Stats(hints));
    }

    // ---- replay ----

    [Fact]
    public void A_hint_for_a_node_that_is_no_member_is_replayed_to_its_slot_through_the_region_and_its_ack_removes_it()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region, Resending);
        Store(hints, SlotA, AwayNode, "k", Left);

        var envelope = region.ExpectMsg<SlotEnvelope>(Wait);

        // The first hint of a fresh journal has id 1; the merge carries it as its request id.
        Assert.Equal(new SlotEnvelope(SlotA, new ReplicaMerge(1, B("k"), Left, AckWanted: true)), envelope);
        Assert.Equal(hints, region.LastSender);
        region.Reply(new ReplicaMergeDone(1, SlotA, AwayNode));
        AwaitStats(hints, [new HintTargetStats(AwayNode, 0, 1, 0)], drain: region);
        // Three replay timeouts: an acknowledged hint is never sent again.
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(1500));
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = $pid AND deleted = 0"));
    }

    [Fact]
    public void A_hint_for_an_Up_reachable_member_is_replayed()
    {
        // This node, n1, is the cluster's one member: Up and reachable.
        var region = CreateTestProbe("region");
        var hints = StartHints(region);
        Store(hints, SlotB, SelfNode, "k", Right);

        var merge = ExpectReplay(region, SlotB, "k");
        Assert.Equal(Right, merge.Siblings);
        Ack(hints, region, merge, SlotB, SelfNode);

        AwaitStats(hints, [new HintTargetStats(SelfNode, 0, 1, 0)]);
    }

    [Fact]
    public void A_hint_for_an_unreachable_member_is_held_until_the_member_is_reachable_again()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region);
        // The actor knows the cluster once a hint for a non-member goes out.
        Store(hints, SlotA, AwayNode, "known", Left);
        ExpectReplay(region, SlotA, "known");
        var self = Cluster.Get(Sys).SelfMember;

        hints.Tell(new ClusterEvent.UnreachableMember(self), TestActor);
        Store(hints, SlotB, SelfNode, "k", Right);
        region.ExpectNoMsg(Quiet);
        Assert.Contains(new HintTargetStats(SelfNode, 1, 0, 0), Stats(hints));

        hints.Tell(new ClusterEvent.ReachableMember(self), TestActor);
        var merge = ExpectReplay(region, SlotB, "k");
        Ack(hints, region, merge, SlotB, SelfNode);
        AwaitAssert(() => Assert.Contains(new HintTargetStats(SelfNode, 0, 1, 0), Stats(hints)), Wait);
    }

    [Fact]
    public void A_target_the_view_holds_unreachable_while_the_cluster_state_shows_it_reachable_is_replayed_to_at_the_next_tick()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region, Resending);
        Store(hints, SlotA, AwayNode, "known", Left);
        Ack(hints, region, ExpectReplay(region, SlotA, "known"), SlotA, AwayNode);
        AwaitStats(hints, [new HintTargetStats(AwayNode, 0, 1, 0)]);
        // An UnreachableMember the cluster never published: this actor's view now keeps n1 from
        // replay, while Cluster.State (and every later event) still shows n1 Up and reachable.
        hints.Tell(new ClusterEvent.UnreachableMember(Cluster.Get(Sys).SelfMember), TestActor);
        Store(hints, SlotB, SelfNode, "k", Right);

        var merge = ExpectReplay(region, SlotB, "k");
        Ack(hints, region, merge, SlotB, SelfNode);
        AwaitAssert(() => Assert.Contains(new HintTargetStats(SelfNode, 0, 1, 0), Stats(hints)), Wait);
    }

    [Fact]
    public void At_most_replay_window_hints_are_in_flight_and_the_next_go_out_as_acks_arrive()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region, _settings with { HintsReplayWindow = 2 });
        for (var i = 0; i < 5; i++) Store(hints, SlotA, AwayNode, $"k{i}", Left);

        var inFlight = new Queue<ReplicaMerge>([ExpectReplay(region, SlotA, "k0"), ExpectReplay(region, SlotA, "k1")]);
        region.ExpectNoMsg(Quiet);

        for (var next = 2; next < 5; next++)
        {
            Ack(hints, region, inFlight.Dequeue(), SlotA, AwayNode);
            inFlight.Enqueue(ExpectReplay(region, SlotA, $"k{next}"));
            region.ExpectNoMsg(Quiet);
        }
        Ack(hints, region, inFlight.Dequeue(), SlotA, AwayNode);
        AwaitStats(hints, [new HintTargetStats(AwayNode, 1, 4, 0)]);
        Ack(hints, region, inFlight.Dequeue(), SlotA, AwayNode);
        AwaitStats(hints, [new HintTargetStats(AwayNode, 0, 5, 0)]);
        region.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Acks_that_arrive_together_free_the_window_without_sending_the_acknowledged_hints_again()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region, _settings with { HintsReplayWindow = 2 });
        for (var i = 0; i < 3; i++) Store(hints, SlotA, AwayNode, $"k{i}", Left);
        var k0 = ExpectReplay(region, SlotA, "k0");
        var k1 = ExpectReplay(region, SlotA, "k1");

        // Both acks arrive before the first HintDelivered is in the journal, as a target's acks do.
        Ack(hints, region, k0, SlotA, AwayNode);
        Ack(hints, region, k1, SlotA, AwayNode);

        // The next to go out is k2, and only k2: k1 is acknowledged, not waiting for an ack.
        ExpectReplay(region, SlotA, "k2");
        AwaitStats(hints, [new HintTargetStats(AwayNode, 1, 2, 0)]);
        region.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_hint_without_an_ack_is_sent_again_after_the_replay_timeout_until_acknowledged()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region, Resending);
        Store(hints, SlotA, AwayNode, "k", Left);

        var first = region.ExpectMsg<SlotEnvelope>(Wait);
        // Not before the timeout (500 ms after the send)...
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        // ...then again, and again, the same hint under the same id.
        Assert.Equal(first, region.ExpectMsg<SlotEnvelope>(Wait));
        Assert.Equal(first, region.ExpectMsg<SlotEnvelope>(Wait));
        Assert.Equal([new HintTargetStats(AwayNode, 1, 0, 0)], Stats(hints));

        region.Reply(new ReplicaMergeDone(first.Command.RequestId, SlotA, AwayNode));
        AwaitStats(hints, [new HintTargetStats(AwayNode, 0, 1, 0)], drain: region);
        region.ExpectNoMsg(TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public void An_ack_for_an_id_that_was_merged_into_a_newer_hint_deletes_nothing()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region);
        Store(hints, SlotA, AwayNode, "k", Left);
        var old = ExpectReplay(region, SlotA, "k");
        Store(hints, SlotA, AwayNode, "k", Right);
        var merged = ExpectReplay(region, SlotA, "k");
        Assert.True(merged.RequestId > old.RequestId);
        Assert.Equal(Left.Merge(Right), merged.Siblings);

        // The target acknowledges the older content only: the newer hint must stay.
        Ack(hints, region, old, SlotA, AwayNode);
        region.ExpectNoMsg(Quiet);
        Assert.Equal([new HintTargetStats(AwayNode, 1, 0, 0)], Stats(hints));

        Ack(hints, region, merged, SlotA, AwayNode);
        AwaitStats(hints, [new HintTargetStats(AwayNode, 0, 1, 0)]);
    }

    // ---- the bound ----

    [Fact]
    public void With_max_2_per_target_a_third_key_is_refused_and_counted_while_a_held_key_still_takes_writes()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region, _settings with { HintsMaxPerTarget = 2 });
        Store(hints, SlotA, AwayNode, "k1", Left);
        Store(hints, SlotA, AwayNode, "k2", Left);

        var third = Request(SlotA, AwayNode, "k3", Left);
        hints.Tell(third, TestActor);

        var refused = ExpectMsg<HintRefused>(Wait);
        Assert.Equal(third.RequestId, refused.RequestId);
        Assert.Equal(SlotA, refused.Target);
        Assert.Equal(SelfNode, refused.Holder);
        Assert.Contains(AwayNode, refused.Reason);
        Assert.Contains("hints.max-per-target", refused.Reason);
        Assert.Equal([new HintTargetStats(AwayNode, 2, 0, 1)], Stats(hints));

        // A second write to a held key merges into its hint: still stored, still 2 held.
        Store(hints, SlotA, AwayNode, "k1", Right);
        // Another target has its own bound.
        Store(hints, SlotB, "n8", "k3", Left);
        Assert.Equal([new HintTargetStats("n8", 1, 0, 0), new HintTargetStats(AwayNode, 2, 0, 1)], Stats(hints));

        // What went out: k1, k2, k1 merged under a new id, n8's k3; never the refused k3 for n9.
        var sent = region.ReceiveN(4, Wait).Cast<SlotEnvelope>().ToArray();
        Assert.Equal(["k1", "k2", "k1", "k3"], sent.Select(e => ((ReplicaMerge)e.Command).Key.ToUtf8()));
        Assert.Equal([SlotA, SlotA, SlotA, SlotB], sent.Select(e => e.Slot));
        Assert.Equal(Left.Merge(Right), ((ReplicaMerge)sent[2].Command).Siblings);
        region.ExpectNoMsg(Quiet);
    }

    // ---- durability ----

    [Fact]
    public void After_the_actor_restarts_held_hints_and_counters_survive_and_undelivered_hints_are_replayed()
    {
        var settings = _settings with { HintsMaxPerTarget = 3 };
        var region = CreateTestProbe("region");
        var hints = StartHints(region, settings);
        Store(hints, SlotA, AwayNode, "k1", Left);
        Store(hints, SlotA, AwayNode, "k2", Left);
        Store(hints, SlotB, AwayNode, "k3", Right);
        hints.Tell(Request(SlotA, AwayNode, "k4", Left), TestActor);
        ExpectMsg<HintRefused>(Wait);
        ExpectReplay(region, SlotA, "k1");
        Ack(hints, region, ExpectReplay(region, SlotA, "k2"), SlotA, AwayNode);
        ExpectReplay(region, SlotB, "k3");
        AwaitStats(hints, [new HintTargetStats(AwayNode, 2, 1, 1)]);

        StopAndAwaitTermination(hints);
        var regionAfter = CreateTestProbe("region-after");
        var recovered = StartHints(regionAfter, settings);

        Assert.Equal([new HintTargetStats(AwayNode, 2, 1, 1)], Stats(recovered));
        var k1 = ExpectReplay(regionAfter, SlotA, "k1");
        var k3 = ExpectReplay(regionAfter, SlotB, "k3");
        Assert.Equal((1L, Left), (k1.RequestId, k1.Siblings));
        Assert.Equal((3L, Right), (k3.RequestId, k3.Siblings));
        Ack(recovered, regionAfter, k1, SlotA, AwayNode);
        AwaitStats(recovered, [new HintTargetStats(AwayNode, 1, 2, 1)]);
        Ack(recovered, regionAfter, k3, SlotB, AwayNode);
        AwaitStats(recovered, [new HintTargetStats(AwayNode, 0, 3, 1)]);
        regionAfter.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void After_the_whole_node_restarts_on_the_same_journal_hints_survive_are_replayed_and_ids_continue()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region);
        Store(hints, SlotA, AwayNode, "k1", Left);
        Store(hints, SlotA, AwayNode, "k2", Right);
        Ack(hints, region, ExpectReplay(region, SlotA, "k1"), SlotA, AwayNode);
        AwaitStats(hints, [new HintTargetStats(AwayNode, 1, 1, 0)]);

        Shutdown(Sys, Wait, verifySystemShutdown: true);
        var restarted = ActorSystem.Create("hints-spec-restarted", SystemConfig(_dir));
        try
        {
            JoinItself(restarted);
            var client = CreateTestProbe(restarted, "client");
            var regionAfter = CreateTestProbe(restarted, "region");
            var recovered = StartHints(restarted, _settings, regionAfter);

            client.Send(recovered, GetHintStats.Instance);
            Assert.Equal([new HintTargetStats(AwayNode, 1, 1, 0)], client.ExpectMsg<HintStats>(Wait).Targets);
            var k2 = ExpectReplay(regionAfter, SlotA, "k2");
            Assert.Equal((2L, Right), (k2.RequestId, k2.Siblings));

            // A new hint continues the ids: 3, never a reused 1 or 2.
            client.Send(recovered, Request(SlotB, AwayNode, "k3", Left));
            client.ExpectMsg<HintStored>(Wait);
            Assert.Equal(3, ExpectReplay(regionAfter, SlotB, "k3").RequestId);
        }
        finally
        {
            Shutdown(restarted, Wait);
        }
    }

    [Fact]
    public void With_a_snapshot_every_3_events_the_state_recovers_from_the_snapshot_including_the_next_id()
    {
        var settings = _settings with { HintsSnapshotEvery = 3, HintsMaxPerTarget = 3 };
        var region = CreateTestProbe("region");
        var hints = StartHints(region, settings);
        // Events 1-3: three hints (ids 1-3); snapshot at 3.
        Store(hints, SlotA, AwayNode, "k1", Left);
        Store(hints, SlotA, AwayNode, "k2", Left);
        Store(hints, SlotB, AwayNode, "k3", Right);
        // Event 4: an overflow.
        hints.Tell(Request(SlotA, AwayNode, "k4", Left), TestActor);
        ExpectMsg<HintRefused>(Wait);
        // Event 5: k1 merged under id 4. Event 6: id 4 delivered; snapshot at 6.
        Store(hints, SlotA, AwayNode, "k1", Right);
        ExpectReplay(region, SlotA, "k1");
        ExpectReplay(region, SlotA, "k2");
        ExpectReplay(region, SlotB, "k3");
        var merged = ExpectReplay(region, SlotA, "k1");
        Assert.Equal(4, merged.RequestId);
        Ack(hints, region, merged, SlotA, AwayNode);
        AwaitStats(hints, [new HintTargetStats(AwayNode, 2, 1, 1)]);
        AwaitAssert(() =>
        {
            Assert.Equal(6, Scalar("SELECT COALESCE(MAX(sequence_number), 0) FROM snapshot WHERE persistence_id = $pid"));
            Assert.Equal(0, Scalar("SELECT COUNT(*) FROM journal WHERE persistence_id = $pid AND deleted = 0 AND sequence_number <= 6"));
        }, Wait);

        StopAndAwaitTermination(hints);
        var regionAfter = CreateTestProbe("region-after");
        var recovered = StartHints(regionAfter, settings);

        Assert.Equal([new HintTargetStats(AwayNode, 2, 1, 1)], Stats(recovered));
        var k2 = ExpectReplay(regionAfter, SlotA, "k2");
        var k3 = ExpectReplay(regionAfter, SlotB, "k3");
        Assert.Equal((2L, Left), (k2.RequestId, k2.Siblings));
        Assert.Equal((3L, Right), (k3.RequestId, k3.Siblings));
        // The snapshot's next id is 5 although the highest held id is 3: id 4 is never reused.
        Store(recovered, SlotA, AwayNode, "k5", Left);
        Assert.Equal(5, ExpectReplay(regionAfter, SlotA, "k5").RequestId);
        Assert.Equal([new HintTargetStats(AwayNode, 3, 1, 1)], Stats(recovered));
    }

    // ---- hints that arrive while an earlier one is still being persisted ----

    [Fact]
    public void Two_hints_for_different_keys_sent_back_to_back_are_both_held_and_both_replayed()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region);
        var a = Request(SlotA, AwayNode, "a", Left);
        var b = Request(SlotA, AwayNode, "b", Right);

        // The second arrives before the first is in the journal, as concurrent puts do.
        hints.Tell(a, TestActor);
        hints.Tell(b, TestActor);
        Assert.Equal([a.RequestId, b.RequestId], new[] { ExpectMsg<HintStored>(Wait), ExpectMsg<HintStored>(Wait) }.Select(s => s.RequestId).Order());

        var delivered = AckEverything(hints, region, AwayNode);

        Assert.Equal(["a", "b"], delivered.Select(m => m.Key.ToUtf8()).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal([new HintTargetStats(AwayNode, 0, 2, 0)], Stats(hints));
    }

    [Fact]
    public void Two_writes_of_the_same_key_sent_back_to_back_are_both_handed_to_the_target()
    {
        var region = CreateTestProbe("region");
        var hints = StartHints(region);

        hints.Tell(Request(SlotA, AwayNode, "k", Left), TestActor);
        hints.Tell(Request(SlotA, AwayNode, "k", Right), TestActor);
        ExpectMsg<HintStored>(Wait);
        ExpectMsg<HintStored>(Wait);

        var delivered = AckEverything(hints, region, AwayNode);

        // Both writes were acknowledged to their coordinators as held: the target must get both.
        var handedOver = delivered.Aggregate(SiblingSet.Empty, (acc, m) => acc.Merge(m.Siblings));
        Assert.Equal(Left.Merge(Right), handedOver);
        Assert.Equal([new HintTargetStats(AwayNode, 0, 1, 0)], Stats(hints));
    }

    [Fact]
    public void Writes_for_distinct_keys_sent_back_to_back_never_exceed_max_per_target()
    {
        var hints = StartHints(CreateTestProbe("region"), _settings with { HintsMaxPerTarget = 1 });

        hints.Tell(Request(SlotA, AwayNode, "a", Left), TestActor);
        hints.Tell(Request(SlotA, AwayNode, "b", Right), TestActor);
        var replies = new[] { ExpectMsg<object>(Wait), ExpectMsg<object>(Wait) };

        Assert.Single(replies.OfType<HintStored>());
        Assert.Single(replies.OfType<HintRefused>());
        Assert.Equal([new HintTargetStats(AwayNode, 1, 0, 1)], Stats(hints));
    }

    // ---- hand-over at a leave ----

    /// <summary>Stands in for another member's hint actor (at <c>/user/kv-hints</c>): forwards what it gets to a probe, sender kept.</summary>
    private sealed class ForwardTo(IActorRef target) : ReceiveActor
    {
        protected override void Unhandled(object message) => target.Forward(message);
    }

    [Fact]
    public void A_leaving_node_hands_every_hint_to_the_next_receiver_that_takes_it_and_forgets_it_only_then()
    {
        var region = CreateTestProbe();
        var receiver = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new ForwardTo(receiver.Ref)), AkkaKv.NodeActors.Hints);
        var hints = StartHints(region);
        Store(hints, SlotA, AwayNode, "a", Left);
        Store(hints, SlotB, AwayNode, "b", Right);
        Store(hints, SlotA, "n3", "c", Right);
        region.ReceiveWhile(Quiet, m => m); // replays to n9 (no member): never acked here

        // Two members take hints (both reached at this system's address); n3 is a hint's own target and is skipped for it.
        var self = Cluster.Get(Sys).SelfAddress;
        hints.Tell(new HandOverHints([("n2", self), ("n3", self)]), TestActor);
        var offered = new List<StoreHint>();
        for (var i = 0; i < 3; i++) offered.Add(receiver.ExpectMsg<StoreHint>(Wait));
        Assert.Equal(["a", "b", "c"], offered.Select(h => h.Key.ToUtf8()).Order());
        Assert.Equal(Right, offered.Single(h => h.Key.ToUtf8() == "c").Siblings);
        Assert.All(offered, h => Assert.Equal(h.Key.ToUtf8() == "c" ? "n3" : AwayNode, h.TargetNode));

        // The first receiver refuses "a" (its bound is full): it is offered to the next one.
        var a = offered.Single(h => h.Key.ToUtf8() == "a");
        hints.Tell(new HintRefused(a.RequestId, a.Target, "n2", "full"), receiver.Ref);
        var again = receiver.ExpectMsg<StoreHint>(Wait);
        Assert.Equal(a with { }, again);
        // Not handed over until every one is durable elsewhere: nothing is forgotten before.
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(3, Stats(hints).Sum(t => t.Held));
        foreach (var h in offered.Where(h => h.Key.ToUtf8() != "a").Append(again))
            hints.Tell(new HintStored(h.RequestId, h.Target, "n2"), receiver.Ref);
        Assert.Equal(new HintsHandedOver(3, 0), ExpectMsg<HintsHandedOver>(Wait));
        Assert.Equal(0, Stats(hints).Sum(t => t.Held));

        // Forgotten durably: a restart does not bring them back.
        StopAndAwaitTermination(hints);
        Assert.Equal(0, Stats(StartHints(region)).Sum(t => t.Held));
    }

    [Fact]
    public void A_hint_no_receiver_takes_is_kept_and_counted()
    {
        var region = CreateTestProbe();
        var receiver = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new ForwardTo(receiver.Ref)), AkkaKv.NodeActors.Hints);
        var hints = StartHints(region);
        Store(hints, SlotA, AwayNode, "a", Left);
        hints.Tell(new HandOverHints([("n2", Cluster.Get(Sys).SelfAddress)]), TestActor);
        var offer = receiver.ExpectMsg<StoreHint>(Wait);
        hints.Tell(new HintRefused(offer.RequestId, offer.Target, "n2", "full"), receiver.Ref);
        Assert.Equal(new HintsHandedOver(0, 1), ExpectMsg<HintsHandedOver>(Wait));
        Assert.Equal(1, Stats(hints).Sum(t => t.Held));
    }
}
