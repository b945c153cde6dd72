using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class ReplicaStateTests(ITestOutputHelper output)
{
    private static readonly Bytes Key = DvvHistory.Key;

    [Fact]
    public void A_fresh_replica_holds_nothing_and_has_no_actor_id()
    {
        Assert.Null(ReplicaState.Empty.ActorId);
        Assert.Equal(0, ReplicaState.Empty.Counter);
        Assert.True(ReplicaState.Empty.Get(Key).IsEmpty);
    }

    [Fact]
    public void An_unknown_event_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ReplicaState.Empty.Apply("not an event"));
        Assert.Contains("String", e.Message);
    }

    [Fact]
    public void Replaying_the_same_events_in_any_order_gives_the_same_keys()
    {
        // Applying a SiblingsMerged event is a merge, so a journal replays to the same state whatever
        // order concurrent persists landed in.
        Gen.Select(DvvHistory.GenOps, Gen.Int).Sample((ops, shuffleSeed) =>
        {
            var h = DvvHistory.Run(ops);
            var events = h.Observed.Select(s => new SiblingsMerged(Key, s)).ToArray();
            var shuffled = events.ToArray();
            new Random(shuffleSeed).Shuffle(shuffled);
            var incarnated = ReplicaState.Empty.Apply(new ReplicaIncarnated("n9/0.00000009"));
            var a = events.Aggregate(incarnated, (s, e) => s.Apply(e));
            var b = shuffled.Aggregate(incarnated, (s, e) => s.Apply(e));
            Assert.Equal(a.Get(Key), b.Get(Key));
        }, iter: 200, print: t => $"{DvvHistory.Print(t.Item1)} shuffleSeed={t.Item2}", writeLine: output.WriteLine);
    }

    [Fact]
    public void The_counter_never_goes_back_and_covers_every_version_the_replica_minted()
    {
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            foreach (var r in h.Replicas)
            {
                var own = h.Minted.Keys.Where(d => d.Actor == r.ActorId).Select(d => d.Counter).DefaultIfEmpty(0).Max();
                Assert.True(r.Counter >= own, $"{r.ActorId}: counter {r.Counter} is below its own minted version {own}");
            }
        }, iter: 300, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_snapshot_restores_the_same_state()
    {
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            foreach (var r in h.Replicas)
            {
                var back = ReplicaState.FromSnapshot(r.ToSnapshot());
                Assert.Equal(r.ActorId, back.ActorId);
                Assert.Equal(r.Counter, back.Counter);
                Assert.Equal(r.Keys.Keys, back.Keys.Keys);
                foreach (var (k, v) in r.Keys) Assert.Equal(v, back.Get(k));
            }
            var fresh = ReplicaState.FromSnapshot(ReplicaState.Empty.ToSnapshot());
            Assert.Null(fresh.ActorId);
        }, iter: 100, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_put_with_a_context_keeps_local_versions_the_context_does_not_cover()
    {
        var state = ReplicaState.Empty.Apply(new ReplicaIncarnated("n1/0.00000001"));
        state = state.Apply(state.PutEvent(Key, new Dot("n1/0.00000001", 1), Bytes.FromUtf8("first"), null, 1));
        state = state.Apply(state.PutEvent(Key, new Dot("n1/0.00000001", 2), Bytes.FromUtf8("second"), VersionVector.Empty, 2));
        Assert.Equal(new[] { Bytes.FromUtf8("first"), Bytes.FromUtf8("second") }, state.Get(Key).Values);
    }

    [Fact]
    public void A_new_actor_id_names_the_node_the_slot_and_a_random_epoch()
    {
        var id = ReplicaState.NewActorId("n1", 2, new Random(7));
        Assert.Matches(@"^n1/2\.[0-9a-f]{8}$", id);
        Assert.NotEqual(id, ReplicaState.NewActorId("n1", 2, new Random(8)));
    }
}
