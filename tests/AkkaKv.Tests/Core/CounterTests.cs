using AkkaKv.Codec;
using AkkaKv.Counters;
using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

/// <summary>
/// Counters in the pure core: the PN-counter's merge laws, no increment lost or counted twice in
/// any interleaving of increments, merges and resets on three replicas, Redis's rules (integer
/// strings, overflow, the TTL kept), the merge of a concurrent SET and INCR, and the storage format.
/// </summary>
public sealed class CounterTests(ITestOutputHelper output)
{
    private static readonly Bytes Key = Bytes.FromUtf8("k");
    private const long Now = 1_800_000_000_000;
    private static Bytes B(string s) => Bytes.FromUtf8(s);

    // ---- the PN-counter --------------------------------------------------------------------

    private static readonly Gen<PnCounter> GenCounter =
        Gen.Select(Gen.Int[0, 3], Gen.Long[0, 50], Gen.Long[0, 50]).Array[0, 5]
            .Select(entries => PnCounter.Of(entries.Select(e => KeyValuePair.Create($"n{e.Item1}/0.1", new CounterEntry(e.Item2, e.Item3)))));

    [Fact]
    public void The_PN_counter_merge_is_commutative_associative_and_idempotent()
    {
        Gen.Select(GenCounter, GenCounter, GenCounter).Sample((a, b, c) =>
        {
            Assert.Equal(a.Merge(b), b.Merge(a));
            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            Assert.Equal(a, a.Merge(a));
            // The merge never loses a count: each entry is at least both sides'.
            foreach (var (id, e) in a.Entries)
                Assert.True(a.Merge(b)[id].Up >= e.Up && a.Merge(b)[id].Down >= e.Down);
        }, iter: 500, writeLine: output.WriteLine);
    }

    [Fact]
    public void Only_increments_above_the_floor_count()
    {
        var counter = PnCounter.Of([KeyValuePair.Create("a", new CounterEntry(10, 2)), KeyValuePair.Create("b", new CounterEntry(3, 0))]);
        var floor = PnCounter.Of([KeyValuePair.Create("a", new CounterEntry(4, 5))]);
        // a: 10 - 4 up, 2 below its floor of 5 down counts 0; b: 3.
        Assert.Equal((Int128)9, counter.Above(floor));
        Assert.Equal((Int128)11, counter.Above(PnCounter.Empty));
    }

    // ---- histories on three replicas -------------------------------------------------------

    private enum Step { Incr, Sync, Delete, OtherKey, WriteBack, StaleDelete }

    private readonly record struct Op(Step Kind, int Replica, int Source, int Delta)
    {
        public override string ToString() => Kind switch
        {
            Step.Incr => $"incrby@{Replica} {Delta}",
            Step.Sync => $"merge {Source}->{Replica}",
            Step.Delete => $"del@{Replica}",
            Step.WriteBack => $"write-back@{Replica} of what {Source} reads, with its context",
            Step.StaleDelete => $"del@{Replica} with the context of what {Source} holds",
            _ => $"other-key@{Replica}",
        };
    }

    private static readonly Gen<Op[]> GenOps =
        Gen.Select(Gen.Int[0, 19], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[-5, 9])
            .Select((kind, r, s, d) => new Op(kind switch { <= 9 => Step.Incr, <= 16 => Step.Sync, 17 => Step.OtherKey, 18 => Step.Delete, _ => Step.StaleDelete }, r, s, d))
            .Array[0, 50];

    /// <summary>Histories with write-backs through stale replicas too (EXPIRE and PERSIST as the RESP gateway does them).</summary>
    private static readonly Gen<Op[]> GenOpsWithWriteBacks =
        Gen.Select(Gen.Int[0, 21], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[-5, 9])
            .Select((kind, r, s, d) => new Op(kind switch { <= 9 => Step.Incr, <= 16 => Step.Sync, 17 => Step.OtherKey, 18 => Step.Delete, _ => Step.WriteBack }, r, s, d))
            .Array[0, 50];

