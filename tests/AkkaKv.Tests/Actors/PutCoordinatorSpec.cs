using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.HintedHandoff;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using AkkaKv.Versioning;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Actors.ActorSpecSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The put coordinator against scripted replicas: a probe stands in for the shard region and
/// answers for each replica slot; another probe is the client.
/// </summary>
public sealed class PutCoordinatorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const long RequestId = 42;
    private const int Partition = 7;
    private static readonly Bytes Key = Bytes.FromUtf8("k");
    private static readonly Bytes Value = Bytes.FromUtf8("v");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    // The coordinating-replica timeout is 300 ms in the specs that script a fallback; the others
    // wait longer, so that a CPU stall on a busy machine cannot trigger a fallback they do not script.
    private readonly KvSettings _settings = Settings();
    private readonly KvSettings _patient = Settings() with { CoordinatingReplicaTimeout = TimeSpan.FromSeconds(2) };
    private readonly TestProbe _region;
    private readonly TestProbe _client;
    private readonly TestProbe _parent;

    public PutCoordinatorSpec(ITestOutputHelper output) : base((Akka.Configuration.Config?)null, "put-coordinator-spec", output)
    {
        _region = CreateTestProbe("region");
        _client = CreateTestProbe("client");
        _parent = CreateTestProbe("gateway");
    }

    private IActorRef StartPut(ResolvedOptions? options = null, Bytes? value = null, bool delete = false,
        VersionVector? context = null, PartitionView? view = null, bool fallbackAfter300Ms = false, KvSettings? settingsOverride = null)
    {
        var o = options ?? Options();
        var v = delete ? null : value ?? Value;
        var settings = settingsOverride ?? (fallbackAfter300Ms ? _settings : _patient);
        var region = _region.Ref;
        var client = _client.Ref;
        var cluster = view ?? PartitionView.Empty;
        var hints = _hintActors;
        HintsOf hintsOf = node => hints.TryGetValue(node, out var probe) ? probe.Ref : ActorRefs.Nobody;
        return _parent.ChildActorOf(Props.Create(() =>
            new PutCoordinator(RequestId, Partition, Key, v, context, o, settings, region, client, cluster, hintsOf)));
    }

    /// <summary>Stand-ins for the hint actors of the nodes n1..n5, by node name.</summary>
    private readonly Dictionary<string, TestProbe> _hintActors = new();

    private TestProbe HintActorOf(string node) =>
        _hintActors.TryGetValue(node, out var probe) ? probe : _hintActors[node] = CreateTestProbe("hints-" + node);

    private static PartitionView View(string[] unreachable, params string[] fallbacks) => new(
        ImmutableDictionary<int, string>.Empty.Add(0, "n1").Add(1, "n2").Add(2, "n3"),
        [.. unreachable], [.. fallbacks]);

    /// <summary>The next command the coordinator sends through the region: to which slot, and what.</summary>
    private (SlotId Slot, T Command, IActorRef Coordinator) ExpectCommand<T>() where T : IReplicaCommand
    {
        var envelope = _region.ExpectMsg<SlotEnvelope>(Wait);
        var command = Assert.IsType<T>(envelope.Command);
        Assert.Equal(RequestId, command.RequestId);
        return (envelope.Slot, command, _region.LastSender);
    }

    /// <summary>The replica merges sent after the coordinating replica answered, by slot index.</summary>
    private Dictionary<int, ReplicaMerge> ExpectMerges(int count)
    {
        var merges = new Dictionary<int, ReplicaMerge>();
        for (var i = 0; i < count; i++)
        {
            var (slot, merge, _) = ExpectCommand<ReplicaMerge>();
            Assert.Equal(Partition, slot.Partition);
            Assert.True(merges.TryAdd(slot.Index, merge), $"slot {slot} got two merges");
        }
        return merges;
    }

    private static SiblingSet Minted(int slotIndex, long counter = 1, string value = "v") =>
        Set(Version($"n{slotIndex + 1}/{slotIndex}.0000000{slotIndex}", counter, value));

    private static ReplicaPutDone PutDone(int slotIndex, SiblingSet siblings, long requestId = RequestId) =>
        new(requestId, new SlotId(Partition, slotIndex), $"n{slotIndex + 1}", siblings, siblings.Context);

    private static ReplicaMergeDone MergeDone(int slotIndex, long requestId = RequestId) =>
        new(requestId, new SlotId(Partition, slotIndex), $"n{slotIndex + 1}");

    [Fact]
    public void The_put_goes_first_to_slot_0_as_a_replica_put_carrying_key_value_and_context()
    {
        var context = VersionVector.Of([KeyValuePair.Create("n2/1.00000001", 3L)]);
        StartPut(context: context);

        var (slot, put, _) = ExpectCommand<ReplicaPut>();

        Assert.Equal(new SlotId(Partition, 0), slot);
        Assert.Equal(Key, put.Key);
        Assert.Equal(Value, put.Value);
        Assert.Equal(context, put.Context);
    }

    [Fact]
    public void A_coordinating_replica_still_catching_up_declines_and_the_next_is_asked_at_once_not_after_the_timeout()
    {
        StartPut(); // coordinating-replica-timeout 2 s
        var (slot0, first, from) = ExpectCommand<ReplicaPut>();
        Assert.True(first.MayDecline, "slot 0 is not the last candidate: it may decline");
        var started = System.Diagnostics.Stopwatch.StartNew();
        from.Tell(new ReplicaNotReady(first.RequestId, slot0, "n1"), _region.Ref);

        var (slot1, second, _) = ExpectCommand<ReplicaPut>();
        Assert.Equal(1, slot1.Index);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"slot 1 was asked {started.Elapsed.TotalMilliseconds:0} ms after slot 0 declined");
        Assert.Equal((first.Key, first.Value), (second.Key, second.Value));
        // The last candidate may not decline: with nowhere else to go, it waits for its catch-up.
        from.Tell(new ReplicaNotReady(second.RequestId, slot1, "n2"), _region.Ref);
        var (slot2, third, _) = ExpectCommand<ReplicaPut>();
        Assert.Equal(2, slot2.Index);
        Assert.False(third.MayDecline);
    }

    [Fact]
    public void A_put_the_coordinating_replica_refuses_fails_at_once_with_its_reason_and_is_not_retried_elsewhere()
    {
        StartPut();
        var (slot, put, from) = ExpectCommand<ReplicaPut>();
        from.Tell(new ReplicaPutRejected(put.RequestId, slot, "n1", "the key would hold 65 concurrent versions"), _region.Ref);

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Contains("65 concurrent versions", failed.Reason);
        Assert.Equal(0, failed.Acks);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void The_quorum_is_reached_with_the_coordinating_replica_and_one_merge_ack_and_the_client_gets_write_success_with_2_acks()
    {
        var coordinator = StartPut();
        Watch(coordinator);
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        var minted = Minted(0);

        from.Tell(PutDone(0, minted), _region.Ref);

        var merges = ExpectMerges(2);
        Assert.Equal([1, 2], merges.Keys.Order());
        Assert.All(merges.Values, m =>
        {
            Assert.True(m.AckWanted);
            Assert.Equal(Key, m.Key);
            Assert.Equal(minted, m.Siblings);
        });
        _client.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        from.Tell(MergeDone(2), _region.Ref);

        var success = _client.ExpectMsg<WriteSuccess>(Wait);
        Assert.Equal(Key, success.Key);
        Assert.Equal(2, success.Acks);
        Assert.Equal(CausalContext.Development.Encode(Key, minted.Context), success.Context);

        // The last replica acks: the coordinator reports what it saw to its parent and stops, with no second reply.
        from.Tell(MergeDone(1), _region.Ref);
        var seen = _parent.ExpectMsg<SlotsSeen>(Wait);
        Assert.Equal(3, seen.Nodes.Count);
        Assert.Equal("n1", seen.Nodes[new SlotId(Partition, 0)]);
        ExpectTerminated(coordinator, Wait);
        _client.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void With_W_1_the_client_gets_write_success_as_soon_as_the_coordinating_replica_has_the_version()
    {
        StartPut(Options(w: 1));
        var (_, _, from) = ExpectCommand<ReplicaPut>();

        from.Tell(PutDone(0, Minted(0)), _region.Ref);

        Assert.Equal(1, _client.ExpectMsg<WriteSuccess>(Wait).Acks);
        ExpectMerges(2);
    }

    [Fact]
    public void When_only_the_coordinating_replica_acks_within_the_timeout_the_client_gets_request_failed_naming_1_of_W_2()
    {
        var coordinator = StartPut(Options(timeoutSeconds: 1));
        Watch(coordinator);
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        from.Tell(PutDone(0, Minted(0)), _region.Ref);
        ExpectMerges(2);

        var failed = _client.ExpectMsg<RequestFailed>(Wait);

        Assert.Equal(Key, failed.Key);
        Assert.Equal(1, failed.Acks);
        Assert.Equal(2, failed.Required);
        Assert.Contains("1 of W=2", failed.Reason);
        ExpectTerminated(coordinator, Wait);
    }

    [Fact]
    public void Acks_from_the_same_slot_count_once_toward_W()
    {
        StartPut(Options(w: 3, timeoutSeconds: 1));
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        from.Tell(PutDone(0, Minted(0)), _region.Ref);
        ExpectMerges(2);

        from.Tell(MergeDone(1), _region.Ref);
        from.Tell(MergeDone(1), _region.Ref);
        from.Tell(PutDone(0, Minted(0)), _region.Ref);

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Equal(2, failed.Acks);
        Assert.Equal(3, failed.Required);
        Assert.Contains("2 of W=3", failed.Reason);
    }

    [Fact]
    public void Replies_that_belong_to_another_request_are_ignored()
    {
        StartPut(Options(timeoutSeconds: 1), fallbackAfter300Ms: true);
        var (_, _, from) = ExpectCommand<ReplicaPut>();

        from.Tell(PutDone(0, Minted(0), requestId: RequestId + 1), _region.Ref);
        from.Tell(MergeDone(1, requestId: RequestId + 1), _region.Ref);
        from.Tell(MergeDone(2, requestId: RequestId + 1), _region.Ref);

        // Not coordinated by the foreign reply: the put moves on to slot 1 and no merge goes out.
        var (slot, _, _) = ExpectCommand<ReplicaPut>();
        Assert.Equal(1, slot.Index);
        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Equal(0, failed.Acks);
    }

    [Fact]
    public void When_the_coordinating_replica_is_silent_the_put_goes_to_slot_1_after_the_coordinating_replica_timeout()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        StartPut(fallbackAfter300Ms: true);
        var (first, _, _) = ExpectCommand<ReplicaPut>();
        Assert.Equal(0, first.Index);

        var (second, put, from) = ExpectCommand<ReplicaPut>();

        Assert.True(started.Elapsed >= CoordinatingReplicaTimeout, $"slot 1 was asked after {started.Elapsed.TotalMilliseconds} ms, before the coordinating-replica timeout");
        Assert.Equal(new SlotId(Partition, 1), second);
        Assert.Equal(Value, put.Value);

        // Slot 1 coordinates: the merges go to the two other slots, including the silent slot 0.
        var minted = Minted(1);
        from.Tell(PutDone(1, minted), _region.Ref);
        var merges = ExpectMerges(2);
        Assert.Equal([0, 2], merges.Keys.Order());
        from.Tell(MergeDone(2), _region.Ref);
        var success = _client.ExpectMsg<WriteSuccess>(Wait);
        Assert.Equal(2, success.Acks);
        Assert.Equal(CausalContext.Development.Encode(Key, minted.Context), success.Context);
    }

    [Fact]
    public void A_late_answer_from_a_replaced_coordinating_replica_neither_counts_nor_triggers_a_second_round_of_merges()
    {
        StartPut(Options(w: 3, timeoutSeconds: 1), fallbackAfter300Ms: true);
        ExpectCommand<ReplicaPut>();
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        from.Tell(PutDone(1, Minted(1)), _region.Ref);
        ExpectMerges(2);

        from.Tell(PutDone(0, Minted(0)), _region.Ref);

        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Equal(1, failed.Acks);
    }

    [Fact]
    public void A_slot_whose_node_is_known_unreachable_is_tried_as_coordinating_replica_last()
    {
        var view = new PartitionView(
            ImmutableDictionary<int, string>.Empty.Add(0, "n1").Add(1, "n2").Add(2, "n3"),
            ImmutableHashSet.Create("n1"));
        StartPut(Options(timeoutSeconds: 1.5), view: view, fallbackAfter300Ms: true);

        var order = Enumerable.Range(0, 3).Select(_ => ExpectCommand<ReplicaPut>().Slot.Index).ToArray();

        Assert.Equal([1, 2, 0], order);
    }

    [Fact]
    public void When_nothing_answers_every_slot_is_tried_in_turn_and_the_client_gets_request_failed_with_0_acks_after_the_request_timeout()
    {
        var coordinator = StartPut(Options(timeoutSeconds: 1.5), fallbackAfter300Ms: true);
        Watch(coordinator);

        var tried = Enumerable.Range(0, 3).Select(_ => ExpectCommand<ReplicaPut>().Slot.Index).ToArray();
        Assert.Equal([0, 1, 2], tried);

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Equal(0, failed.Acks);
        Assert.Equal(2, failed.Required);
        Assert.Contains("0 of W=2", failed.Reason);
        Assert.Contains($"partition {Partition}", failed.Reason);
        _parent.ExpectMsg<SlotsSeen>(Wait);
        ExpectTerminated(coordinator, Wait);
        // After the last slot nothing more is tried.
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_delete_is_coordinated_like_a_put_with_a_tombstone()
    {
        StartPut(delete: true);
        var (_, put, from) = ExpectCommand<ReplicaPut>();
        Assert.Null(put.Value);
        var tombstone = Set(Version("n1/0.00000000", 2, null));

        from.Tell(PutDone(0, tombstone), _region.Ref);
        var merges = ExpectMerges(2);
        from.Tell(MergeDone(1), _region.Ref);

        Assert.All(merges.Values, m => Assert.True(m.Siblings.IsDeleted));
        Assert.Equal(CausalContext.Development.Encode(Key, tombstone.Context), _client.ExpectMsg<WriteSuccess>(Wait).Context);
    }

    [Fact]
    public void A_strict_put_with_two_of_three_primaries_unreachable_fails_at_once_naming_them_and_sends_nothing()
    {
        // A 10 s request timeout: the answer within Wait (3 s) can only be the fail-fast one.
        StartPut(Options(timeoutSeconds: 10) with { Sloppy = false }, view: View(["n2", "n3"], "n4", "n5"));

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Contains("strict quorum (sloppy=0) cannot be met", failed.Reason);
        Assert.Contains("n2, n3", failed.Reason);
        Assert.Equal(0, failed.Acks);
        Assert.Equal(2, failed.Required);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_put_with_every_primary_unreachable_fails_at_once()
    {
        StartPut(Options(timeoutSeconds: 10), view: View(["n1", "n2", "n3"], "n4", "n5"));

        Assert.Contains("no replica of partition", _client.ExpectMsg<RequestFailed>(Wait).Reason);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_sloppy_put_with_two_primaries_unreachable_is_minted_by_the_live_one_and_hinted_to_two_fallbacks_that_count_toward_W()
    {
        var n4 = HintActorOf("n4");
        var n5 = HintActorOf("n5");
        StartPut(view: View(["n2", "n3"], "n4", "n5"));

        var (slot, _, from) = ExpectCommand<ReplicaPut>();
        Assert.Equal(0, slot.Index);
        var minted = Minted(0);
        from.Tell(PutDone(0, minted), _region.Ref);

        // Each unreachable slot is hinted at once to its own fallback (its merge is sent too, in
        // case the belief that it is unreachable is stale).
        ExpectMerges(2);
        var toN4 = n4.ExpectMsg<StoreHint>(Wait);
        var toN5 = n5.ExpectMsg<StoreHint>(Wait);
        Assert.Equal(["n2", "n3"], new[] { toN4, toN5 }.OrderBy(h => h.Target.Index).Select(h => h.TargetNode));
        Assert.All(new[] { toN4, toN5 }, h => Assert.Equal(minted, h.Siblings));
        Assert.All(new[] { toN4, toN5 }, h => Assert.Equal(Key, h.Key));

        n4.Reply(new HintStored(toN4.RequestId, toN4.Target, "n4"));
        var success = _client.ExpectMsg<WriteSuccess>(Wait);
        Assert.Equal(2, success.Acks);
    }

    [Fact]
    public void A_strict_put_hints_an_unreachable_replica_for_replay_but_counts_only_primary_acks()
    {
        var n4 = HintActorOf("n4");
        StartPut(Options(w: 3) with { Sloppy = false, Timeout = TimeSpan.FromSeconds(10) }, view: View(["n3"], "n4"));

        // With W=3 and one primary unreachable, a strict put cannot succeed: it says so at once.
        Assert.Contains("strict quorum", _client.ExpectMsg<RequestFailed>(Wait).Reason);
        n4.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_strict_put_at_W2_with_one_primary_unreachable_succeeds_on_primary_acks_while_the_stored_hint_does_not_count()
    {
        var n4 = HintActorOf("n4");
        var coordinator = StartPut(Options() with { Sloppy = false }, view: View(["n3"], "n4"));
        Watch(coordinator);
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        from.Tell(PutDone(0, Minted(0)), _region.Ref);
        var merges = ExpectMerges(2);
        Assert.Equal([1, 2], merges.Keys.Order());
        var hint = n4.ExpectMsg<StoreHint>(Wait);
        Assert.Equal(2, hint.Target.Index);

        n4.Reply(new HintStored(hint.RequestId, hint.Target, "n4"));
        _client.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        _region.LastSender.Tell(MergeDone(1), _region.Ref);
        Assert.Equal(2, _client.ExpectMsg<WriteSuccess>(Wait).Acks);
        ExpectTerminated(coordinator, Wait);
    }

    [Fact]
    public void Without_fallbacks_the_hint_goes_to_this_node_and_does_not_count_toward_W()
    {
        var self = HintActorOf(_patient.NodeName);
        StartPut(Options(timeoutSeconds: 1), view: View(["n3"]));
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        from.Tell(PutDone(0, Minted(0)), _region.Ref);
        ExpectMerges(2);

        var hint = self.ExpectMsg<StoreHint>(Wait);
        Assert.Equal("n3", hint.TargetNode);
        self.Reply(new HintStored(hint.RequestId, hint.Target, _patient.NodeName));

        // Only 1 durable ack (the coordinating replica): the hint on a node that already holds a
        // replica of the partition adds no independent copy.
        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Equal(1, failed.Acks);
    }

    [Fact]
    public void A_reachable_replica_that_does_not_ack_within_replica_ack_timeout_is_hinted_to_a_fallback_and_the_hint_counts()
    {
        var n4 = HintActorOf("n4");
        var settings = _patient with { ReplicaAckTimeout = TimeSpan.FromMilliseconds(300) };
        StartPut(view: View([], "n4"), settingsOverride: settings);
        var (_, _, from) = ExpectCommand<ReplicaPut>();
        from.Tell(PutDone(0, Minted(0)), _region.Ref);
        ExpectMerges(2);

        var first = n4.ExpectMsg<StoreHint>(Wait);
        n4.Reply(new HintStored(first.RequestId, first.Target, "n4"));

        Assert.Equal(2, _client.ExpectMsg<WriteSuccess>(Wait).Acks);
    }
}
