using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using AkkaKv.Versioning;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Actors.ActorSpecSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The get coordinator against scripted replicas: a probe stands in for the shard region and
/// answers for each replica slot; another probe is the client.
/// </summary>
public sealed class GetCoordinatorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const long RequestId = 17;
    private const int Partition = 3;
    private static readonly Bytes Key = Bytes.FromUtf8("k");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    // Versions minted by three replica incarnations.
    private const string A = "n1/0.0000000a";
    private const string B = "n2/1.0000000b";

    // A 1 s read-repair window, so that a CPU stall cannot close it before a scripted late reply;
    // the spec of the window itself uses the 300 ms one.
    private readonly KvSettings _settings = Settings() with { ReadRepairWindow = TimeSpan.FromSeconds(1) };
    private readonly TestProbe _region;
    private readonly TestProbe _client;
    private readonly TestProbe _parent;

    public GetCoordinatorSpec(ITestOutputHelper output) : base((Akka.Configuration.Config?)null, "get-coordinator-spec", output)
    {
        _region = CreateTestProbe("region");
        _client = CreateTestProbe("client");
        _parent = CreateTestProbe("gateway");
    }

    /// <summary>Starts a get and returns the coordinator once it has asked all three slots.</summary>
    private IActorRef StartGet(ResolvedOptions? options = null, PartitionView? view = null, KvSettings? settings = null)
    {
        var o = options ?? Options();
        var s = settings ?? _settings;
        var region = _region.Ref;
        var client = _client.Ref;
        var cluster = view ?? PartitionView.Empty;
        var coordinator = _parent.ChildActorOf(Props.Create(() =>
            new GetCoordinator(RequestId, Partition, Key, o, s, region, client, cluster)));
        var asked = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            var envelope = _region.ExpectMsg<SlotEnvelope>(Wait);
            var read = Assert.IsType<ReplicaRead>(envelope.Command);
            Assert.Equal(RequestId, read.RequestId);
            Assert.Equal(Key, read.Key);
            Assert.Equal(Partition, envelope.Slot.Partition);
            Assert.Equal(coordinator, _region.LastSender);
            asked.Add(envelope.Slot.Index);
        }
        Assert.Equal([0, 1, 2], asked.Order());
        return coordinator;
    }

    private void Answer(IActorRef coordinator, int slotIndex, SiblingSet siblings, long requestId = RequestId) =>
        coordinator.Tell(new ReplicaReadResult(requestId, new SlotId(Partition, slotIndex), $"n{slotIndex + 1}", siblings), _region.Ref);

    private static ReplicaReadState[] States(IEnumerable<ReplicaReport> reports) =>
        reports.OrderBy(r => r.Slot).Select(r => r.State).ToArray();

    /// <summary>The next <paramref name="count"/> read repairs, by slot index; then nothing more.</summary>
    private Dictionary<int, ReplicaMerge> ExpectRepairs(int count)
    {
        var repairs = new Dictionary<int, ReplicaMerge>();
        for (var i = 0; i < count; i++)
        {
            var msg = _region.ExpectMsg<SlotEnvelope>(Wait);
            var merge = Assert.IsType<ReplicaMerge>(msg.Command);
            Assert.True(repairs.TryAdd(msg.Slot.Index, merge), $"slot {msg.Slot} was repaired twice");
        }
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        return repairs;
    }

    [Fact]
    public void Concurrent_versions_from_two_replicas_are_merged_into_a_get_success_with_both_values()
    {
        var coordinator = StartGet();
        var a = Version(A, 1, "a");
        var b = Version(B, 1, "b");

        Answer(coordinator, 0, Set(a));
        _client.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Answer(coordinator, 1, Set(b));

        var success = _client.ExpectMsg<GetSuccess>(Wait);
        Assert.Equal(Key, success.Key);
        Assert.Equal(["a", "b"], ValuesOf(success.Values).Order());
        Assert.Equal(CausalContext.Development.Encode(Key, Set(a, b).Context), success.Context);
        Assert.Equal([ReplicaReadState.Stale, ReplicaReadState.Stale, ReplicaReadState.Pending], States(success.Replicas));
        Assert.Equal(["n1", "n2"], success.Replicas.Where(r => r.Slot < 2).OrderBy(r => r.Slot).Select(r => r.Node));
    }

    [Fact]
    public void A_replica_holding_the_merged_result_is_reported_current_and_one_missing_a_version_stale()
    {
        var coordinator = StartGet();
        var a = Version(A, 1, "a");
        var b = Version(B, 1, "b");

        Answer(coordinator, 0, Set(a, b));
        Answer(coordinator, 1, Set(a));

        var success = _client.ExpectMsg<GetSuccess>(Wait);
        Assert.Equal(["a", "b"], ValuesOf(success.Values).Order());
        Assert.Equal([ReplicaReadState.Current, ReplicaReadState.Stale, ReplicaReadState.Pending], States(success.Replicas));
    }

    [Fact]
    public void A_newer_version_supersedes_an_older_one_read_from_another_replica()
    {
        var coordinator = StartGet();
        var v1 = Version(A, 1, "v1");
        var v2 = Version(A, 2, "v2", Set(v1).Context);

        Answer(coordinator, 0, Set(v1));
        Answer(coordinator, 1, Set(v2));

        var success = _client.ExpectMsg<GetSuccess>(Wait);
        Assert.Equal(["v2"], ValuesOf(success.Values));
        Assert.Equal([ReplicaReadState.Stale, ReplicaReadState.Current, ReplicaReadState.Pending], States(success.Replicas));
    }

    [Fact]
    public void When_every_reply_is_empty_the_client_gets_not_found()
    {
        var coordinator = StartGet();

        Answer(coordinator, 0, SiblingSet.Empty);
        Answer(coordinator, 2, SiblingSet.Empty);

        var notFound = _client.ExpectMsg<NotFound>(Wait);
        Assert.Equal(Key, notFound.Key);
        Assert.Equal(CausalContext.Development.Encode(Key, VersionVector.Empty), notFound.Context);
        Assert.Equal([ReplicaReadState.NotFound, ReplicaReadState.Pending, ReplicaReadState.NotFound], States(notFound.Replicas));
    }

    [Fact]
    public void A_deleted_key_reads_as_not_found_carrying_the_tombstones_context()
    {
        var coordinator = StartGet();
        var v1 = Version(A, 1, "v1");
        var tombstone = Version(A, 2, null, Set(v1).Context);

        Answer(coordinator, 0, Set(v1));
        Answer(coordinator, 1, Set(tombstone));

        var notFound = _client.ExpectMsg<NotFound>(Wait);
        Assert.Equal(CausalContext.Development.Encode(Key, Set(tombstone).Context), notFound.Context);
        Assert.Equal([ReplicaReadState.Stale, ReplicaReadState.Current, ReplicaReadState.Pending], States(notFound.Replicas));
    }

    [Fact]
    public void When_fewer_than_R_replicas_answer_in_time_the_client_gets_request_failed_naming_the_count_of_R_2()
    {
        var coordinator = StartGet(Options(timeoutSeconds: 1));
        Watch(coordinator);

        Answer(coordinator, 1, Set(Version(A, 1, "a")));

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Equal(Key, failed.Key);
        Assert.Equal(1, failed.Acks);
        Assert.Equal(2, failed.Required);
        Assert.Contains("1 of R=2", failed.Reason);
        ExpectTerminated(coordinator, Wait);
    }

    [Fact]
    public void A_read_that_times_out_reports_each_replica_as_answered_timed_out_or_unreachable()
    {
        var view = new PartitionView(ImmutableDictionary<int, string>.Empty.Add(1, "n2").Add(2, "n3"), ImmutableHashSet.Create("n3"));
        var coordinator = StartGet(Options(timeoutSeconds: 1), view);

        Answer(coordinator, 0, Set(Version(A, 1, "a")));

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.NotNull(failed.Replicas);
        Assert.Equal([ReplicaReadState.Current, ReplicaReadState.Timeout, ReplicaReadState.Unreachable], States(failed.Replicas!));
        Assert.Equal(["n2", "n3"], failed.Replicas!.Skip(1).Select(r => r.Node));
    }

    [Fact]
    public void A_read_at_R2_with_two_of_three_replicas_unreachable_fails_at_once_naming_them_and_asks_nothing()
    {
        // A 10 s request timeout: the answer within Wait (3 s) can only be the fail-fast one.
        var view = new PartitionView(ImmutableDictionary<int, string>.Empty.Add(0, "n1").Add(1, "n2").Add(2, "n3"), ImmutableHashSet.Create("n2", "n3"));
        var options = Options(timeoutSeconds: 10);
        var (settings, region, client) = (_settings, _region.Ref, _client.Ref);
        var coordinator = _parent.ChildActorOf(Props.Create(() =>
            new GetCoordinator(RequestId, Partition, Key, options, settings, region, client, view)));
        Watch(coordinator);

        var failed = _client.ExpectMsg<RequestFailed>(Wait);
        Assert.Contains("read quorum cannot be met: only 1 of N=3 replicas are reachable (unreachable: n2, n3), R=2", failed.Reason);
        Assert.Equal((0, 2), (failed.Acks, failed.Required));
        Assert.Equal([ReplicaReadState.Pending, ReplicaReadState.Unreachable, ReplicaReadState.Unreachable], States(failed.Replicas!));
        ExpectTerminated(coordinator, Wait);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_read_at_R1_with_two_of_three_replicas_unreachable_is_answered_by_the_live_one()
    {
        var view = new PartitionView(ImmutableDictionary<int, string>.Empty.Add(0, "n1").Add(1, "n2").Add(2, "n3"), ImmutableHashSet.Create("n2", "n3"));
        var coordinator = StartGet(Options(r: 1, timeoutSeconds: 10), view);

        Answer(coordinator, 0, Set(Version(A, 1, "a")));

        var success = _client.ExpectMsg<GetSuccess>(Wait);
        Assert.Equal([Bytes.FromUtf8("a")], success.Values);
    }

    [Fact]
    public void When_no_replica_answers_the_client_gets_request_failed_with_0_of_R_2()
    {
        StartGet(Options(timeoutSeconds: 1));

        var failed = _client.ExpectMsg<RequestFailed>(Wait);

        Assert.Equal(0, failed.Acks);
        Assert.Contains("0 of R=2", failed.Reason);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Repeated_replies_from_one_slot_count_once_toward_R()
    {
        var coordinator = StartGet(Options(timeoutSeconds: 1));

        Answer(coordinator, 0, Set(Version(A, 1, "a")));
        Answer(coordinator, 0, Set(Version(A, 1, "a")));
        Answer(coordinator, 1, Set(Version(A, 1, "a")), requestId: RequestId + 1);

        Assert.Equal(1, _client.ExpectMsg<RequestFailed>(Wait).Acks);
    }

    [Fact]
    public void With_R_1_the_first_reply_answers_the_client()
    {
        var coordinator = StartGet(Options(r: 1));

        Answer(coordinator, 2, Set(Version(A, 1, "a")));

        var success = _client.ExpectMsg<GetSuccess>(Wait);
        Assert.Equal(["a"], ValuesOf(success.Values));
        Assert.Equal([ReplicaReadState.Pending, ReplicaReadState.Pending, ReplicaReadState.Current], States(success.Replicas));
    }

    [Fact]
    public void A_slot_on_an_unreachable_node_that_has_not_answered_is_reported_unreachable()
    {
        var view = new PartitionView(ImmutableDictionary<int, string>.Empty.Add(2, "n3"), ImmutableHashSet.Create("n3"));
        var coordinator = StartGet(view: view);

        Answer(coordinator, 0, Set(Version(A, 1, "a")));
        Answer(coordinator, 1, Set(Version(A, 1, "a")));

        var success = _client.ExpectMsg<GetSuccess>(Wait);
        Assert.Equal([ReplicaReadState.Current, ReplicaReadState.Current, ReplicaReadState.Unreachable], States(success.Replicas));
        Assert.Equal("n3", success.Replicas.Single(r => r.Slot == 2).Node);
    }

    [Fact]
    public void When_the_third_replica_answers_stale_after_R_replies_only_that_slot_gets_a_read_repair_without_ack()
    {
        var coordinator = StartGet();
        Watch(coordinator);
        var v1 = Version(A, 1, "v1");
        var v2 = Version(A, 2, "v2", Set(v1).Context);
        Answer(coordinator, 0, Set(v2));
        Answer(coordinator, 1, Set(v2));
        Assert.Equal(["v2"], ValuesOf(_client.ExpectMsg<GetSuccess>(Wait).Values));

        Answer(coordinator, 2, Set(v1));

        var repair = _region.ExpectMsg<SlotEnvelope>(Wait);
        Assert.Equal(new SlotId(Partition, 2), repair.Slot);
        var merge = Assert.IsType<ReplicaMerge>(repair.Command);
        Assert.False(merge.AckWanted);
        Assert.Equal(Key, merge.Key);
        Assert.Equal(Set(v2), merge.Siblings);
        var seen = _parent.ExpectMsg<SlotsSeen>(Wait);
        Assert.Equal(3, seen.Nodes.Count);
        ExpectTerminated(coordinator, Wait);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        _client.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Every_slot_that_answered_stale_or_not_found_is_repaired_with_the_merged_set()
    {
        var coordinator = StartGet();
        var a = Version(A, 1, "a");
        var b = Version(B, 1, "b");
        Answer(coordinator, 0, Set(a));
        Answer(coordinator, 1, Set(a, b));
        _client.ExpectMsg<GetSuccess>(Wait);

        Answer(coordinator, 2, SiblingSet.Empty);

        var repairs = ExpectRepairs(2);
        Assert.Equal([0, 2], repairs.Keys.Order());
        Assert.All(repairs.Values, m =>
        {
            Assert.False(m.AckWanted);
            Assert.Equal(Set(a, b), m.Siblings);
        });
    }

    [Fact]
    public void A_read_repair_is_counted_with_this_nodes_anti_entropy_stats()
    {
        // The node's anti-entropy actor (/user/kv-anti-entropy) counts read repairs for the status.
        var antiEntropy = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new Forwarder(antiEntropy.Ref)), AkkaKv.AntiEntropy.AntiEntropyActor.Name);
        var coordinator = StartGet();
        var a = Version(A, 1, "a");
        var b = Version(B, 1, "b");
        Answer(coordinator, 0, Set(a));
        Answer(coordinator, 1, Set(a, b));
        Answer(coordinator, 2, SiblingSet.Empty);
        _client.ExpectMsg<GetSuccess>(Wait);
        ExpectRepairs(2);

        Assert.Equal(2, antiEntropy.ExpectMsg<AkkaKv.AntiEntropy.ReadRepaired>(Wait).Replicas);
        antiEntropy.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef to) => ReceiveAny(m => to.Forward(m));
    }

    [Fact]
    public void When_all_replicas_agree_no_read_repair_is_sent()
    {
        var coordinator = StartGet();
        Watch(coordinator);
        var a = Set(Version(A, 1, "a"));

        Answer(coordinator, 0, a);
        Answer(coordinator, 1, a);
        Answer(coordinator, 2, a);

        Assert.Equal([ReplicaReadState.Current, ReplicaReadState.Current, ReplicaReadState.Pending], States(_client.ExpectMsg<GetSuccess>(Wait).Replicas));
        ExpectTerminated(coordinator, Wait);
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void When_the_third_replica_stays_silent_the_stale_replies_are_repaired_once_the_read_repair_window_closes()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var coordinator = StartGet(settings: Settings());
        Watch(coordinator);
        var a = Version(A, 1, "a");
        var b = Version(B, 1, "b");
        Answer(coordinator, 0, Set(a, b));
        Answer(coordinator, 1, Set(b));
        _client.ExpectMsg<GetSuccess>(Wait);

        var repair = _region.ExpectMsg<SlotEnvelope>(Wait);

        Assert.True(started.Elapsed >= ReadRepairWindow, $"repaired after {started.Elapsed.TotalMilliseconds} ms, before the read-repair window closed");
        Assert.Equal(new SlotId(Partition, 1), repair.Slot);
        Assert.Equal(Set(a, b), Assert.IsType<ReplicaMerge>(repair.Command).Siblings);
        ExpectTerminated(coordinator, Wait);
    }
}