    /// <summary>Runs increments, merges and deletes through <see cref="ReplicaState"/> as replica actors do, keeping which increments each version's writer had seen.</summary>
    private sealed class History
    {
        public readonly ReplicaState[] Replicas = new ReplicaState[3];
        public readonly Dictionary<Dot, int> Deltas = new();
        /// <summary>Per version minted, the increments its writer had seen (transitively), itself included for an increment.</summary>
        public readonly Dictionary<Dot, HashSet<Dot>> Saw = new();
        /// <summary>The increments each delete saw: those it resets.</summary>
        public readonly HashSet<Dot> Reset = new();

        public History()
        {
            for (var r = 0; r < 3; r++) Replicas[r] = ReplicaState.Empty.Apply(new ReplicaIncarnated($"n{r + 1}/{r}.0000000{r}"));
        }

        private Dot NextDot(int r) => new(Replicas[r].ActorId!, Replicas[r].Counter + 1);

        private HashSet<Dot> SeenIn(SiblingSet set) => set.Siblings.SelectMany(s => Saw[s.Dot]).ToHashSet();

        public void Run(IEnumerable<Op> ops, long now)
        {
            foreach (var op in ops)
            {
                var state = Replicas[op.Replica];
                switch (op.Kind)
                {
                    case Step.Incr:
                    {
                        var dot = NextDot(op.Replica);
                        var held = state.Get(Key);
                        Assert.Null(state.IncrementEvent(Key, held, dot, op.Delta, now, out var evt, out var reply));
                        Deltas[dot] = op.Delta;
                        Saw[dot] = SeenIn(held).Append(dot).ToHashSet();
                        Replicas[op.Replica] = state.Apply(evt!);
                        // INCR answers what a read at that replica returns right after it.
                        Assert.Equal(reply.ToString(), Assert.Single(CounterRules.Read(Replicas[op.Replica].Get(Key), now)).Value.ToUtf8());
                        break;
                    }
                    case Step.WriteBack:
                    {
                        // EXPIRE or PERSIST coordinated by this replica after a read answered by another:
                        // the value read, written back with the read's context (which may cover
                        // versions this replica has not received).
                        var read = Replicas[op.Source].Get(Key);
                        if (CounterRules.Read(read, now) is not [var value]) break;
                        var dot = NextDot(op.Replica);
                        Saw[dot] = SeenIn(read);
                        Replicas[op.Replica] = state.Apply(state.PutEvent(Key, dot, value.Value, read.Context, now));
                        break;
                    }
                    case Step.Delete:
                    {
                        // Redis's DEL on a replica: a tombstone superseding what it holds.
                        var dot = NextDot(op.Replica);
                        var held = state.Get(Key);
                        Saw[dot] = SeenIn(held);
                        Reset.UnionWith(Saw[dot]);
                        Replicas[op.Replica] = state.Apply(state.PutEvent(Key, dot, null, null, now));
                        break;
                    }
                    case Step.StaleDelete:
                    {
                        // A DEL whose read was answered by another replica: its context covers what
                        // that replica holds, which this one may not have received.
                        var read = Replicas[op.Source].Get(Key);
                        var dot = NextDot(op.Replica);
                        Saw[dot] = SeenIn(read);
                        Reset.UnionWith(Saw[dot]);
                        Replicas[op.Replica] = state.Apply(state.PutEvent(Key, dot, null, read.Context, now));
                        break;
                    }
                    case Step.Sync:
                        Replicas[op.Replica] = state.Apply(new SiblingsMerged(Key, Replicas[op.Source].Get(Key)));
                        break;
                    case Step.OtherKey:
                        Replicas[op.Replica] = state.Apply(state.PutEvent(B("other"), NextDot(op.Replica), B("x"), null, now));
                        break;
                }
            }
        }

        public SiblingSet All => Replicas.Aggregate(SiblingSet.Empty, (set, r) => set.Merge(r.Get(Key)));
    }

