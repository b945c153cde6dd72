using AkkaKv.HintedHandoff;
using AkkaKv.Sharding;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Core;

/// <summary>
/// The pure hint store: one hint per (target slot, key), merged under a fresh id, removed only by
/// its own id's delivery, bounded per target node, and rebuilt the same from a snapshot.
/// </summary>
public sealed class HintStoreTests(ITestOutputHelper output)
{
    private static readonly SlotId SlotA = new(7, 1);
    private static readonly SlotId SlotB = new(12, 2);

    private static Sibling Version(string actor, long counter, string? value, VersionVector? past = null) =>
        new(new Dot(actor, counter), past ?? VersionVector.Empty, value is null ? null : B(value), 1_000 + counter);

    private static SiblingSet Set(params Sibling[] siblings) => SiblingSet.Of(siblings);

    private static readonly SiblingSet Left = Set(Version("n2/1.00000001", 1, "left"));
    private static readonly SiblingSet Right = Set(Version("n3/2.00000002", 1, "right"));

    /// <summary>Stores through the store's own event, as the hint actor does: Store, then Apply.</summary>
    private static HintStore Stored(HintStore store, SlotId slot, string node, string key, SiblingSet siblings) =>
        store.Apply(store.Store(slot, node, B(key), siblings));

    private static HintStore Delivered(HintStore store, long id) => store.Apply(new HintDelivered(id));

    private static long IdOf(HintStore store, SlotId slot, string key) => store.Hints.Values.Single(h => h.Target == slot && h.Key == B(key)).Id;

    [Fact]
    public void An_empty_store_holds_nothing_and_hands_out_id_1_first()
    {
        var empty = HintStore.Empty;
        Assert.Equal(0, empty.Count);
        Assert.Equal(1, empty.NextId);
        Assert.Empty(empty.Stats());
        Assert.Empty(empty.Targets);
        Assert.Equal(0, empty.HeldFor("n9"));
        Assert.Equal(new HintAdded(1, SlotA, "n9", B("k"), Left), empty.Store(SlotA, "n9", B("k"), Left));
    }

    [Fact]
    public void Storing_adds_a_hint_per_key_under_increasing_ids()
    {
        var store = Stored(HintStore.Empty, SlotA, "n9", "k1", Left);
        store = Stored(store, SlotA, "n9", "k2", Right);
        store = Stored(store, SlotB, "n8", "k1", Left);

        Assert.Equal(new long[] { 1, 2, 3 }, store.Hints.Keys);
        Assert.Equal(new Hint(1, SlotA, "n9", B("k1"), Left), store.Hints[1]);
        Assert.Equal(new Hint(2, SlotA, "n9", B("k2"), Right), store.Hints[2]);
        Assert.Equal(new Hint(3, SlotB, "n8", B("k1"), Left), store.Hints[3]);
        Assert.Equal(4, store.NextId);
        Assert.Equal(3, store.Count);
        Assert.Equal(2, store.HeldFor("n9"));
        Assert.Equal(1, store.HeldFor("n8"));
    }

    [Fact]
    public void A_second_store_for_the_same_slot_and_key_merges_into_one_hint_under_a_new_id()
    {
        var first = Stored(HintStore.Empty, SlotA, "n9", "k", Left);

        var evt = first.Store(SlotA, "n9", B("k"), Right);
        var second = first.Apply(evt);

        Assert.Equal(2, evt.Id);
        Assert.Equal(Left.Merge(Right), evt.Siblings);
        Assert.Equal(["left", "right"], evt.Siblings.Values.Select(v => v.ToUtf8()));
        // The old id is gone: an ack for it (whose content may lack Right) deletes nothing.
        Assert.Equal(new long[] { 2 }, second.Hints.Keys);
        Assert.Equal(new Hint(2, SlotA, "n9", B("k"), Left.Merge(Right)), second.Hints[2]);
        Assert.Equal(1, second.HeldFor("n9"));
        Assert.Equal(1, second.Count);
        Assert.Equal(3, second.NextId);
    }

    [Fact]
    public void A_store_that_supersedes_the_held_siblings_keeps_only_the_newer_version()
    {
        var old = Set(Version("n2/1.00000001", 1, "old"));
        var newer = Set(Version("n2/1.00000001", 2, "new", old.Context));
        var store = Stored(Stored(HintStore.Empty, SlotA, "n9", "k", old), SlotA, "n9", "k", newer);

        Assert.Equal(newer, store.Hints.Values.Single().Siblings);
    }

