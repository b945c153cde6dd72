using AkkaKv.Codec;
using AkkaKv.Configuration;
using AkkaKv.Counters;
using AkkaKv.Hashes;
using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

/// <summary>
/// Hashes in the pure core: the field-wise map checked against a model (an observed-remove map of
/// multi-value registers over explicit sets of seen writes) in every interleaving of HSET, HDEL,
/// HINCRBY and merges on three replicas; convergence whatever the merge order; Redis's rules
/// (new-field counts, the last field removed deletes the key, HINCRBY's errors, WRONGTYPE both
/// ways, SET over a hash, the TTL kept); the storage format.
/// </summary>
public sealed class HashTests(ITestOutputHelper output)
{
    private static readonly Bytes Key = Bytes.FromUtf8("h");
    private const long Now = 1_800_000_000_000;
    private static Bytes B(string s) => Bytes.FromUtf8(s);

    private static ReplicaState Replica(int r) => ReplicaState.Empty.Apply(new ReplicaIncarnated($"n{r + 1}/{r}.0000000{r}"));

    private static Dot NextDot(ReplicaState s) => new(s.ActorId!, s.Counter + 1);

    /// <summary>Applies <paramref name="ops"/> at <paramref name="state"/> as its replica actor does; the refusal, or null.</summary>
    private static string? Apply(ref ReplicaState state, long now, out long[] results, params HashOp[] ops)
    {
        var error = ReplicaState.HashEvent(Key, state.Get(Key), NextDot(state), ops, now, out var evt, out results);
        if (evt is not null) state = state.Apply(evt);
        return error;
    }

    private static Dictionary<string, string> Read(ReplicaState state, long now = Now) =>
        HashRules.Read(state.Get(Key), now) is { } h ? h.Fields.ToDictionary(f => f.Name.ToUtf8(), f => f.Value.ToUtf8()) : new();

    // ---- the model ------------------------------------------------------------------------

    /// <summary>A write of one field, as the model keeps it: the value, its writer and minting time.</summary>
    private sealed record Write(string Value, Dot Dot, long Ts);

    /// <summary>
    /// One replica in the model: per field the writes of it no write or removal it saw replaced
    /// (its siblings), and every write and removal (by dot) it has seen. A different
    /// implementation of the same semantics: explicit sets where the store has version vectors.
    /// </summary>
    private sealed class ModelReplica
    {
        public Dictionary<string, List<Write>> Fields = new();
        public HashSet<Dot> Seen = new();

        public static Write Pick(List<Write> siblings) => siblings
            .OrderBy(w => w.Ts).ThenBy(w => w.Dot.Actor, StringComparer.Ordinal).ThenBy(w => w.Dot.Counter).Last();

        public Dictionary<string, string> Read() => Fields.Where(f => f.Value.Count > 0).ToDictionary(f => f.Key, f => Pick(f.Value).Value);

        /// <summary>A write minted as <paramref name="dot"/>: the fields it touched replaced, every other field's siblings resolved to the pick.</summary>
        public void Minted(Dot dot, IReadOnlyDictionary<string, string?> touched, long ts)
        {
            foreach (var (name, siblings) in Fields.ToList())
                if (!touched.ContainsKey(name) && siblings.Count > 1) Fields[name] = [Pick(siblings)];
            foreach (var (name, value) in touched)
                if (value is null) Fields.Remove(name);
                else Fields[name] = [new Write(value, dot, ts)];
            Seen.Add(dot);
        }

        /// <summary>Merges <paramref name="other"/> in: a sibling the other side saw and does not keep was replaced there.</summary>
        public void Merge(ModelReplica other)
        {
            var names = Fields.Keys.Union(other.Fields.Keys).ToList();
            foreach (var name in names)
            {
                var mine = Fields.GetValueOrDefault(name) ?? [];
                var theirs = other.Fields.GetValueOrDefault(name) ?? [];
                var kept = mine.Where(w => !other.Seen.Contains(w.Dot) || theirs.Contains(w))
                    .Concat(theirs.Where(w => !Seen.Contains(w.Dot) || mine.Contains(w)))
                    .Distinct().ToList();
                if (kept.Count == 0) Fields.Remove(name); else Fields[name] = kept;
            }
            Seen.UnionWith(other.Seen);
        }
    }