    [Fact]
    public void Concurrent_increments_on_any_replicas_all_count_once_whatever_the_merges()
    {
        // Increments at three replicas with merges in any order and any number of times (a partition
        // is a run of increments without merges): every replica reads exactly the increments its
        // versions' writers had seen, and after all meet, exactly the sum of every increment.
        GenOps.Select(ops => ops.Where(o => o.Kind is Step.Incr or Step.Sync or Step.OtherKey).ToArray()).Sample(ops =>
        {
            var h = new History();
            h.Run(ops, Now);
            foreach (var replica in h.Replicas)
            {
                var set = replica.Get(Key);
                var read = CounterRules.Read(set, Now);
                var expected = set.Siblings.SelectMany(s => h.Saw[s.Dot]).ToHashSet().Sum(i => (long)h.Deltas[i]);
                if (set.IsEmpty) Assert.Empty(read);
                else Assert.Equal(expected.ToString(), Assert.Single(read).Value.ToUtf8());
            }
            var all = h.All;
            if (!all.IsEmpty) Assert.Equal(h.Deltas.Values.Sum(d => (long)d).ToString(), Assert.Single(CounterRules.Read(all, Now)).Value.ToUtf8());
        }, iter: 500, print: o => "[" + string.Join("; ", o) + "]", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_delete_resets_exactly_the_increments_it_saw_and_concurrent_ones_survive()
    {
        GenOps.Select(ops => ops.Where(o => o.Kind != Step.StaleDelete).ToArray()).Sample(ops =>
        {
            var h = new History();
            h.Run(ops, Now);
            var all = h.All;
            var read = CounterRules.Read(all, Now);
            // Every increment counts once unless a delete saw it: those count zero.
            var surviving = h.Deltas.Keys.Where(i => !h.Reset.Contains(i)).ToList();
            if (read.Count == 0)
                Assert.True(surviving.Count == 0, $"the key reads as not found, but increments {string.Join(", ", surviving)} were not reset");
            else Assert.Equal(surviving.Sum(i => (long)h.Deltas[i]).ToString(), Assert.Single(read).Value.ToUtf8());
        }, iter: 500, print: o => "[" + string.Join("; ", o) + "]", writeLine: output.WriteLine);
    }

    [Fact]
    public void With_resets_through_stale_replicas_every_reply_is_what_a_read_returns_and_the_replicas_converge()
    {
        // Write-backs and deletes carrying a context that covers versions their replica lacks: each
        // INCR's reply is the number a read at its replica returns right after (checked in Run), and
        // replicas that exchange everything read the same number.
        GenOpsWithWriteBacks.Sample(ops =>
        {
            var h = new History();
            h.Run(ops, Now);
            var all = h.All;
            var reads = h.Replicas.Select(r => CounterRules.Read(r.Get(Key).Merge(all), Now)).ToList();
            Assert.All(reads, r => Assert.Equal(reads[0], r));
        }, iter: 500, print: o => "[" + string.Join("; ", o) + "]", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_stale_delete_never_cancels_an_increment_it_did_not_see_and_never_counts_one_twice()
    {
        // Deletes whose context covers versions their replica lacks: the increments they covered are
        // cancelled as far as the versions held show them (an increment that the covered one's replica
        // made concurrently carries them in its entry and keeps them), so with increments only (no
        // decrements) the number lies between the increments no delete saw and all of them.
        GenOps.Select(ops => ops.Select(o => o with { Delta = Math.Abs(o.Delta) }).ToArray()).Sample(ops =>
        {
            var h = new History();
            h.Run(ops, Now);
            var read = CounterRules.Read(h.All, Now);
            var number = read.Count == 0 ? 0 : long.Parse(Assert.Single(read).Value.ToUtf8());
            var unseen = h.Deltas.Where(d => !h.Reset.Contains(d.Key)).Sum(d => (long)d.Value);
            Assert.InRange(number, unseen, h.Deltas.Values.Sum(d => (long)d));
        }, iter: 500, print: o => "[" + string.Join("; ", o) + "]", writeLine: output.WriteLine);
    }

    [Fact]
    public void Replicas_that_merged_the_same_versions_in_any_order_read_the_same_number()
    {
        Gen.Select(GenOps, Gen.Int[0, 2], Gen.Int[0, 2]).Sample((ops, a, b) =>
        {
            var h = new History();
            h.Run(ops, Now);
            var x = h.Replicas[a].Get(Key);
            var y = h.Replicas[b].Get(Key);
            Assert.Equal(CounterRules.Read(x.Merge(y), Now), CounterRules.Read(y.Merge(x), Now));
            Assert.Equal(CounterRules.Read(x.Merge(y), Now), CounterRules.Read(x.Merge(y).Merge(x), Now));
        }, iter: 300, print: t => "[" + string.Join("; ", t.Item1) + $"] replicas {t.Item2}, {t.Item3}", writeLine: output.WriteLine);
    }

    // ---- Redis's rules, one at a time --------------------------------------------------------

    private static ReplicaState Replica(string id) => ReplicaState.Empty.Apply(new ReplicaIncarnated(id));

    private static (ReplicaState State, long Number) Incr(ReplicaState state, long delta, long now = Now)
    {
        var error = state.IncrementEvent(Key, state.Get(Key), new Dot(state.ActorId!, state.Counter + 1), delta, now, out var evt, out var number);
        Assert.Null(error);
        return (state.Apply(evt!), number);
    }

    private static ReplicaState Set(ReplicaState state, string value, long now = Now, long expiresAt = 0) =>
        state.Apply(state.PutEvent(Key, new Dot(state.ActorId!, state.Counter + 1), B(value), null, now, expiresAt));

    private static string? ReadAt(ReplicaState state, long now = Now) =>
        CounterRules.Read(state.Get(Key), now) is [var v] ? v.Value.ToUtf8() : null;

    [Fact]
    public void Incr_of_a_missing_key_counts_from_zero_and_of_an_integer_string_from_it()
    {
        var a = Replica("n1/0.1");
        (a, var n) = Incr(a, 1);
        Assert.Equal(1, n);
        (a, n) = Incr(a, 41);
        Assert.Equal(42, n);
        Assert.Equal("42", ReadAt(a));

        var b = Set(Replica("n2/0.1"), "-7");
        (b, n) = Incr(b, 10);
        Assert.Equal(3, n);
        Assert.Equal("3", ReadAt(b));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData(" 1")]
    [InlineData("+1")]
    [InlineData("01")]
    [InlineData("-0")]
    [InlineData("")]
    [InlineData("9223372036854775808")]
    public void Incr_of_a_string_that_is_not_an_integer_is_refused_as_Redis_refuses_it(string value)
    {
        var a = Set(Replica("n1/0.1"), value);
        Assert.Equal(CounterRules.NotAnInteger, a.IncrementEvent(Key, a.Get(Key), new Dot(a.ActorId!, a.Counter + 1), 1, Now, out var evt, out _));
        Assert.Null(evt);
    }

    [Fact]
    public void An_increment_past_64_bits_is_refused_and_the_edges_are_reached_exactly()
    {
        var a = Set(Replica("n1/0.1"), long.MaxValue.ToString());
        Assert.Equal(CounterRules.Overflow, a.IncrementEvent(Key, a.Get(Key), new Dot(a.ActorId!, a.Counter + 1), 1, Now, out _, out _));
        (a, var n) = Incr(a, -1);
        Assert.Equal(long.MaxValue - 1, n);
        var b = Set(Replica("n2/0.1"), long.MinValue.ToString());
        Assert.Equal(CounterRules.Overflow, b.IncrementEvent(Key, b.Get(Key), new Dot(b.ActorId!, b.Counter + 1), -1, Now, out _, out _));
        (var c, n) = Incr(Replica("n3/0.1"), -long.MaxValue);
        var d = Replica("n4/0.1").Apply(new SiblingsMerged(Key, c.Get(Key)));
        (_, n) = Incr(d, -1);
        Assert.Equal(long.MinValue, n);
        // Each replica's increments and decrements are held as two 64-bit sums, so one replica
        // cannot take decrements of 2^63 in all (Redis takes INCRBY k -9223372036854775808 on a
        // missing key): refused as an overflow, nothing written.
        Assert.Equal(CounterRules.Overflow, c.IncrementEvent(Key, c.Get(Key), new Dot(c.ActorId!, c.Counter + 1), -1, Now, out _, out _));
        var e = Replica("n5/0.1");
        Assert.Equal(CounterRules.Overflow, e.IncrementEvent(Key, e.Get(Key), new Dot(e.ActorId!, 1), long.MinValue, Now, out _, out _));
    }

    [Fact]
    public void The_rate_limiter_idiom_works_an_increment_keeps_the_TTL_and_an_expired_counter_starts_again()
    {
        // SET k 0 EX 60, then INCR: the number counts from 0 and keeps the deadline, as Redis.
        var a = Set(Replica("n1/0.1"), "0", Now, expiresAt: Now + 60_000);
        (a, var n) = Incr(a, 1);
        (a, n) = Incr(a, 1);
        Assert.Equal(2, n);
        var read = Assert.Single(CounterRules.Read(a.Get(Key), Now));
        Assert.Equal(("2", Now + 60_000), (read.Value.ToUtf8(), read.ExpiresAtMs));
        // Past the deadline the key reads as not found on any replica, and the next INCR starts from 0, with no TTL.
        Assert.Null(ReadAt(a, Now + 60_000));
        (a, n) = Incr(a, 1, Now + 61_000);
        Assert.Equal(1, n);
        Assert.Equal(0, Assert.Single(CounterRules.Read(a.Get(Key), Now + 61_000)).ExpiresAtMs);
    }

    [Fact]
    public void A_concurrent_SET_and_INCR_merge_to_the_SET_plus_the_increment()
    {
        // Both replicas hold the counter at 10; then a SET k 5 on one and an INCR k on the other.
        var a = Replica("n1/0.1");
        for (var i = 0; i < 10; i++) (a, _) = Incr(a, 1);
        var b = Replica("n2/0.1").Apply(new SiblingsMerged(Key, a.Get(Key)));
        a = Set(a, "5");
        (b, _) = Incr(b, 1);
        // The SET reset the 10 increments it saw; the concurrent INCR survives: 6, on both sides.
        var merged = a.Get(Key).Merge(b.Get(Key));
        Assert.Equal("6", Assert.Single(CounterRules.Read(merged, Now)).Value.ToUtf8());
        Assert.Equal("6", ReadAt(a.Apply(new SiblingsMerged(Key, b.Get(Key)))));
        Assert.Equal("6", ReadAt(b.Apply(new SiblingsMerged(Key, a.Get(Key)))));
        // A SET after the INCR (it saw it) replaces everything: as Redis.
        var c = Set(a.Apply(new SiblingsMerged(Key, b.Get(Key))), "100");
        Assert.Equal("100", ReadAt(c));
        (c, var n) = Incr(c, 1);
        Assert.Equal(101, n);
    }

    [Fact]
    public void Del_then_incr_starts_from_zero()
    {
        var a = Replica("n1/0.1");
        (a, _) = Incr(a, 5);
        a = a.Apply(a.PutEvent(Key, new Dot(a.ActorId!, a.Counter + 1), null, null, Now));
        Assert.Null(ReadAt(a));
        (a, var n) = Incr(a, 1);
        Assert.Equal(1, n);
    }

    /// <summary>
    /// b increments to 5, d builds on it (+1); a (which never received b's increments) deletes the key
    /// with a context that covers b's version, as a DEL whose read reached b does.
    /// </summary>
    private static (ReplicaState A, ReplicaState B, ReplicaState D) StaleDelete()
    {
        var b = Replica("n2/0.1");
        for (var i = 0; i < 5; i++) (b, _) = Incr(b, 1);
        var d = Replica("n3/0.1").Apply(new SiblingsMerged(Key, b.Get(Key)));
        (d, _) = Incr(d, 1);
        var a = Replica("n1/0.1");
        a = a.Apply(a.PutEvent(Key, new Dot(a.ActorId!, 1), null, b.Get(Key).Context, Now));
        return (a, b, d);
    }

    [Fact]
    public void A_reset_minted_by_a_replica_that_lacked_an_increment_never_hides_a_later_one()
    {
        var (a, b, d) = StaleDelete();
        // b receives the delete (it supersedes b's version), increments once more, then meets d.
        b = b.Apply(new SiblingsMerged(Key, a.Get(Key)));
        (b, var reply) = Incr(b, 1);
        Assert.Equal(1, reply);
        var all = b.Get(Key).Merge(d.Get(Key));
        // b's new increment is not hidden under its old entry in d's version, and the five the
        // delete's context covered stay cancelled: d's concurrent +1 and b's new +1.
        Assert.Equal("2", Assert.Single(CounterRules.Read(all, Now)).Value.ToUtf8());
        Assert.Equal("1", ReadAt(b));
    }

    [Fact]
    public void A_write_back_by_a_replica_that_lacked_an_increment_does_not_count_it_twice()
    {
        // a: INCR (1), b receives it; c (which never did) writes back "1" with a TTL, with the
        // context of a read that reached a, as EXPIRE does; meanwhile b: INCR.
        var a = Replica("n1/0.1");
        (a, _) = Incr(a, 1);
        var b = Replica("n2/0.1").Apply(new SiblingsMerged(Key, a.Get(Key)));
        var c = Replica("n3/0.1");
        c = c.Apply(c.PutEvent(Key, new Dot(c.ActorId!, 1), B("1"), a.Get(Key).Context, Now, Now + 60_000));
        (b, _) = Incr(b, 1);
        // Two increments in all: the write-back's "1" holds a's, so the number is 2, whatever meets first.
        var all = a.Get(Key).Merge(b.Get(Key)).Merge(c.Get(Key));
        Assert.Equal("2", Assert.Single(CounterRules.Read(all, Now)).Value.ToUtf8());
        Assert.Equal("2", ReadAt(b.Apply(new SiblingsMerged(Key, c.Get(Key)))));
        (a, var n) = Incr(a.Apply(new SiblingsMerged(Key, all)), 1);
        Assert.Equal(3, n);
    }

    [Fact]
    public void EXPIRE_and_PERSIST_of_a_counter_are_an_increment_of_zero_that_sets_the_deadline_and_count_nothing_twice()
    {
        var a = Replica("n1/0.1");
        (a, _) = Incr(a, 4);
        // EXPIRE k 60 at a: the number stays, the deadline is set; PERSIST removes it.
        var dot = new Dot(a.ActorId!, a.Counter + 1);
        Assert.Null(a.IncrementEvent(Key, a.Get(Key), dot, 0, Now, out var expire, out var n, setDeadline: Now + 60_000));
        Assert.Equal(4, n);
        a = a.Apply(expire!);
        Assert.Equal(new ReadValue(B("4"), Now + 60_000), Assert.Single(CounterRules.Read(a.Get(Key), Now)));
        Assert.Null(a.IncrementEvent(Key, a.Get(Key), new Dot(a.ActorId!, a.Counter + 1), 0, Now, out var persist, out _, setDeadline: 0));
        a = a.Apply(persist!);
        Assert.Equal(new ReadValue(B("4"), 0), Assert.Single(CounterRules.Read(a.Get(Key), Now)));

        // Taken by a replica that has not received the increment while a increments again: the
        // two meet at 5, not 9 (a write-back of the number read, "4", would have counted it twice).
        var stale = Replica("n2/0.1");
        Assert.Null(stale.IncrementEvent(Key, stale.Get(Key), new Dot(stale.ActorId!, 1), 0, Now, out var staleExpire, out _, setDeadline: Now + 60_000));
        stale = stale.Apply(staleExpire!);
        (a, _) = Incr(a, 1);
        Assert.Equal("5", Assert.Single(CounterRules.Read(a.Get(Key).Merge(stale.Get(Key)), Now)).Value.ToUtf8());
    }

    [Fact]
    public void A_stale_delete_cancels_what_its_context_covered_whatever_the_merge_order()
    {
        // As the reset test above, but b meets d before it increments again: still 2 in the end.
        var (a, b, d) = StaleDelete();
        b = b.Apply(new SiblingsMerged(Key, a.Get(Key))).Apply(new SiblingsMerged(Key, d.Get(Key)));
        // Before b increments: only d's concurrent +1 counts.
        Assert.Equal("1", ReadAt(b));
        (b, var reply) = Incr(b, 1);
        Assert.Equal(2, reply);
        Assert.Equal("2", Assert.Single(CounterRules.Read(b.Get(Key).Merge(d.Get(Key)).Merge(a.Get(Key)), Now)).Value.ToUtf8());
    }

    [Fact]
    public void An_increment_after_a_purge_goes_on_above_the_purged_entries_and_answers_what_a_read_returns()
    {
        // a increments, b deletes (its tombstone carries a's entry as its floor), GC purges the key
        // on a first; a increments again before b's purge, so b keeps the tombstone and anti-entropy
        // brings it back to a.
        var a = Replica("n1/0.1");
        (a, _) = Incr(a, 1);
        var b = Replica("n2/0.1").Apply(new SiblingsMerged(Key, a.Get(Key)));
        b = b.Apply(b.PutEvent(Key, new Dot(b.ActorId!, 1), null, null, Now));
        a = a.Apply(new SiblingsMerged(Key, b.Get(Key)));
        a = a.Apply(new TombstonesPurged(1, ValueList.From([new MerkleEntry(Key, EntryDigest.Of(Key, a.Get(Key)))])));
        Assert.True(a.Get(Key).IsEmpty);
        (a, var reply) = Incr(a, 1);
        Assert.Equal(1, reply);
        Assert.Equal("1", ReadAt(a));
        b = b.Apply(new SiblingsMerged(Key, a.Get(Key)));
        a = a.Apply(new SiblingsMerged(Key, b.Get(Key)));
        Assert.Equal("1", ReadAt(a));
        Assert.Equal("1", ReadAt(b));
    }

    [Fact]
    public void An_increment_by_zero_stores_no_entry_and_answers_the_number()
    {
        var a = Set(Replica("n1/0.1"), "7");
        (a, var n) = Incr(a, 0);
        Assert.Equal(7, n);
        Assert.True(Assert.Single(a.Get(Key).Siblings).Counter!.Entries.IsEmpty);
        var w = new KvWriter();
        w.WriteSiblings(a.Get(Key));
        Assert.Equal(EntryDigest.Of(Key, a.Get(Key)), EntryDigest.Of(Key, new KvReader(w.ToArray()).ReadSiblings()));
    }

    [Fact]
    public void A_replica_restored_from_an_old_data_dir_counts_under_a_new_id_and_never_lowers_an_entry()
    {
        var a = Replica("n1/0.1");
        for (var i = 0; i < 3; i++) (a, _) = Incr(a, 1);
        var b = Replica("n2/0.1").Apply(new SiblingsMerged(Key, a.Get(Key)));
        // a comes back from a copy holding only its first increment, as a new incarnation.
        var old = Replica("n1/0.1");
        (old, _) = Incr(old, 1);
        var restored = old.Apply(new ReplicaIncarnated("n1/0.2"));
        (restored, _) = Incr(restored, 10);
        var all = restored.Get(Key).Merge(b.Get(Key));
        Assert.Equal("13", Assert.Single(CounterRules.Read(all, Now)).Value.ToUtf8());
    }

    // ---- rolling upgrades ----------------------------------------------------------------------

    [Fact]
    public void Increments_are_refused_while_a_member_is_below_the_counters_feature_level()
    {
        // The level gossiped by every node is the one this build declares.
        var hocon = Akka.Configuration.ConfigurationFactory.ParseString(AkkaKv.Hosting.KvConfig.ClusterHocon);
        Assert.Equal(AkkaKv.Placement.FeatureLevel.Current, hocon.GetString("akka.cluster.app-version"));
        Assert.True(AkkaKv.Placement.FeatureLevel.AtLeast(AkkaKv.Placement.FeatureLevel.Current, AkkaKv.Placement.FeatureLevel.Counters));

        var members = AkkaKv.Placement.Membership.Of(
        [
            new AkkaKv.Placement.MemberState("n1", "akka.tcp://kv@127.0.0.1:1", AkkaKv.Placement.MemberStatus.Up, true, "1.1.0"),
            new AkkaKv.Placement.MemberState("n2", "akka.tcp://kv@127.0.0.1:2", AkkaKv.Placement.MemberStatus.Up, true, "1.2.0-beta"),
        ]);
        Assert.Null(AkkaKv.Placement.FeatureLevel.Refusal(members, "1.1.0", "an increment"));
        // A node from before levels gossips its assembly version (1.0.0.0), or nothing known.
        var mixed = members.With(new AkkaKv.Placement.MemberState("n3", "akka.tcp://kv@127.0.0.1:3", AkkaKv.Placement.MemberStatus.Up, true, "1.0.0.0"));
        Assert.Equal("an increment needs every node at feature level 1.1.0 or later, and n3 (1.0.0.0) is older: finish upgrading every node first",
            AkkaKv.Placement.FeatureLevel.Refusal(mixed, "1.1.0", "an increment"));
        Assert.Contains("n4 (unknown)", AkkaKv.Placement.FeatureLevel.Refusal(
            mixed.With(new AkkaKv.Placement.MemberState("n4", "akka.tcp://kv@127.0.0.1:4", AkkaKv.Placement.MemberStatus.Joining, true)), "1.1.0", "an increment"));
    }

    // ---- format ------------------------------------------------------------------------------

    [Fact]
    public void Counter_versions_and_resets_round_trip_through_the_storage_format_and_change_the_digest()
    {
        var a = Replica("n1/0.1");
        a = Set(a, "7", Now, Now + 5_000);
        (a, _) = Incr(a, 3);
        var b = Replica("n2/0.1").Apply(new SiblingsMerged(Key, a.Get(Key)));
        b = b.Apply(b.PutEvent(Key, new Dot(b.ActorId!, 1), null, null, Now));
        var set = a.Get(Key).Merge(b.Get(Key));
        foreach (var s in new[] { a.Get(Key), b.Get(Key), set })
        {
            var w = new KvWriter();
            w.WriteSiblings(s);
            var back = new KvReader(w.ToArray()).ReadSiblings();
            Assert.True(s.Equals(back), $"{s} came back as {back}");
            Assert.Equal(EntryDigest.Of(Key, s), EntryDigest.Of(Key, back));
        }
        var version = Assert.Single(a.Get(Key).Siblings);
        Assert.True(version.IsIncrement);
        var plain = version with { Counter = null };
        Assert.NotEqual(EntryDigest.Of(Key, SiblingSet.Of([version])), EntryDigest.Of(Key, SiblingSet.Of([plain])));
        var tombstone = Assert.Single(b.Get(Key).Siblings);
        Assert.True(tombstone.IsTombstone);
        Assert.NotNull(tombstone.Counter);
        Assert.Equal((3L, 0L), (tombstone.Counter!.Floor["n1/0.1"].Up, tombstone.Counter.Floor["n1/0.1"].Down));
    }

    [Fact]
    public void Counter_fields_this_node_does_not_know_are_refused_not_misread()
    {
        byte[] Frame(ulong mask, byte flags)
        {
            var w = new KvWriter();
            w.WriteVarULong(1);
            w.WriteString("n1/0.1"); w.WriteVarLong(1); w.WriteVarULong(0);
            w.WriteByte(2); w.WriteBytes(B("1")); w.WriteVarLong(Now);
            w.WriteVarULong(mask);
            w.WriteByte(flags);
            w.WriteVarULong(0); w.WriteVarULong(0);
            return w.ToArray();
        }
        Assert.Equal("1", Assert.Single(new KvReader(Frame(2, 1)).ReadSiblings().Siblings).Value!.ToUtf8());
        Assert.Throws<FormatException>(() => new KvReader(Frame(2, 0x81)).ReadSiblings());
        Assert.Throws<FormatException>(() => new KvReader(Frame(2 | 4, 1)).ReadSiblings());
        // A base on a version that is not an increment.
        Assert.Throws<FormatException>(() => new KvReader(Frame(2, 2)).ReadSiblings());
    }
}