    [Fact]
    public void The_same_key_for_another_slot_is_another_hint()
    {
        var store = Stored(Stored(HintStore.Empty, SlotA, "n9", "k", Left), SlotB, "n9", "k", Right);

        Assert.Equal(2, store.Count);
        Assert.Equal(2, store.HeldFor("n9"));
        Assert.Equal(Left, store.Hints[1].Siblings);
        Assert.Equal(Right, store.Hints[2].Siblings);
    }

    [Fact]
    public void Delivering_a_hint_removes_it_and_counts_it_replayed_for_its_target()
    {
        var store = Stored(Stored(HintStore.Empty, SlotA, "n9", "k1", Left), SlotB, "n8", "k2", Right);

        var after = Delivered(store, 1);

        Assert.Equal(new long[] { 2 }, after.Hints.Keys);
        Assert.Equal(0, after.HeldFor("n9"));
        Assert.Equal(1, after.HeldFor("n8"));
        Assert.Equal(1, after.Replayed["n9"]);
        Assert.False(after.Replayed.ContainsKey("n8"));
        Assert.Equal(["n8"], after.Targets);
        Assert.Equal(3, after.NextId);
        // The key may be held again afterwards: a fresh hint with a fresh id.
        var again = Stored(after, SlotA, "n9", "k1", Right);
        Assert.Equal(new Hint(3, SlotA, "n9", B("k1"), Right), again.Hints[3]);
    }

    [Fact]
    public void Delivering_an_unknown_or_superseded_id_changes_nothing()
    {
        var merged = Stored(Stored(HintStore.Empty, SlotA, "n9", "k", Left), SlotA, "n9", "k", Right);

        Assert.Same(merged, Delivered(merged, 1));
        Assert.Same(merged, Delivered(merged, 99));
        Assert.Empty(merged.Replayed);
        Assert.Equal(1, merged.HeldFor("n9"));

        // A second ack for an id already delivered is also a no-op.
        var delivered = Delivered(merged, 2);
        Assert.Same(delivered, Delivered(delivered, 2));
        Assert.Equal(1, delivered.Replayed["n9"]);
    }

    [Fact]
    public void A_target_is_full_at_max_per_target_distinct_keys_but_merging_into_a_held_key_never_is()
    {
        var store = Stored(Stored(HintStore.Empty, SlotA, "n9", "k1", Left), SlotA, "n9", "k2", Left);

        Assert.True(store.IsFull("n9", SlotA, B("k3"), maxPerTarget: 2));
        Assert.True(store.IsFull("n9", SlotB, B("k1"), maxPerTarget: 2));
        Assert.False(store.IsFull("n9", SlotA, B("k1"), maxPerTarget: 2));
        Assert.False(store.IsFull("n9", SlotA, B("k2"), maxPerTarget: 1));
        Assert.False(store.IsFull("n9", SlotA, B("k3"), maxPerTarget: 3));
        Assert.False(store.IsFull("n8", SlotB, B("k3"), maxPerTarget: 2));

        // Merging does not grow the count, so the target stays exactly at the bound.
        var merged = Stored(store, SlotA, "n9", "k1", Right);
        Assert.Equal(2, merged.HeldFor("n9"));
        Assert.True(merged.IsFull("n9", SlotA, B("k3"), maxPerTarget: 2));

        // A delivery makes room again.
        Assert.False(Delivered(merged, IdOf(merged, SlotA, "k2")).IsFull("n9", SlotA, B("k3"), maxPerTarget: 2));
    }

    [Fact]
    public void An_overflow_is_counted_per_target_and_holds_nothing()
    {
        var store = Stored(HintStore.Empty, SlotA, "n9", "k", Left);

        var after = store.Apply(new HintOverflowed("n9")).Apply(new HintOverflowed("n9")).Apply(new HintOverflowed("n8"));

        Assert.Equal(2, after.Overflowed["n9"]);
        Assert.Equal(1, after.Overflowed["n8"]);
        Assert.Equal(store.Hints, after.Hints);
        Assert.Equal(store.NextId, after.NextId);
        Assert.Equal(0, after.HeldFor("n8"));
        Assert.Equal(["n9"], after.Targets);
    }

