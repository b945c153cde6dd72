using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class ReplicaStateTests(ITestOutputHelper output)
{
    private static readonly Bytes Key = DvvHistory.Key;
    private const long NowMs = 1_767_225_600_000;

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
        Assert.Matches(@"^n1/2\.[0-9a-f]{12}$", id);
        Assert.NotEqual(id, ReplicaState.NewActorId("n1", 2, new Random(8)));
    }

    [Fact]
    public void A_new_incarnation_has_a_fresh_id_and_counts_from_zero_while_old_versions_keep_their_counters()
    {
        var state = ReplicaState.Empty.Apply(new ReplicaIncarnated(Actor));
        state = state.Apply(state.PutEvent(Key, new Dot(Actor, 7), Bytes.FromUtf8("v"), null, 1));
        Assert.Equal(7, state.Counter);

        // A seeded random that would hand out the current id first is skipped past.
        var seed = 11;
        var current = ReplicaState.NewActorId("n1", 0, new Random(seed));
        var same = state with { ActorId = current };
        var next = same.NextIncarnation("n1", 0, new Random(seed));
        Assert.NotEqual(current, next.ActorId);

        var after = same.Apply(next);
        Assert.Equal(next.ActorId, after.ActorId);
        Assert.Equal(0, after.Counter);
        Assert.Equal(1, after.NextCounter(0));
        Assert.Equal(7, after.Get(Key).Context[Actor]);
    }

    [Fact]
    public void The_next_counter_is_one_past_the_highest_minted_or_seen_and_none_when_exhausted()
    {
        var state = ReplicaState.Empty.Apply(new ReplicaIncarnated(Actor));
        Assert.Equal(1, state.NextCounter(0));
        Assert.Equal(6, state.NextCounter(5));
        // A version of this id seen from elsewhere (a peer's merge) raises it.
        var seen = state.Apply(new SiblingsMerged(Key, SiblingSet.Of([new Sibling(new Dot(Actor, 40), VersionVector.Empty, Bytes.FromUtf8("x"), 1)])));
        Assert.Equal(41, seen.NextCounter(5));
        // A version claiming the last counter (only a forgery gets there): no counter is left, and
        // nothing wraps around to a negative one.
        var forged = state.Apply(new SiblingsMerged(Key, SiblingSet.Of([new Sibling(new Dot(Actor, long.MaxValue), VersionVector.Empty, Bytes.FromUtf8("x"), 1)])));
        Assert.Null(forged.NextCounter(5));
        Assert.Null(state.NextCounter(long.MaxValue));
    }

    private const string Actor = "n1/0.00000001";
    private static readonly Bytes Gone = Bytes.FromUtf8("gone");
    private static readonly Bytes Kept = Bytes.FromUtf8("kept");

    /// <summary>A replica holding <c>gone</c> deleted (put then delete) and <c>kept</c> with a value.</summary>
    private static ReplicaState WithOneTombstone()
    {
        var state = ReplicaState.Empty.Apply(new ReplicaIncarnated(Actor));
        state = state.Apply(state.PutEvent(Gone, new Dot(Actor, 1), Bytes.FromUtf8("v"), null, 1));
        state = state.Apply(state.PutEvent(Gone, new Dot(Actor, 2), null, state.Get(Gone).Context, 2));
        return state.Apply(state.PutEvent(Kept, new Dot(Actor, 3), Bytes.FromUtf8("v"), null, 3));
    }

    [Fact]
    public void Tombstones_lists_only_keys_whose_every_sibling_is_deleted_with_their_digests()
    {
        var state = WithOneTombstone();
        var listed = Assert.Single(state.Tombstones(100, NowMs));
        Assert.Equal(Gone, listed.Key);
        Assert.Equal(EntryDigest.Of(Gone, state.Get(Gone)), listed.Digest);
        Assert.Empty(state.Tombstones(0, NowMs));
    }

    [Fact]
    public void A_purge_drops_a_tombstone_it_names_exactly_and_raises_the_generation()
    {
        var state = WithOneTombstone();
        var purged = state.Apply(new TombstonesPurged(1, ValueList.From(state.Tombstones(100, NowMs))));
        Assert.False(purged.Keys.ContainsKey(Gone));
        Assert.Equal(state.Get(Kept), purged.Get(Kept));
        Assert.Equal(1, purged.GcGeneration);
        Assert.Equal(state.Counter, purged.Counter);
        // A later purge at a lower generation never lowers it.
        Assert.Equal(1, purged.Apply(new TombstonesPurged(0, ValueList<MerkleEntry>.Empty)).GcGeneration);
    }

    [Fact]
    public void A_purge_keeps_a_key_written_since_it_was_listed_and_never_drops_a_value()
    {
        var state = WithOneTombstone();
        var listed = state.Tombstones(100, NowMs);
        // A concurrent put of the deleted key landed after the listing: the key now has a value sibling.
        var rewritten = state.Apply(state.PutEvent(Gone, new Dot(Actor, 4), Bytes.FromUtf8("back"), VersionVector.Empty, 4));
        var after = rewritten.Apply(new TombstonesPurged(1, ValueList.From(listed)));
        Assert.Equal(rewritten.Get(Gone), after.Get(Gone));
        // A purge naming a live key (whatever digest) leaves it.
        var live = new MerkleEntry(Kept, EntryDigest.Of(Kept, state.Get(Kept)));
        Assert.Equal(state.Get(Kept), state.Apply(new TombstonesPurged(1, ValueList.From([live]))).Get(Kept));
    }

    [Fact]
    public void A_reset_drops_every_key_but_keeps_the_actor_id_and_counter_so_no_dot_is_reused()
    {
        var state = WithOneTombstone();
        var reset = state.Apply(new ReplicaReset(5));
        Assert.Empty(reset.Keys);
        Assert.Equal(Actor, reset.ActorId);
        Assert.Equal(state.Counter, reset.Counter);
        Assert.Equal(5, reset.GcGeneration);
        var back = ReplicaState.FromSnapshot(reset.ToSnapshot());
        Assert.Equal(5, back.GcGeneration);
    }
}