    private enum Step { Set, Delete, Incr, Sync }

    private readonly record struct Op(Step Kind, int Replica, int Source, int Field, int Ts)
    {
        public override string ToString() => Kind switch
        {
            Step.Set => $"hset@{Replica} f{Field} (t+{Ts})",
            Step.Delete => $"hdel@{Replica} f{Field} (t+{Ts})",
            Step.Incr => $"hincrby@{Replica} n 1 (t+{Ts})",
            _ => $"merge {Source}->{Replica}",
        };
    }

    // Few fields and coarse clocks, so that concurrent writes of one field and equal minting times are common.
    private static readonly Gen<Op[]> GenOps =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 3])
            .Select((kind, r, s, f, ts) => new Op(kind switch { <= 3 => Step.Set, 4 => Step.Delete, 5 => Step.Incr, _ => Step.Sync }, r, s, f, ts))
            .Array[0, 40];

    /// <summary>Runs the history on the store's replicas and on the model side by side, checking every replica's read after every step.</summary>
    private static (ReplicaState[] Store, ModelReplica[] Model) Run(Op[] ops)
    {
        var store = new[] { Replica(0), Replica(1), Replica(2) };
        var model = new[] { new ModelReplica(), new ModelReplica(), new ModelReplica() };
        var n = 0;
        foreach (var op in ops)
        {
            var r = op.Replica;
            var now = Now + op.Ts;
            var dot = NextDot(store[r]);
            switch (op.Kind)
            {
                case Step.Set:
                {
                    var value = $"v{++n}";
                    Assert.Null(Apply(ref store[r], now, out _, HashOp.Set((B($"f{op.Field}"), B(value)))));
                    model[r].Minted(dot, new Dictionary<string, string?> { [$"f{op.Field}"] = value }, now);
                    break;
                }
                case Step.Delete:
                {
                    var before = store[r].Counter;
                    Assert.Null(Apply(ref store[r], now, out var removed, HashOp.Delete(B($"f{op.Field}"))));
                    var present = model[r].Read().ContainsKey($"f{op.Field}");
                    Assert.Equal(present ? 1 : 0, removed[0]);
                    // Removing an absent field writes nothing; removing one mints a version (a tombstone if it was the last).
                    Assert.Equal(present ? before + 1 : before, store[r].Counter);
                    if (present) model[r].Minted(dot, new Dictionary<string, string?> { [$"f{op.Field}"] = null }, now);
                    break;
                }
                case Step.Incr:
                {
                    // The counter field holds only integers in this history; its siblings resolve to the pick first.
                    var current = model[r].Read().TryGetValue("n", out var v) ? long.Parse(v) : 0;
                    Assert.Null(Apply(ref store[r], now, out var made, HashOp.Increment(B("n"), 1)));
                    Assert.Equal(current + 1, made[0]);
                    model[r].Minted(dot, new Dictionary<string, string?> { ["n"] = made[0].ToString() }, now);
                    break;
                }
                case Step.Sync:
                    store[r] = store[r].Apply(new SiblingsMerged(Key, store[op.Source].Get(Key)));
                    model[r].Merge(model[op.Source]);
                    break;
            }
            for (var i = 0; i < 3; i++)
                Assert.Equal(model[i].Read().OrderBy(kv => kv.Key), Read(store[i], Now + 10).OrderBy(kv => kv.Key));
        }
        return (store, model);
    }

    [Fact]
    public void Every_interleaving_of_hash_writes_and_merges_reads_as_the_observed_remove_model()
    {
        // No field write is lost: a write that no replica saw and replaced stays (as the field's
        // pick, or a sibling behind it); a removal removes exactly the writes it saw.
        GenOps.Sample(ops => { Run(ops); }, iter: 400, print: o => "[" + string.Join("; ", o) + "]", writeLine: output.WriteLine);
    }

    [Fact]
    public void Replicas_that_merged_the_same_versions_read_the_same_hash_whatever_the_merge_order()
    {
        Gen.Select(GenOps, Gen.Int[0, 5]).Sample((ops, order) =>
        {
            var (store, model) = Run(ops);
            int[][] orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
            var o = orders[order];
            var forward = store[o[0]].Get(Key).Merge(store[o[1]].Get(Key)).Merge(store[o[2]].Get(Key));
            var backward = store[o[2]].Get(Key).Merge(store[o[1]].Get(Key).Merge(store[o[0]].Get(Key)));
            Assert.Equal(forward, backward);
            Assert.Equal(forward, forward.Merge(forward));
            var all = new ModelReplica();
            foreach (var m in model) all.Merge(m);
            var read = HashRules.Read(forward, Now + 10) is { } h ? h.Fields.ToDictionary(f => f.Name.ToUtf8(), f => f.Value.ToUtf8()) : new();
            Assert.Equal(all.Read().OrderBy(kv => kv.Key), read.OrderBy(kv => kv.Key));
        }, iter: 300, print: t => $"order {t.Item2}: [" + string.Join("; ", t.Item1) + "]", writeLine: output.WriteLine);
    }

    // ---- concurrent writes, unit cases -------------------------------------------------------

    [Fact]
    public void Concurrent_HSETs_of_different_fields_both_survive_and_of_one_field_keep_both_as_siblings()
    {
        ReplicaState a = Replica(0), b = Replica(1);
        Apply(ref a, Now, out _, HashOp.Set((B("x"), B("1"))));
        Apply(ref b, Now + 1, out _, HashOp.Set((B("y"), B("2"))));
        var merged = a.Get(Key).Merge(b.Get(Key));
        Assert.Equal(2, merged.Count);
        var read = HashRules.Read(merged, Now)!.Value.Fields;
        Assert.Equal(["x=1", "y=2"], read.Select(f => $"{f.Name}={f.Value}"));

        // One field on both sides: both writes stay; a read picks the later minting time (the GET rule).
        Apply(ref a, Now + 5, out _, HashOp.Set((B("z"), B("from-a"))));
        Apply(ref b, Now + 9, out _, HashOp.Set((B("z"), B("from-b"))));
        var both = a.Get(Key).Merge(b.Get(Key));
        Assert.Equal("from-b", HashRules.Read(both, Now)!.Value.Fields.Single(f => f.Name == B("z")).Value.ToUtf8());
        // Each side's version keeps its own write of z: neither is dropped by the merge.
        Assert.Equal(2, both.Siblings.Count(s => s.Hash!.Find(B("z")) is not null));
    }

    [Fact]
    public void An_HDEL_concurrent_with_an_HSET_of_the_same_field_keeps_the_HSET()
    {
        ReplicaState a = Replica(0), b = Replica(1);
        Apply(ref a, Now, out _, HashOp.Set((B("f"), B("old")), (B("g"), B("1"))));
        b = b.Apply(new SiblingsMerged(Key, a.Get(Key)));
        Apply(ref a, Now + 1, out _, HashOp.Delete(B("f")));
        Apply(ref b, Now + 2, out _, HashOp.Set((B("f"), B("new"))));
        var merged = a.Get(Key).Merge(b.Get(Key));
        Assert.Equal(["f=new", "g=1"], HashRules.Read(merged, Now)!.Value.Fields.Select(f => $"{f.Name}={f.Value}"));
    }

    [Fact]
    public void A_DEL_removes_the_fields_it_saw_even_when_a_concurrent_HSET_adds_another()
    {
        ReplicaState a = Replica(0), b = Replica(1);
        Apply(ref a, Now, out _, HashOp.Set((B("f"), B("1"))));
        b = b.Apply(new SiblingsMerged(Key, a.Get(Key)));
        // b deletes the key (it saw f); a, concurrently, adds g to the hash that still holds f.
        b = b.Apply(b.PutEvent(Key, NextDot(b), null, null, Now + 1));
        Apply(ref a, Now + 2, out _, HashOp.Set((B("g"), B("2"))));
        var merged = a.Get(Key).Merge(b.Get(Key));
        Assert.Equal(["g=2"], HashRules.Read(merged, Now + 3)!.Value.Fields.Select(f => $"{f.Name}={f.Value}"));
    }

    /// <summary>
    /// Two replicas after <c>{f, g}</c> reached both and each removed the field the other keeps
    /// (a: <c>HDEL g</c>, b: <c>HDEL f</c>): merged, two hash versions whose every field the other replaced.
    /// </summary>
    private static (ReplicaState A, ReplicaState B) ConcurrentHdelsOfEachOthersField(Bytes? fValue = null)
    {
        ReplicaState a = Replica(0), b = Replica(1);
        Apply(ref a, Now, out _, HashOp.Set((B("f"), fValue ?? B("1")), (B("g"), B("2"))));
        b = b.Apply(new SiblingsMerged(Key, a.Get(Key)));
        Apply(ref a, Now + 1, out _, HashOp.Delete(B("g")));
        Apply(ref b, Now + 2, out _, HashOp.Delete(B("f")));
        return (a, b);
    }

    [Fact]
    public void Concurrent_HDELs_that_leave_no_field_read_as_a_deleted_key_that_GC_may_purge()
    {
        var (a, b) = ConcurrentHdelsOfEachOthersField();
        a = a.Apply(new SiblingsMerged(Key, b.Get(Key)));
        var merged = a.Get(Key);
        Assert.Equal(2, merged.Count);
        Assert.All(merged.Siblings, s => Assert.True(merged.IsHollow(s)));
        Assert.Null(HashRules.Read(merged, Now + 3));
        Assert.Empty(CounterRules.Read(merged, Now + 3));
        Assert.True(merged.IsDeletedAt(Now + 3));
        // Tombstone GC lists it, and its purge replays the same way (the digest alone decides).
        var listed = Assert.Single(a.Tombstones(10, Now + 3));
        Assert.True(a.IsPurgeable(listed, long.MaxValue));
        // HDEL and EXPIRE of it change nothing; HSET starts a new hash; INCR counts from 0.
        var before = a.Counter;
        Assert.Null(Apply(ref a, Now + 4, out var r, HashOp.Delete(B("f"), B("g")), HashOp.Expire(1000)));
        Assert.Equal([0L, 0L], r);
        Assert.Equal(before, a.Counter);
        Assert.Null(a.IncrementEvent(Key, a.Get(Key), NextDot(a), 1, Now + 4, out _, out var number));
        Assert.Equal(1, number);
        Assert.Null(Apply(ref a, Now + 5, out r, HashOp.Set((B("h"), B("3")))));
        Assert.Equal(1, r[0]);
        Assert.Equal(new Dictionary<string, string> { ["h"] = "3" }, Read(a, Now + 5));
    }

    [Fact]
    public void Key_listing_ships_hash_versions_without_field_values_and_still_tells_a_hollow_hash()
    {
        var written = Replica(0);
        Apply(ref written, Now, out _, HashOp.Set((B("f"), Bytes.Wrap(new byte[1000])), (B("g"), B("2"))));
        var live = AkkaKv.Listing.KeyScan.WithoutValues(written.Get(Key));
        var field = Assert.Single(live.Siblings).Hash!.Find(B("f"))!;
        Assert.Equal(0, field.Value.Length);
        Assert.Equal(written.Get(Key).Siblings[0].Hash!.Find(B("f"))!.Dot, field.Dot);
        Assert.False(live.IsDeletedAt(Now));

        var (a, b) = ConcurrentHdelsOfEachOthersField(Bytes.Wrap(new byte[1000]));
        var hollow = AkkaKv.Listing.KeyScan.WithoutValues(a.Get(Key).Merge(b.Get(Key)));
        Assert.True(hollow.IsDeletedAt(Now + 3));
    }

    [Fact]
    public void A_string_concurrent_with_a_hash_that_concurrent_HDELs_emptied_is_what_the_key_reads_as()
    {
        var (a, b) = ConcurrentHdelsOfEachOthersField();
        var c = Replica(2);
        c = c.Apply(c.PutEvent(Key, NextDot(c), B("text"), VersionVector.Empty, Now - 100));
        var merged = a.Get(Key).Merge(b.Get(Key)).Merge(c.Get(Key));
        // The string was never deleted (no write saw it): add wins, as for a DEL concurrent with a SET.
        Assert.Null(HashRules.Read(merged, Now + 3));
        Assert.Equal("text", Assert.Single(CounterRules.Read(merged, Now + 3)).Value.ToUtf8());
    }

    // ---- Redis's rules ----------------------------------------------------------------------

    [Fact]
    public void HSET_counts_new_fields_HDEL_counts_removed_ones_and_the_last_field_removed_deletes_the_key()
    {
        var s = Replica(0);
        Assert.Null(Apply(ref s, Now, out var r, HashOp.Set((B("a"), B("1")), (B("b"), B("2")), (B("a"), B("3")))));
        Assert.Equal(2, r[0]);
        Assert.Equal("3", Read(s)["a"]);
        Assert.Null(Apply(ref s, Now, out r, HashOp.Set((B("a"), B("4")), (B("c"), B("5")))));
        Assert.Equal(1, r[0]);
        var counter = s.Counter;
        Assert.Null(Apply(ref s, Now, out r, HashOp.Delete(B("x"))));
        Assert.Equal(0, r[0]);
        Assert.Equal(counter, s.Counter); // nothing written
        Assert.Null(Apply(ref s, Now, out r, HashOp.Delete(B("a"), B("b"), B("a"))));
        Assert.Equal(2, r[0]);
        Assert.Null(Apply(ref s, Now, out r, HashOp.Delete(B("c"))));
        Assert.Equal(1, r[0]);
        Assert.Null(HashRules.Read(s.Get(Key), Now));
        Assert.True(s.Get(Key).IsDeletedAt(Now));
        Assert.True(Assert.Single(s.Get(Key).Siblings).IsTombstone);
    }

    [Fact]
    public void HINCRBY_counts_from_zero_refuses_a_non_integer_and_an_overflow_and_writes_nothing_then()
    {
        var s = Replica(0);
        Assert.Null(Apply(ref s, Now, out var r, HashOp.Increment(B("n"), 5), HashOp.Increment(B("n"), -7)));
        Assert.Equal([5L, -2L], r);
        Apply(ref s, Now, out _, HashOp.Set((B("text"), B("abc")), (B("big"), B(long.MaxValue.ToString())), (B("plus"), B("+1"))));
        var before = s;
        Assert.Equal(HashRules.NotAnInteger, Apply(ref s, Now, out _, HashOp.Increment(B("text"), 1)));
        Assert.Equal(HashRules.NotAnInteger, Apply(ref s, Now, out _, HashOp.Increment(B("plus"), 1)));
        Assert.Equal(CounterRules.Overflow, Apply(ref s, Now, out _, HashOp.Increment(B("big"), 1)));
        // An error in any operation of a request writes none of them.
        Assert.Equal(CounterRules.Overflow, Apply(ref s, Now, out _, HashOp.Set((B("new"), B("1"))), HashOp.Increment(B("big"), 1)));
        Assert.Same(before, s);
    }

    [Fact]
    public void Hash_commands_on_a_string_and_INCR_on_a_hash_answer_WRONGTYPE_and_SET_replaces_a_hash()
    {
        var s = Replica(0);
        s = s.Apply(s.PutEvent(Key, NextDot(s), B("text"), null, Now));
        Assert.Equal(CounterRules.WrongType, Apply(ref s, Now, out _, HashOp.Set((B("f"), B("1")))));
        Assert.Equal(CounterRules.WrongType, Apply(ref s, Now, out _, HashOp.Delete(B("f"))));

        var h = Replica(1);
        Apply(ref h, Now, out _, HashOp.Set((B("f"), B("1"))));
        Assert.Equal(CounterRules.WrongType, h.IncrementEvent(Key, h.Get(Key), NextDot(h), 1, Now, out _, out _));
        // A string read of a hash shows no value (the RESP gateway answers WRONGTYPE from the type).
        Assert.Empty(CounterRules.Read(h.Get(Key), Now));
        // SET over a hash replaces it (a blind write supersedes what the replica holds).
        h = h.Apply(h.PutEvent(Key, NextDot(h), B("now a string"), null, Now + 1));
        Assert.Null(HashRules.Read(h.Get(Key), Now + 1));
        Assert.Equal("now a string", Assert.Single(CounterRules.Read(h.Get(Key), Now + 1)).Value.ToUtf8());
        // DEL then INCR: a deleted hash is no obstacle to a counter starting from 0.
        h = h.Apply(h.PutEvent(Key, NextDot(h), null, null, Now + 2));
        Assert.Null(h.IncrementEvent(Key, h.Get(Key), NextDot(h), 1, Now + 2, out _, out var number));
        Assert.Equal(1, number);
    }

    [Fact]
    public void HSET_keeps_the_TTL_EXPIRE_sets_it_and_an_expired_hash_reads_as_absent_and_starts_over()
    {
        var s = Replica(0);
        Apply(ref s, Now, out _, HashOp.Set((B("f"), B("1"))), new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, Now + 1000));
        Apply(ref s, Now + 10, out _, HashOp.Set((B("g"), B("2"))));
        Assert.Equal(Now + 1000, HashRules.Read(s.Get(Key), Now + 10)!.Value.ExpiresAtMs);
        Apply(ref s, Now + 20, out var r, new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, 0));
        Assert.Equal(1, r[0]);
        Assert.Equal(0, HashRules.Read(s.Get(Key), Now + 5000)!.Value.ExpiresAtMs);

        var e = Replica(1);
        Apply(ref e, Now, out _, HashOp.Set((B("old"), B("1"))), new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, Now + 100));
        Assert.Null(HashRules.Read(e.Get(Key), Now + 100));
        Assert.Null(Apply(ref e, Now + 100, out r, new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, Now + 900)));
        Assert.Equal(0, r[0]); // EXPIRE of a key that expired: 0, nothing written
        Apply(ref e, Now + 200, out r, HashOp.Set((B("new"), B("2"))));
        Assert.Equal(1, r[0]);
        var read = HashRules.Read(e.Get(Key), Now + 200)!.Value;
        Assert.Equal(["new"], read.Fields.Select(f => f.Name.ToUtf8()));
        Assert.Equal(0, read.ExpiresAtMs);
    }

    [Fact]
    public void A_hash_counts_against_the_bytes_per_key_limit()
    {
        var s = Replica(0);
        var dot = NextDot(s);
        Assert.Null(ReplicaState.HashEvent(Key, s.Get(Key), dot, [HashOp.Set((B("field"), Bytes.Wrap(new byte[100])))], Now, out var evt, out _));
        // The name and value, and what the field's writer id and the field's overhead take.
        var bytes = 105 + dot.Actor.Length + HashPart.FieldOverheadBytes;
        Assert.Contains($"{bytes} bytes", s.CheckPutLimits(evt!, 64, bytes - 1));
        Assert.Null(s.CheckPutLimits(evt!, 64, bytes));
        // A million empty fields are refused under the default 8 MiB, though their names take 7 MB.
        Assert.True(1_000_000L * (7 + dot.Actor.Length + HashPart.FieldOverheadBytes) > 8 * 1024 * 1024);
    }

    [Fact]
    public void Operations_of_the_wrong_shape_are_refused_before_anything_is_applied()
    {
        var settings = CoreTestSupport.DefaultSettings();
        Assert.NotNull(Limits.CheckHashOps([], settings));
        Assert.NotNull(Limits.CheckHashOps([new HashOp(HashOpKind.Set, ValueList.From([B("f")]))], settings));
        Assert.NotNull(Limits.CheckHashOps([new HashOp(HashOpKind.Delete, ValueList<Bytes>.Empty)], settings));
        Assert.NotNull(Limits.CheckHashOps([new HashOp(HashOpKind.Increment, ValueList.From([B("a"), B("b")]), 1)], settings));
        Assert.NotNull(Limits.CheckHashOps([new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, -1)], settings));
        Assert.NotNull(Limits.CheckHashOps([new HashOp((HashOpKind)9, ValueList<Bytes>.Empty)], settings));
        Assert.Contains("max-value-bytes", Limits.CheckHashOps([HashOp.Set((B("f"), Bytes.Wrap(new byte[settings.MaxValueBytes + 1])))], settings));
        Assert.Null(Limits.CheckHashOps([HashOp.Set((B("f"), B("v"))), HashOp.Expire(1000)], settings));
    }

    // ---- storage format ---------------------------------------------------------------------

    private static SiblingSet RoundTrip(SiblingSet set)
    {
        var w = new KvWriter();
        w.WriteSiblings(set);
        return new KvReader(w.ToArray()).ReadSiblings();
    }

    [Fact]
    public void Hash_versions_round_trip_and_each_field_write_changes_the_digest()
    {
        var s = Replica(0);
        Apply(ref s, Now, out _, HashOp.Set((B("a"), B("1")), (Bytes.Empty, Bytes.From([0, 0xFF]))), new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, Now + 60_000));
        var set = s.Get(Key);
        Assert.Equal(set, RoundTrip(set));
        Assert.True(Assert.Single(RoundTrip(set).Siblings).IsHash);

        // The same fields and values written by another version, or at another time: another digest.
        var sibling = Assert.Single(set.Siblings);
        var moved = sibling with { Hash = HashPart.Of(sibling.Hash!.Fields.Select(f => f with { Dot = f.Dot with { Counter = 7 } })) };
        var later = sibling with { Hash = HashPart.Of(sibling.Hash!.Fields.Select(f => f with { TimestampMs = f.TimestampMs + 1 })) };
        var plain = sibling with { Hash = null };
        var digests = new[] { sibling, moved, later, plain }.Select(v => EntryDigest.Of(Key, SiblingSet.Of([v]))).ToList();
        Assert.Equal(4, digests.Distinct().Count());
    }

    [Fact]
    public void A_malformed_hash_version_is_refused_not_misread()
    {
        var fields = HashPart.Of([new HashField(B("f"), new Dot("n1/0.1", 1), Now, B("v"))]);
        // A hash with a value, a hash without fields: the peer check refuses them before any merge.
        var withValue = new Sibling(new Dot("n1/0.1", 1), VersionVector.Empty, B("v"), Now, Hash: fields);
        Assert.Contains("hash fields and a value", PeerInput.CheckVersions(Key, SiblingSet.Of([withValue])));
        var empty = new Sibling(new Dot("n1/0.1", 1), VersionVector.Empty, Bytes.Empty, Now, Hash: HashPart.Of([]));
        Assert.Contains("without fields", PeerInput.CheckVersions(Key, SiblingSet.Of([empty])));
        var badDot = new Sibling(new Dot("n1/0.1", 1), VersionVector.Empty, Bytes.Empty, Now, Hash: HashPart.Of([new HashField(B("f"), new Dot("n1/0.1", 0), Now, B("v"))]));
        Assert.Contains("hash field", PeerInput.CheckVersions(Key, SiblingSet.Of([badDot])));

        // The codec refuses fields out of order (a forged frame) rather than reading a second entry for a name.
        Assert.Throws<FormatException>(() => HashPart.FromOrdered([new HashField(B("b"), new Dot("a", 1), 0, B("1")), new HashField(B("a"), new Dot("a", 1), 0, B("1"))]));
        Assert.Throws<FormatException>(() => HashPart.FromOrdered([new HashField(B("a"), new Dot("a", 1), 0, B("1")), new HashField(B("a"), new Dot("a", 2), 0, B("2"))]));
    }
}