    [Fact]
    public void Stats_list_every_target_ever_seen_in_ordinal_order_with_held_replayed_and_overflowed()
    {
        var store = HintStore.Empty;
        store = Stored(store, SlotA, "n9", "a", Left);
        store = Stored(store, SlotA, "n9", "b", Left);
        store = Stored(store, SlotA, "n9", "c", Left);
        store = Delivered(store, IdOf(store, SlotA, "b"));
        store = store.Apply(new HintOverflowed("n9"));
        store = Stored(store, SlotB, "n2", "a", Right);
        store = Stored(store, SlotB, "n10", "x", Right);
        store = Delivered(store, IdOf(store, SlotB, "x"));
        store = store.Apply(new HintOverflowed("N1"));

        // Ordinal: upper case before lower case, "n10" before "n2"; a node with nothing held still shows.
        Assert.Equal(
        [
            new HintTargetStats("N1", 0, 0, 1),
            new HintTargetStats("n10", 0, 1, 0),
            new HintTargetStats("n2", 1, 0, 0),
            new HintTargetStats("n9", 2, 1, 1),
        ], store.Stats());
    }

    [Fact]
    public void A_later_store_for_the_same_slot_and_key_naming_another_node_moves_the_merged_hint_to_that_node()
    {
        // The slot's node changed (membership moved it): the one hint for (slot, key) follows the newest target.
        var store = Stored(Stored(HintStore.Empty, SlotB, "n2", "a", Left), SlotB, "n3", "a", Right);

        var hint = Assert.Single(store.Hints.Values);
        Assert.Equal("n3", hint.TargetNode);
        Assert.Equal(Left.Merge(Right), hint.Siblings);
        Assert.Equal(0, store.HeldFor("n2"));
        Assert.Equal(1, store.HeldFor("n3"));
        Assert.Equal(["n3"], store.Targets);
    }

