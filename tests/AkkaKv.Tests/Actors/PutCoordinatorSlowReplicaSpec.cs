using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
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
/// A put in a 3-node cluster with one node unreachable (so there is no fallback node: every node
/// holds a replica of every partition) and the other replica merely slower than
/// replica-ack-timeout. Its version is hinted to this node as well, a hint that does not count
/// toward W; its durable ack then arrives well within the request timeout and must count.
/// </summary>
public sealed class PutCoordinatorSlowReplicaSpec : Akka.TestKit.Xunit2.TestKit
{
    private const long RequestId = 42;
    private const int Partition = 7;
    private static readonly Bytes Key = Bytes.FromUtf8("k");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    public PutCoordinatorSlowReplicaSpec(ITestOutputHelper output) : base((Akka.Configuration.Config?)null, "put-slow-replica-spec", output) { }

    [Fact]
    public void A_reachable_replica_that_acks_after_replica_ack_timeout_still_counts_toward_W_when_its_hint_cannot()
    {
        var region = CreateTestProbe("region");
        var client = CreateTestProbe("client");
        var parent = CreateTestProbe("gateway");
        var hints = CreateTestProbe("hints");
        var settings = Settings() with { CoordinatingReplicaTimeout = TimeSpan.FromSeconds(2), ReplicaAckTimeout = TimeSpan.FromMilliseconds(300) };
        var view = new PartitionView(ImmutableDictionary<int, string>.Empty.Add(0, "n1").Add(1, "n2").Add(2, "n3"),
            ImmutableHashSet.Create("n2"), ImmutableArray<string>.Empty);
        var hintsRef = hints.Ref;
        HintsOf hintsOf = _ => hintsRef;
        var (regionRef, clientRef) = (region.Ref, client.Ref);
        var options = Options(w: 2, timeoutSeconds: 3);
        parent.ChildActorOf(Props.Create(() => new PutCoordinator(RequestId, Partition, Key, Bytes.FromUtf8("v"), VersionVector.Empty,
            options, settings, regionRef, clientRef, view, hintsOf)));

        var put = region.ExpectMsg<SlotEnvelope>(Wait);
        Assert.Equal(new SlotId(Partition, 0), put.Slot);
        var coordinator = region.LastSender;
        var minted = Set(Version("n1/0.00000001", 1, "v"));
        coordinator.Tell(new ReplicaPutDone(RequestId, put.Slot, "n1", minted, minted.Context), region.Ref);

        // Slot 1's node is unreachable: hinted at once, to this node (no fallback), not counting toward W.
        var hint1 = hints.ExpectMsg<StoreHint>(Wait);
        Assert.Equal(1, hint1.Target.Index);
        coordinator.Tell(new HintStored(RequestId, hint1.Target, "n1"), hints.Ref);
        // Both other slots get the merge (slot 1's in case the belief that it is down is stale);
        // slot 2 is slow: past replica-ack-timeout it is hinted too.
        var merges = new[] { region.ExpectMsg<SlotEnvelope>(Wait), region.ExpectMsg<SlotEnvelope>(Wait) };
        Assert.Equal([1, 2], merges.Select(m => m.Slot.Index).Order());
        var merge = merges.Single(m => m.Slot.Index == 2);
        var hint2 = hints.ExpectMsg<StoreHint>(Wait);
        Assert.Equal(2, hint2.Target.Index);
        coordinator.Tell(new HintStored(RequestId, hint2.Target, "n1"), hints.Ref);
        // Its durable ack comes 0.5 s after the put started, 2.5 s before the request times out.
        coordinator.Tell(new ReplicaMergeDone(RequestId, merge.Slot, "n3"), region.Ref);

        var reply = client.ExpectMsg<IWriteResponse>(Wait);
        Assert.True(reply is WriteSuccess { Acks: 2 },
            $"the version is durable on 2 replicas (slots 0 and 2) within the timeout, yet the client got {reply}");
    }
}
