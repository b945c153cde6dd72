using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

/// <summary>
/// Dotted-version-vector sibling sets, checked against generated histories of puts, deletes,
/// replica merges, other-key puts and replica wipes at three replicas (see <see cref="DvvHistory"/>).
/// </summary>
public sealed class SiblingSetTests(ITestOutputHelper output)
{
    private static readonly Bytes Key = DvvHistory.Key;

    /// <summary>A history and three picks among the states it produced (taken modulo the count).</summary>
    private static readonly Gen<(HistoryOp[] Ops, int I, int J, int K)> GenHistoryAndPicks =
        Gen.Select(DvvHistory.GenOps, Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 1000]);

    private static string Print((HistoryOp[] Ops, int I, int J, int K) t) =>
        $"{DvvHistory.Print(t.Ops)} picks=({t.I},{t.J},{t.K})";

    private static SiblingSet Pick(DvvHistory h, int i) => h.Observed[i % h.Observed.Count];

    private static void AssertWellFormed(SiblingSet set)
    {
        Assert.Equal(set.Count, set.Siblings.Select(s => s.Dot).Distinct().Count());
        foreach (var s in set.Siblings)
            foreach (var other in set.Siblings)
                if (other.Dot != s.Dot)
                    Assert.False(other.Past.Covers(s.Dot), $"{s.Dot} is covered by the past {other.Past} of {other.Dot} in {set}");
        var ordered = set.Siblings.OrderBy(s => s.Dot.Actor, StringComparer.Ordinal).ThenBy(s => s.Dot.Counter).ToList();
        Assert.Equal(ordered, set.Siblings);
    }

    [Fact]
    public void Merge_is_commutative()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            SiblingSet a = Pick(h, t.I), b = Pick(h, t.J);
            Assert.Equal(a.Merge(b), b.Merge(a));
        }, iter: 500, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Merge_is_associative()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            SiblingSet a = Pick(h, t.I), b = Pick(h, t.J), c = Pick(h, t.K);
            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
        }, iter: 500, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Merge_is_idempotent()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            SiblingSet a = Pick(h, t.I), b = Pick(h, t.J);
            Assert.Equal(a, a.Merge(a));
            Assert.Equal(a.Merge(b), a.Merge(b).Merge(b));
            Assert.Equal(a, a.Merge(SiblingSet.Empty));
            Assert.Equal(a, SiblingSet.Empty.Merge(a));
            Assert.Equal(a, SiblingSet.Of(a.Siblings.Reverse()));
        }, iter: 500, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Replicas_that_exchange_their_sets_in_any_order_converge_to_the_same_set()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            var sets = h.Replicas.Select(r => r.Get(Key)).ToArray();
            var orders = new[] { new[] { 0, 1, 2 }, [2, 1, 0], [1, 0, 2], [1, 2, 0] };
            var results = orders.Select(o => sets[o[0]].Merge(sets[o[1]]).Merge(sets[o[2]])).ToList();
            Assert.All(results, r => Assert.Equal(results[0], r));
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void No_sibling_is_kept_whose_version_another_siblings_writer_had_seen()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            foreach (var set in h.Observed) AssertWellFormed(set);
            AssertWellFormed(Pick(h, t.I).Merge(Pick(h, t.J)));
            AssertWellFormed(Pick(h, t.I).Merge(Pick(h, t.J)).Merge(Pick(h, t.K)));
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_version_is_superseded_only_by_a_write_whose_writer_had_seen_it()
    {
        // The version vectors are an exact summary of what each writer saw: a sibling's past covers
        // another version of the key if and only if its writer had read that version (or a later one
        // built on it). Otherwise a merge could silently drop a concurrent write (a lost update).
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            foreach (var (dot, sibling) in h.Minted)
                foreach (var other in h.Minted.Keys)
                {
                    if (other == dot) continue;
                    var covered = sibling.Past.Covers(other);
                    var seen = h.Seen[dot].Contains(other);
                    Assert.True(covered == seen,
                        $"{dot} (past {sibling.Past}) {(covered ? "covers" : "does not cover")} {other}, but its writer had {(seen ? "" : "not ")}seen it");
                }
        }, iter: 500, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Every_version_that_disappears_in_a_merge_is_in_the_context_of_the_result()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            SiblingSet a = Pick(h, t.I), b = Pick(h, t.J);
            var merged = a.Merge(b);
            var context = merged.Context;
            foreach (var s in a.Siblings.Concat(b.Siblings))
                Assert.True(merged.Siblings.Contains(s) || context.Covers(s.Dot), $"{s.Dot} vanished from {merged} without being superseded");
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void The_context_covers_every_sibling_and_everything_each_sibling_had_seen()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            var set = Pick(h, t.I).Merge(Pick(h, t.J));
            var context = set.Context;
            foreach (var s in set.Siblings)
            {
                Assert.True(context.Covers(s.Dot));
                Assert.True(context.Descends(s.Past));
            }
            var least = set.Siblings.Aggregate(VersionVector.Empty, (v, s) => v.Merge(s.Past).With(s.Dot));
            Assert.Equal(least, context);
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_put_with_the_context_of_a_read_supersedes_every_sibling_that_was_read()
    {
        Gen.Select(DvvHistory.GenOps, Gen.Int[0, 1000], Gen.Int[0, DvvHistory.ReplicaCount - 1]).Sample((ops, readPick, at) =>
        {
            var h = DvvHistory.Run(ops);
            var read = Pick(h, readPick);
            var local = h.Replicas[at].Get(Key);
            var dot = h.NextDot(at);
            var written = local.Put(dot, read.Context, Bytes.FromUtf8("new"), 0);
            foreach (var result in new[] { written.Merge(read), read.Merge(written) })
            {
                Assert.Contains(result.Siblings, s => s.Dot == dot);
                Assert.DoesNotContain(result.Siblings, read.Siblings.Contains);
                // What the writer had not read stays: concurrent writes are never lost.
                foreach (var s in local.Siblings.Where(s => !read.Context.Covers(s.Dot)))
                    Assert.Contains(s, result.Siblings);
            }
        }, iter: 500, print: t => $"{DvvHistory.Print(t.Item1)} read=#{t.Item2} at={t.Item3}", writeLine: output.WriteLine);
    }

    [Fact]
    public void Two_puts_with_the_same_context_both_survive_as_siblings()
    {
        Gen.Select(DvvHistory.GenOps, Gen.Int[0, 1000], Gen.Int[0, DvvHistory.ReplicaCount - 1], Gen.Int[0, DvvHistory.ReplicaCount - 1])
            .Sample((ops, readPick, at1, at2) =>
            {
                var h = DvvHistory.Run(ops);
                var context = Pick(h, readPick).Context;
                var dot1 = h.NextDot(at1);
                var first = h.Replicas[at1].Get(Key).Put(dot1, context, Bytes.FromUtf8("one"), 0);
                SiblingSet merged;
                Dot dot2;
                if (at1 == at2)
                {
                    dot2 = dot1 with { Counter = dot1.Counter + 1 };
                    merged = first.Put(dot2, context, Bytes.FromUtf8("two"), 0);
                }
                else
                {
                    dot2 = h.NextDot(at2);
                    merged = h.Replicas[at2].Get(Key).Put(dot2, context, Bytes.FromUtf8("two"), 0).Merge(first);
                }
                Assert.Contains(merged.Siblings, s => s.Dot == dot1);
                Assert.Contains(merged.Siblings, s => s.Dot == dot2);
                Assert.Contains(Bytes.FromUtf8("one"), merged.Values);
                Assert.Contains(Bytes.FromUtf8("two"), merged.Values);
            }, iter: 500, print: t => $"{DvvHistory.Print(t.Item1)} read=#{t.Item2} at={t.Item3},{t.Item4}", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_blind_put_supersedes_everything_the_replica_holds_but_keeps_versions_it_never_saw()
    {
        Gen.Select(DvvHistory.GenOps, Gen.Int[0, DvvHistory.ReplicaCount - 1], Gen.Int[0, DvvHistory.ReplicaCount - 1]).Sample((ops, at, other) =>
        {
            var h = DvvHistory.Run(ops);
            var state = h.Replicas[at];
            var localContext = state.Get(Key).Context;
            var dot = h.NextDot(at);
            var after = state.Apply(state.PutEvent(Key, dot, Bytes.FromUtf8("blind"), null, 0));
            var set = after.Get(Key);
            Assert.Equal(dot, Assert.Single(set.Siblings).Dot);
            Assert.Equal([Bytes.FromUtf8("blind")], set.Values);
            Assert.Equal(dot.Counter, after.Counter);

            var elsewhere = h.Replicas[other].Get(Key);
            var merged = set.Merge(elsewhere);
            Assert.Contains(merged.Siblings, s => s.Dot == dot);
            foreach (var s in elsewhere.Siblings.Where(s => !localContext.Covers(s.Dot)))
                Assert.Contains(s, merged.Siblings);
        }, iter: 500, print: t => $"{DvvHistory.Print(t.Item1)} at={t.Item2} other={t.Item3}", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_set_reads_as_deleted_exactly_when_every_sibling_is_a_tombstone()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            var set = Pick(h, t.I).Merge(Pick(h, t.J));
            Assert.Equal(set.Siblings.All(s => s.Value is null), set.IsDeleted);
            Assert.Equal(set.Siblings.Where(s => s.Value is not null).Select(s => s.Value!), set.Values);
            Assert.Equal(set.Siblings.Count(s => !s.IsTombstone), set.Values.Count());
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Deleting_with_the_context_of_a_read_at_the_same_replica_reads_as_not_found()
    {
        Gen.Select(DvvHistory.GenOps, Gen.Int[0, DvvHistory.ReplicaCount - 1]).Sample((ops, at) =>
        {
            var h = DvvHistory.Run(ops);
            var local = h.Replicas[at].Get(Key);
            var deleted = local.Put(h.NextDot(at), local.Context, null, 0);
            Assert.True(deleted.IsDeleted);
            Assert.Empty(deleted.Values);
            Assert.True(Assert.Single(deleted.Siblings).IsTombstone);
        }, iter: 300, print: t => $"{DvvHistory.Print(t.Item1)} at={t.Item2}", writeLine: output.WriteLine);
    }

    [Fact]
    public void The_highest_counter_of_an_actor_is_found_in_dots_and_pasts()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            var set = Pick(h, t.I);
            foreach (var actor in set.Context.Entries.Select(e => e.Key))
                Assert.Equal(set.Context[actor], set.MaxCounterOf(actor));
            Assert.Equal(0, set.MaxCounterOf("nobody"));
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    // ---- Worked examples of the same rules, as a user would see them ----

    private static readonly VersionVector Nothing = VersionVector.Empty;
    private static Bytes Val(string s) => Bytes.FromUtf8(s);

    [Fact]
    public void Concurrent_puts_with_the_same_context_both_survive_as_siblings()
    {
        var v1 = SiblingSet.Empty.Put(new Dot("a", 1), Nothing, Val("v1"), 1);
        var ctx = v1.Context;
        var atA = v1.Put(new Dot("a", 2), ctx, Val("left"), 2);
        var atB = v1.Put(new Dot("b", 1), ctx, Val("right"), 2);
        var merged = atA.Merge(atB);
        Assert.Equal([Val("left"), Val("right")], merged.Values);
        Assert.Equal(2, merged.Count);
    }

    [Fact]
    public void A_put_with_the_context_of_a_read_of_two_siblings_resolves_them_into_one()
    {
        var siblings = SiblingSet.Of([new Sibling(new Dot("a", 1), Nothing, Val("left"), 1), new Sibling(new Dot("b", 1), Nothing, Val("right"), 1)]);
        Assert.Equal(2, siblings.Count);
        var resolved = siblings.Put(new Dot("a", 2), siblings.Context, Val("both"), 2);
        Assert.Equal([Val("both")], resolved.Values);
    }

    [Fact]
    public void A_delete_that_raced_a_put_it_never_saw_does_not_hide_the_put()
    {
        var v1 = SiblingSet.Empty.Put(new Dot("a", 1), Nothing, Val("v1"), 1);
        var deleted = v1.Put(new Dot("a", 2), v1.Context, null, 2);
        var concurrent = v1.Put(new Dot("b", 1), v1.Context, Val("v2"), 2);
        var merged = deleted.Merge(concurrent);
        Assert.False(merged.IsDeleted);
        Assert.Equal([Val("v2")], merged.Values);
        Assert.True(deleted.IsDeleted);
        Assert.True(SiblingSet.Empty.IsDeleted);
    }

    [Fact]
    public void Sequential_blind_puts_at_one_replica_never_pile_up_siblings()
    {
        var state = ReplicaState.Empty.Apply(new ReplicaIncarnated("n1/0.00000001"));
        for (var i = 1; i <= 5; i++)
        {
            var dot = new Dot(state.ActorId!, state.Counter + 1);
            state = state.Apply(state.PutEvent(Key, dot, Val($"v{i}"), null, i));
        }
        Assert.Equal([Val("v5")], state.Get(Key).Values);
        Assert.Equal(5, state.Counter);
    }

    [Fact]
    public void A_sibling_is_obsoleted_only_by_another_sibling_whose_past_covers_it()
    {
        var old = new Sibling(new Dot("a", 1), Nothing, Val("old"), 1);
        var newer = new Sibling(new Dot("b", 1), VersionVector.Empty.With(new Dot("a", 1)), Val("new"), 2);
        Assert.True(old.IsObsoletedBy(newer));
        Assert.False(newer.IsObsoletedBy(old));
        Assert.False(old.IsObsoletedBy(old));
    }

    [Fact]
    public void Live_values_come_oldest_first_by_mint_time_with_ties_in_dot_order_and_the_same_order_on_every_replica()
    {
        var b = Bytes.FromUtf8;
        var late = new Sibling(new Dot("n1/0.a", 1), VersionVector.Empty, b("late"), 3000);
        var early = new Sibling(new Dot("n3/2.c", 1), VersionVector.Empty, b("early"), 1000);
        var tieZ = new Sibling(new Dot("n2/1.b", 2), VersionVector.Empty, b("tie-b"), 2000);
        var tieA = new Sibling(new Dot("n1/0.a", 2), VersionVector.Empty, b("tie-a"), 2000);
        var deleted = new Sibling(new Dot("n2/1.b", 3), VersionVector.Empty, null, 4000);

        var one = SiblingSet.Of([late, early, tieZ, tieA, deleted]);
        var other = SiblingSet.Of([deleted]).Merge(SiblingSet.Of([tieA, early])).Merge(SiblingSet.Of([tieZ, late]));

        Assert.Equal(["early", "tie-a", "tie-b", "late"], one.ValuesOldestFirst.Select(v => v.ToUtf8()));
        Assert.Equal(one.ValuesOldestFirst, other.ValuesOldestFirst);
    }

    // ---- expiry: the deadline is part of the version -----------------------------------------------

    [Fact]
    public void A_version_keeps_the_deadline_it_was_minted_with_in_every_set_that_holds_it()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            foreach (var set in h.Observed.Append(Pick(h, t.I).Merge(Pick(h, t.J))))
                foreach (var s in set.Siblings)
                    Assert.Equal(h.Minted[s.Dot].ExpiresAtMs, s.ExpiresAtMs);
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_set_reads_as_not_found_at_a_moment_exactly_when_no_value_is_before_its_deadline()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            var set = Pick(h, t.I).Merge(Pick(h, t.J));
            var now = (long)t.K % 50;
            var live = set.Siblings.Where(s => s.Value is not null && (s.ExpiresAtMs == 0 || now < s.ExpiresAtMs)).ToList();
            Assert.Equal(live.Count == 0, set.IsDeletedAt(now));
            Assert.Equal(live.Select(s => s.Dot).ToHashSet(), set.LiveOldestFirst(now).Select(s => s.Dot).ToHashSet());
            // The live values keep the order of all values (oldest first), with the expired ones left out.
            Assert.Equal(set.ValuesOldestFirst.Where(v => live.Any(s => ReferenceEquals(s.Value, v))), set.LiveOldestFirst(now).Select(s => s.Value!));
            // Nothing with a deadline is live forever; without one, the set reads as it did before expiry existed.
            Assert.Equal(set.Siblings.All(s => s.IsTombstone || s.ExpiresAtMs != 0), set.IsDeletedAt(long.MaxValue));
            if (set.Siblings.All(s => s.ExpiresAtMs == 0)) Assert.Equal(set.IsDeleted, set.IsDeletedAt(now));
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void An_expired_value_is_superseded_by_a_write_with_the_context_of_a_read_that_did_not_see_it()
    {
        var expired = SiblingSet.Empty.Put(new Dot("a", 1), Nothing, Val("old"), 1, expiresAtMs: 10);
        Assert.True(expired.IsDeletedAt(10));
        Assert.False(expired.IsDeletedAt(9));
        // A read after the deadline finds nothing but hands out the context that covers the expired version.
        var rewritten = expired.Put(new Dot("a", 2), expired.Context, Val("new"), 20);
        Assert.Equal([Val("new")], rewritten.Values);
        Assert.Equal(0, Assert.Single(rewritten.Siblings).ExpiresAtMs);
    }

    [Fact]
    public void A_tombstone_never_carries_a_deadline()
    {
        var deleted = SiblingSet.Empty.Put(new Dot("a", 1), Nothing, null, 1, expiresAtMs: 10);
        Assert.Equal(0, Assert.Single(deleted.Siblings).ExpiresAtMs);
    }
}