    [Fact]
    public void PendingFor_lists_only_that_targets_hints_oldest_first()
    {
        var store = HintStore.Empty;
        store = Stored(store, SlotA, "n9", "k3", Left);  // id 1
        store = Stored(store, SlotB, "n8", "k1", Left);  // id 2
        store = Stored(store, SlotA, "n9", "k1", Left);  // id 3
        store = Stored(store, SlotB, "n9", "k2", Left);  // id 4
        store = Stored(store, SlotA, "n9", "k3", Right); // merged: id 5, now the newest

        var pending = store.PendingFor("n9").ToArray();

        Assert.Equal(new long[] { 3, 4, 5 }, pending.Select(h => h.Id));
        Assert.Equal(["k1", "k2", "k3"], pending.Select(h => h.Key.ToUtf8()));
        Assert.All(pending, h => Assert.Equal("n9", h.TargetNode));
        Assert.Equal(new long[] { 2 }, store.PendingFor("n8").Select(h => h.Id));
        Assert.Empty(store.PendingFor("n7"));
        Assert.Equal(["n8", "n9"], store.Targets.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_snapshot_restores_the_same_hints_counters_and_next_id_and_later_events_apply_the_same()
    {
        var store = HintStore.Empty;
        store = Stored(store, SlotA, "n9", "k1", Left);
        store = Stored(store, SlotA, "n9", "k2", Left);
        store = Stored(store, SlotB, "n8", "k1", Right);
        store = Stored(store, SlotA, "n9", "k1", Right);
        store = store.Apply(new HintOverflowed("n7"));
        // Deliver the newest hint: NextId is then above every held id + 1, and must survive as is.
        store = Delivered(store, 4);
        Assert.Equal(5, store.NextId);
        Assert.Equal(3, store.Hints.Keys.Max());

        var restored = HintStore.FromSnapshot(store.ToSnapshot());
        AssertSameStore(store, restored);

        object[] later =
        [
            store.Store(SlotA, "n9", B("k2"), Right),  // merges into held k2 under id 5
            new HintDelivered(1),                     // already gone: no-op
            new HintDelivered(3),
            new HintOverflowed("n9"),
        ];
        foreach (var evt in later)
        {
            store = store.Apply(evt);
            restored = restored.Apply(evt);
            AssertSameStore(store, restored);
        }
        Assert.Equal(6, restored.NextId);
        Assert.Equal(new long[] { 5 }, restored.Hints.Keys);
        Assert.Equal(Left.Merge(Right), restored.Hints[5].Siblings);
        Assert.Equal(new HintAdded(6, SlotB, "n8", B("k9"), Left), restored.Store(SlotB, "n8", B("k9"), Left));
        Assert.Equal(restored.Store(SlotA, "n9", B("k2"), Left), store.Store(SlotA, "n9", B("k2"), Left));
    }

    [Fact]
    public void An_empty_snapshot_restores_an_empty_store()
    {
        var restored = HintStore.FromSnapshot(HintStore.Empty.ToSnapshot());
        AssertSameStore(HintStore.Empty, restored);
        Assert.Equal(1, restored.NextId);
    }

    /// <summary>Everything a hint store shows, compared by content (its dictionaries compare by reference).</summary>
    private static void AssertSameStore(HintStore expected, HintStore actual)
    {
        Assert.Equal(expected.NextId, actual.NextId);
        Assert.Equal(expected.Hints.ToArray(), actual.Hints.ToArray());
        Assert.Equal(expected.Replayed.ToArray(), actual.Replayed.ToArray());
        Assert.Equal(expected.Overflowed.ToArray(), actual.Overflowed.ToArray());
        Assert.Equal(expected.Stats().ToArray(), actual.Stats().ToArray());
        Assert.Equal(expected.Targets.Order(StringComparer.Ordinal), actual.Targets.Order(StringComparer.Ordinal));
        foreach (var t in expected.Targets) Assert.Equal(expected.HeldFor(t), actual.HeldFor(t));
        foreach (var h in expected.Hints.Values)
            Assert.Equal(expected.IsFull(h.TargetNode, h.Target, B("not-held"), 2), actual.IsFull(h.TargetNode, h.Target, B("not-held"), 2));
    }

    // ---- property: a random sequence of store, deliver and overflow ----

    internal enum HintOpKind { Store, Deliver, DeliverUnknown, Overflow }

    /// <summary>
    /// One step: store siblings (a state picked from a generated DVV history) for slot, node and key;
    /// deliver the id of a hint that was ever added (current or superseded, picked by <see cref="Pick"/>);
    /// deliver an id never handed out; or count an overflow for a node.
    /// </summary>
    internal readonly record struct HintOp(HintOpKind Kind, int Slot, int Node, int Key, int Pick)
    {
        public override string ToString() => Kind switch
        {
            HintOpKind.Store => $"store s{Slot}/n{Node}/k{Key} set#{Pick}",
            HintOpKind.Deliver => $"deliver added#{Pick}",
            HintOpKind.DeliverUnknown => $"deliver unknown+{Pick}",
            _ => $"overflow n{Node}",
        };
    }

    private static readonly Gen<HintOp> GenHintOp =
        Gen.Select(Gen.Int[0, 15], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 1000])
            .Select((kind, slot, node, key, pick) => new HintOp(
                kind switch { <= 9 => HintOpKind.Store, <= 13 => HintOpKind.Deliver, 14 => HintOpKind.DeliverUnknown, _ => HintOpKind.Overflow },
                slot, node, key, pick));

    private static readonly Gen<(HistoryOp[] History, HintOp[] Ops, int RestoreAt)> GenRun =
        Gen.Select(DvvHistory.GenOps, GenHintOp.Array[0, 60], Gen.Int[0, 60]);

    private static string Print((HistoryOp[] History, HintOp[] Ops, int RestoreAt) t) =>
        $"history={DvvHistory.Print(t.History)} ops=[{string.Join("; ", t.Ops)}] restoreAt={t.RestoreAt}";

    [Fact]
    public void Any_sequence_of_stores_and_deliveries_keeps_one_merged_hint_per_undelivered_key_and_consistent_counts()
    {
        GenRun.Sample(t =>
        {
            var sets = DvvHistory.Run(t.History).Observed;
            var store = HintStore.Empty;
            // Restored from a snapshot at step RestoreAt, then fed the same events: must never diverge.
            HintStore? restored = null;
            // Model: per (slot, key), the sets stored since its last delivery, and the node of the latest store.
            var pending = new Dictionary<(SlotId, Bytes), (List<SiblingSet> Sets, string Node)>();
            var added = new List<long>();
            var replayed = new Dictionary<string, long>(StringComparer.Ordinal);
            var overflowed = new Dictionary<string, long>(StringComparer.Ordinal);

            for (var step = 0; step < t.Ops.Length; step++)
            {
                if (step == t.RestoreAt) restored = HintStore.FromSnapshot(store.ToSnapshot());
                var op = t.Ops[step];
                var slot = new SlotId(op.Slot, op.Slot % 3);
                var node = $"n{op.Node}";
                var key = B($"k{op.Key}");
                object evt;
                switch (op.Kind)
                {
                    case HintOpKind.Store:
                    {
                        var siblings = sets[op.Pick % sets.Count];
                        var a = store.Store(slot, node, key, siblings);
                        Assert.Equal(store.NextId, a.Id);
                        if (added.Count > 0) Assert.True(a.Id > added[^1], $"id {a.Id} after {added[^1]}");
                        added.Add(a.Id);
                        var list = pending.TryGetValue((slot, key), out var p) ? p.Sets : [];
                        list.Add(siblings);
                        pending[(slot, key)] = (list, node);
                        evt = a;
                        break;
                    }
                    case HintOpKind.Deliver when added.Count > 0:
                    {
                        var id = added[op.Pick % added.Count];
                        if (store.Hints.TryGetValue(id, out var hint))
                        {
                            pending.Remove((hint.Target, hint.Key));
                            replayed[hint.TargetNode] = replayed.GetValueOrDefault(hint.TargetNode) + 1;
                        }
                        evt = new HintDelivered(id);
                        break;
                    }
                    case HintOpKind.Deliver or HintOpKind.DeliverUnknown:
                        evt = new HintDelivered(store.NextId + op.Pick);
                        break;
                    default:
                        overflowed[node] = overflowed.GetValueOrDefault(node) + 1;
                        evt = new HintOverflowed(node);
                        break;
                }
                store = store.Apply(evt);
                restored = restored?.Apply(evt);
                AssertInvariants(store, pending, replayed, overflowed);
            }

            if (restored is not null) AssertSameStore(store, restored);
            AssertSameStore(store, HintStore.FromSnapshot(store.ToSnapshot()));
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    private static void AssertInvariants(HintStore store, Dictionary<(SlotId, Bytes), (List<SiblingSet> Sets, string Node)> pending,
        Dictionary<string, long> replayed, Dictionary<string, long> overflowed)
    {
        // (a) a hint exactly for each (slot, key) stored and not delivered since.
        var held = store.Hints.Values.Select(h => (h.Target, h.Key)).ToList();
        Assert.Equal(held.Count, held.Distinct().Count());
        Assert.Equal(pending.Keys.ToHashSet(), held.ToHashSet());

        foreach (var hint in store.Hints.Values)
        {
            var (sets, node) = pending[(hint.Target, hint.Key)];
            Assert.Equal(node, hint.TargetNode);
            // (d) the hint holds every set stored for its key since its last delivery: merging any of them in adds nothing...
            foreach (var s in sets)
                Assert.True(hint.Siblings.Merge(s).Equals(hint.Siblings), $"hint {hint.Id} {hint.Siblings} lacks {s}");
            // ...and nothing else: it is exactly their merge.
            Assert.Equal(sets.Aggregate(SiblingSet.Empty, (acc, s) => acc.Merge(s)), hint.Siblings);
            // (c) ids only grow.
            Assert.True(store.NextId > hint.Id, $"NextId {store.NextId} is not above hint id {hint.Id}");
        }

        // (b) held per target is the number of hints for that target.
        var perTarget = store.Hints.Values.GroupBy(h => h.TargetNode).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        Assert.Equal(perTarget.Keys.Order(StringComparer.Ordinal), store.Targets.Order(StringComparer.Ordinal));
        foreach (var (target, count) in perTarget)
            Assert.Equal(count, store.HeldFor(target));
        Assert.Equal(store.Hints.Values.Select(h => h.Id).Order(), store.Hints.Keys);

        // Counters, and the stats that show them: every target with anything to show, ordinal order.
        Assert.Equal(replayed.OrderBy(kv => kv.Key, StringComparer.Ordinal), store.Replayed.ToArray());
        Assert.Equal(overflowed.OrderBy(kv => kv.Key, StringComparer.Ordinal), store.Overflowed.ToArray());
        var expectedStats = perTarget.Keys.Concat(replayed.Keys).Concat(overflowed.Keys).Distinct().Order(StringComparer.Ordinal)
            .Select(n => new HintTargetStats(n, perTarget.GetValueOrDefault(n), replayed.GetValueOrDefault(n), overflowed.GetValueOrDefault(n)));
        Assert.Equal(expectedStats, store.Stats());
        foreach (var target in perTarget.Keys)
            Assert.Equal(store.Hints.Values.Where(h => h.TargetNode == target).Select(h => h.Id).Order(), store.PendingFor(target).Select(h => h.Id));
    }
}
