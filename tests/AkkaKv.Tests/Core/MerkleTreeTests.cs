using System.Buffers.Binary;
using System.IO.Hashing;
using AkkaKv.AntiEntropy;
using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Core;

/// <summary>
/// The pure core of anti-entropy: the entry digest is a function of the sibling set alone (never of
/// how it was reached) and sees every difference set equality sees; the tree is the same however
/// its content was written, and a diff descends only into differing branches and names exactly the
/// keys whose content differs.
/// </summary>
public sealed class MerkleTreeTests(ITestOutputHelper output)
{
    private static readonly MerkleShape Default = MerkleShape.ForPartitions(256);
    /// <summary>16 leaves: dozens of keys share leaves, so leaf lists, removal and slot reuse get exercised.</summary>
    private static readonly MerkleShape Small = new(partitionBits: 8, fanout: 4, depth: 2);

    private static Sibling Version(string actor, long counter, string? value, VersionVector? past = null, long timestampMs = 1_000) =>
        new(new Dot(actor, counter), past ?? VersionVector.Empty, value is null ? null : B(value), timestampMs);

    private static VersionVector Vector(params (string Actor, long Counter)[] entries) =>
        VersionVector.Of(entries.Select(e => KeyValuePair.Create(e.Actor, e.Counter)));

    /// <summary>
    /// A random set of 1 to 3 concurrent siblings (their pasts name other actors, so none supersedes
    /// another), values of 0 to 40 bytes, one in eight a tombstone.
    /// </summary>
    private static SiblingSet RandomSet(Random r)
    {
        var siblings = new List<Sibling>();
        for (var i = r.Next(1, 4); i > 0; i--)
        {
            var past = Vector(($"old{r.Next(3)}", r.Next(1, 50)), ($"old{r.Next(3, 6)}", r.Next(1, 50)));
            var value = r.Next(8) == 0 ? null : Bytes.From(RandomBytes(r, r.Next(0, 41)));
            siblings.Add(new Sibling(new Dot($"n{r.Next(1, 6)}/{r.Next(3)}.{r.Next():x8}", r.Next(1, 1000)), past, value, r.Next()));
        }
        return SiblingSet.Of(siblings);
    }

    private static byte[] RandomBytes(Random r, int length)
    {
        var bytes = new byte[length];
        r.NextBytes(bytes);
        return bytes;
    }

    /// <summary><paramref name="count"/> distinct random keys, each with a random non-empty set.</summary>
    private static Dictionary<Bytes, SiblingSet> RandomContent(Random r, int count)
    {
        var content = new Dictionary<Bytes, SiblingSet>(count);
        while (content.Count < count) content[B($"user:{r.Next()}:{r.Next(1000)}")] = RandomSet(r);
        return content;
    }

    private static MerkleTree Built(MerkleShape shape, IEnumerable<KeyValuePair<Bytes, SiblingSet>> content) => MerkleTree.Build(shape, content);

    private static List<Bytes> Sorted(IEnumerable<Bytes> keys) => keys.Order().ToList();

    /// <summary>Every node is the XOR of its children, every leaf the XOR of its entries, every entry in the leaf of its key hash.</summary>
    private static void AssertConsistent(MerkleTree tree)
    {
        var shape = tree.Shape;
        var total = 0;
        for (var leaf = 0; leaf < shape.LeafCount; leaf++)
        {
            var entries = tree.LeafEntries(leaf);
            total += entries.Count;
            Assert.Equal(entries.Select(e => e.Key).Order(), entries.Select(e => e.Key));
            Assert.All(entries, e => Assert.Equal(leaf, shape.LeafOf(KeyHash.Of(e.Key))));
            Assert.Equal(entries.Aggregate(0UL, (h, e) => h ^ e.Digest), tree.NodeHash(shape.Depth, leaf));
        }
        Assert.Equal(tree.Count, total);
        for (var level = 0; level < shape.Depth; level++)
            for (var i = 0; i < shape.NodesAt(level); i++)
                Assert.Equal(tree.Children(level, i).Aggregate(0UL, (h, c) => h ^ c), tree.NodeHash(level, i));
    }

    /// <summary>Same shape, same hash at every node, same entries in every leaf.</summary>
    private static void AssertSameTree(MerkleTree expected, MerkleTree actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.RootHash, actual.RootHash);
        for (var level = 0; level <= expected.Shape.Depth; level++)
            for (var i = 0; i < expected.Shape.NodesAt(level); i++)
                Assert.Equal(expected.NodeHash(level, i), actual.NodeHash(level, i));
        for (var leaf = 0; leaf < expected.Shape.LeafCount; leaf++)
            Assert.Equal(expected.LeafEntries(leaf), actual.LeafEntries(leaf));
    }

    // ---- the entry digest ----

    [Fact]
    public void The_digest_is_xxHash64_of_the_documented_encoding_so_every_node_and_version_computes_the_same()
    {
        // A non-ASCII actor, a tombstone, a value that crosses the digest's buffer and one larger than it.
        var past = Vector(("n1/0.0000000a", 3), ("nœud/2.0000000b", 9));
        var set = SiblingSet.Of(
        [
            new Sibling(new Dot("nœud/2.0000000b", 10), past, null, 1_700_000_000_123),
            new Sibling(new Dot("n1/0.0000000a", 4), past, Bytes.From(Enumerable.Range(0, 200).Select(i => (byte)i).ToArray()), 7),
            new Sibling(new Dot("n1/0.0000000a", 5), VersionVector.Empty, Bytes.From(Enumerable.Range(0, 300).Select(i => (byte)(i * 7)).ToArray()), -1),
        ]);
        var key = B("user:42");

        var expected = new List<byte>();
        void U32(int v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); expected.AddRange(b); }
        void I64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); expected.AddRange(b); }
        void Actor(string a) { U32(a.Length); foreach (var c in a) { expected.Add((byte)c); expected.Add((byte)(c >> 8)); } }
        U32(key.Length);
        expected.AddRange(key.ToArray());
        U32(3);
        // Dot order: actor ordinal ("n1..." < "nœud..."), then counter.
        foreach (var s in set.Siblings)
        {
            Actor(s.Dot.Actor);
            I64(s.Dot.Counter);
            U32(s.Past.Entries.Count);
            foreach (var (a, c) in s.Past.Entries.OrderBy(e => e.Key, StringComparer.Ordinal)) { Actor(a); I64(c); }
            if (s.Value is null) expected.Add(0);
            else { expected.Add(1); U32(s.Value.Length); expected.AddRange(s.Value.ToArray()); }
            I64(s.TimestampMs);
        }
        Assert.Equal(["n1/0.0000000a:4", "n1/0.0000000a:5", "nœud/2.0000000b:10"], set.Siblings.Select(s => s.Dot.ToString()));

        Assert.Equal(XxHash64.HashToUInt64(expected.ToArray(), EntryDigest.FormatVersion), EntryDigest.Of(key, set));
        // Pinned: a change here makes every key of a mixed-version cluster look divergent; bump FormatVersion.
        Assert.Equal(0x13A570B8FE76E06FUL, EntryDigest.Of(key, set));
    }

    [Fact]
    public void A_value_with_a_deadline_is_encoded_with_marker_2_and_the_deadline_so_a_deadline_changes_the_digest()
    {
        var key = B("k");
        var plain = new Sibling(new Dot("n1/0.0000000a", 4), VersionVector.Empty, B("v"), 7);
        var expiring = plain with { ExpiresAtMs = 1_800_000_000_000 };
        var expected = new List<byte>();
        void U32(int v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v); expected.AddRange(b); }
        void I64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); expected.AddRange(b); }
        U32(1); expected.Add((byte)'k');
        U32(1);
        U32(plain.Dot.Actor.Length); foreach (var c in plain.Dot.Actor) { expected.Add((byte)c); expected.Add(0); }
        I64(4);
        U32(0);
        expected.Add(2); I64(1_800_000_000_000); U32(1); expected.Add((byte)'v');
        I64(7);
        Assert.Equal(XxHash64.HashToUInt64(expected.ToArray(), EntryDigest.FormatVersion), EntryDigest.Of(key, SiblingSet.Of([expiring])));
        Assert.NotEqual(EntryDigest.Of(key, SiblingSet.Of([plain])), EntryDigest.Of(key, SiblingSet.Of([expiring])));
        Assert.NotEqual(EntryDigest.Of(key, SiblingSet.Of([expiring])), EntryDigest.Of(key, SiblingSet.Of([expiring with { ExpiresAtMs = 1_800_000_000_001 }])));
    }

    [Fact]
    public void Every_difference_set_equality_sees_changes_the_digest()
    {
        var key = B("k");
        var past = Vector(("a", 1));
        var baseline = SiblingSet.Of([Version("n1", 2, "v", past)]);
        (string What, Bytes Key, SiblingSet Set)[] variants =
        [
            ("baseline", key, baseline),
            ("other key", B("k2"), baseline),
            ("other value", key, SiblingSet.Of([Version("n1", 2, "w", past)])),
            ("longer value", key, SiblingSet.Of([Version("n1", 2, "v\0", past)])),
            ("empty value", key, SiblingSet.Of([Version("n1", 2, "", past)])),
            ("tombstone", key, SiblingSet.Of([Version("n1", 2, null, past)])),
            ("other counter", key, SiblingSet.Of([Version("n1", 3, "v", past)])),
            ("other actor", key, SiblingSet.Of([Version("n2", 2, "v", past)])),
            ("other past counter", key, SiblingSet.Of([Version("n1", 2, "v", Vector(("a", 2)))])),
            ("extra past entry", key, SiblingSet.Of([Version("n1", 2, "v", Vector(("a", 1), ("b", 1)))])),
            ("empty past", key, SiblingSet.Of([Version("n1", 2, "v")])),
            ("other timestamp", key, SiblingSet.Of([Version("n1", 2, "v", past, timestampMs: 1_001)])),
            ("extra sibling", key, baseline.Merge(SiblingSet.Of([Version("n3", 1, "x")]))),
            // Field boundaries: the length prefixes keep "ab"+"c" apart from "a"+"bc".
            ("actor/value boundary 1", key, SiblingSet.Of([Version("ab", 2, "cv", past)])),
            ("actor/value boundary 2", key, SiblingSet.Of([Version("abc", 2, "v", past)])),
        ];

        for (var i = 0; i < variants.Length; i++)
            for (var j = i + 1; j < variants.Length; j++)
            {
                var (a, b) = (variants[i], variants[j]);
                if (a.Key == b.Key) Assert.NotEqual(a.Set, b.Set);
                Assert.True(EntryDigest.Of(a.Key, a.Set) != EntryDigest.Of(b.Key, b.Set), $"{a.What} and {b.What} have the same digest");
            }
    }

    private static readonly Gen<(HistoryOp[] Ops, int I, int J, int K)> GenHistoryAndPicks =
        Gen.Select(DvvHistory.GenOps, Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 1000]);

    private static string Print((HistoryOp[] Ops, int I, int J, int K) t) => $"{DvvHistory.Print(t.Ops)} picks=({t.I},{t.J},{t.K})";

    [Fact]
    public void The_digest_of_a_set_does_not_depend_on_the_order_its_siblings_were_merged_in()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            SiblingSet a = h.Observed[t.I % h.Observed.Count], b = h.Observed[t.J % h.Observed.Count], c = h.Observed[t.K % h.Observed.Count];
            var key = DvvHistory.Key;
            var abc = a.Merge(b).Merge(c);
            var reached = new[]
            {
                c.Merge(b.Merge(a)),
                b.Merge(c).Merge(a).Merge(b),
                SiblingSet.Of(abc.Siblings.Reverse()),
                SiblingSet.Empty.Merge(c.Siblings.Concat(a.Siblings).Concat(b.Siblings).Reverse()),
            };
            foreach (var set in reached)
            {
                Assert.Equal(abc, set);
                Assert.Equal(EntryDigest.Of(key, abc), EntryDigest.Of(key, set));
            }
        }, iter: 500, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Two_sets_of_a_history_have_equal_digests_exactly_when_they_are_equal()
    {
        GenHistoryAndPicks.Sample(t =>
        {
            var h = DvvHistory.Run(t.Ops);
            SiblingSet a = h.Observed[t.I % h.Observed.Count], b = h.Observed[t.J % h.Observed.Count];
            Assert.Equal(a.Equals(b), EntryDigest.Of(DvvHistory.Key, a) == EntryDigest.Of(DvvHistory.Key, b));
        }, iter: 500, print: Print, writeLine: output.WriteLine);
    }

    // ---- the shape ----

    [Fact]
    public void The_default_shape_is_16_children_3_levels_deep_after_the_partition_bits()
    {
        Assert.Equal(8, Default.PartitionBits);
        Assert.Equal(16, Default.Fanout);
        Assert.Equal(3, Default.Depth);
        Assert.Equal(4096, Default.LeafCount);
        Assert.Equal([1, 16, 256, 4096], Enumerable.Range(0, 4).Select(Default.NodesAt));
        Assert.Equal(new MerkleShape(8), Default);
        Assert.Equal(10, MerkleShape.ForPartitions(1024).PartitionBits);
    }

    [Fact]
    public void A_key_lands_in_the_leaf_named_by_the_hash_bits_after_the_partition_bits()
    {
        // Partition 0xAB of Q = 256, then leaf bits 0xCDE.
        Assert.Equal(0xCDE, Default.LeafOf(0xABCD_E123_4567_89ABUL));
        Assert.Equal(0, Default.LeafOf(0xFF00_0FFF_FFFF_FFFFUL));
        Assert.Equal(4095, Default.LeafOf(0x00FF_F000_0000_0000UL));
        Assert.Equal(0b10_11, Small.LeafOf(0x00B0_0000_0000_0000UL));
        Assert.Equal(0xCDE, new MerkleShape(0).LeafOf(0xCDE1_2345_6789_ABCDUL));
    }

    [Fact]
    public void The_keys_of_one_partition_spread_over_every_leaf()
    {
        // Bucketing by the top bits would put all of partition 1's keys into a quarter of the leaves.
        var partitioner = new Partitioner(4);
        var shape = new MerkleShape(partitionBits: 2, fanout: 4, depth: 2);
        var keys = Enumerable.Range(0, 8000).Select(i => B($"key-{i}")).Where(k => partitioner.PartitionOf(k) == 1).ToList();
        var tree = MerkleTree.Build(shape, keys.Select(k => (k, SiblingSet.Of([Version("n1", 1, "v")]))));

        var perLeaf = Enumerable.Range(0, shape.LeafCount).Select(l => tree.LeafEntries(l).Count).ToList();
        Assert.Equal(keys.Count, perLeaf.Sum());
        var mean = keys.Count / (double)shape.LeafCount;
        Assert.All(perLeaf, n => Assert.InRange(n, mean * 0.7, mean * 1.3));
    }

    [Theory]
    [InlineData(8, 3, 3)]    // fanout not a power of two
    [InlineData(8, 1, 3)]    // fanout below 2
    [InlineData(8, 16, 0)]   // no levels
    [InlineData(8, 16, 7)]   // 2^28 leaves
    [InlineData(-1, 16, 3)]
    [InlineData(53, 16, 3)]  // 53 + 12 bits do not fit in 64
    public void A_shape_that_cannot_bucket_a_64_bit_hash_is_refused(int partitionBits, int fanout, int depth)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleShape(partitionBits, fanout, depth));
    }

    // ---- the tree ----

    [Fact]
    public void An_empty_tree_hashes_to_0_and_diffs_empty_with_one_comparison()
    {
        var tree = new MerkleTree(8);
        Assert.Equal(Default, tree.Shape);
        Assert.Equal(0UL, tree.RootHash);
        Assert.Equal(0, tree.Count);
        Assert.Equal(new MerkleDiff(ValueList<Bytes>.Empty, 1, 0, 0), tree.Diff(new MerkleTree(Default)));
        Assert.Empty(tree.LeafEntries(123));
        Assert.False(tree.Remove(B("absent")));
    }

    [Fact]
    public void The_same_content_written_in_any_order_gives_equal_trees_and_an_empty_diff()
    {
        Gen.Select(Gen.Int, Gen.Int[0, 400], Gen.Int).Sample((seed, count, shuffleSeed) =>
        {
            var content = RandomContent(new Random(seed), count).ToList();
            var shuffled = content.ToArray();
            new Random(shuffleSeed).Shuffle(shuffled);
            foreach (var shape in new[] { Default, Small })
            {
                var built = Built(shape, content);
                var inOrder = new MerkleTree(shape);
                foreach (var (k, s) in content) inOrder.Set(k, s);
                var reordered = new MerkleTree(shape);
                foreach (var (k, s) in shuffled) reordered.Set(k, s);

                Assert.Equal(count, built.Count);
                AssertConsistent(built);
                AssertSameTree(built, inOrder);
                AssertSameTree(built, reordered);
                Assert.Equal(new MerkleDiff(ValueList<Bytes>.Empty, 1, 0, 0), built.Diff(reordered));
                Assert.Equal(count == 0, built.RootHash == 0);
            }
        }, iter: 40, print: t => $"seed={t.Item1} count={t.Item2} shuffleSeed={t.Item3}", writeLine: output.WriteLine);
    }

    public enum Divergence { OtherValue, ExtraSibling, Deleted, OtherTimestamp, MissingHere, MissingThere }

    /// <summary>Makes <paramref name="key"/>'s content on replica B differ from replica A's as <paramref name="kind"/> says.</summary>
    private static void Diverge(Divergence kind, Bytes key, SiblingSet set, MerkleTree a, MerkleTree b)
    {
        var first = set.Siblings[0];
        switch (kind)
        {
            case Divergence.OtherValue:
                b.Set(key, SiblingSet.Of(set.Siblings.SetItem(0, first with { Value = Bytes.From([.. first.Value?.ToArray() ?? [], 0x21]) })));
                break;
            case Divergence.ExtraSibling:
                b.Set(key, set.Merge(SiblingSet.Of([Version("concurrent/9.99999999", 1, "other")])));
                break;
            case Divergence.Deleted:
                b.Set(key, set.Put(new Dot("deleter/9.99999999", 1), set.Context, null, 5));
                break;
            case Divergence.OtherTimestamp:
                b.Set(key, SiblingSet.Of(set.Siblings.SetItem(0, first with { TimestampMs = first.TimestampMs + 1 })));
                break;
            case Divergence.MissingHere:
                Assert.True(a.Remove(key));
                break;
            case Divergence.MissingThere:
                b.Set(key, SiblingSet.Empty);
                break;
        }
    }

    [Theory]
    [InlineData(Divergence.OtherValue)]
    [InlineData(Divergence.ExtraSibling)]
    [InlineData(Divergence.Deleted)]
    [InlineData(Divergence.OtherTimestamp)]
    [InlineData(Divergence.MissingHere)]
    [InlineData(Divergence.MissingThere)]
    public void One_divergent_key_among_5000_is_the_whole_diff_found_by_comparing_one_path_and_one_leaf(Divergence kind)
    {
        var content = RandomContent(new Random(5000), 5000);
        var a = Built(Default, content);
        var b = Built(Default, content);
        var key = content.Keys.ElementAt(1234);
        Diverge(kind, key, content[key], a, b);

        var diff = a.Diff(b);

        Assert.Equal([key], diff.Keys);
        Assert.Equal(diff.Keys, b.Diff(a).Keys);
        // The root, then the 16 children of one node on each of the 3 levels below it: not O(keys).
        Assert.Equal(1 + Default.Depth * Default.Fanout, diff.NodesCompared);
        Assert.Equal(1, diff.LeavesCompared);
        var leaf = Default.LeafOf(KeyHash.Of(key));
        Assert.Equal(a.LeafEntries(leaf).Count + b.LeafEntries(leaf).Count, diff.EntriesCompared);
        Assert.InRange(diff.EntriesCompared, 1, 20);
        AssertConsistent(a);
        AssertConsistent(b);
    }

    internal enum TreeOpKind { Set, Remove, SetEmpty }

    internal readonly record struct TreeOp(TreeOpKind Kind, int Key, int Pick)
    {
        public override string ToString() => Kind switch
        {
            TreeOpKind.Set => $"set k{Key}=set#{Pick}",
            TreeOpKind.Remove => $"remove k{Key}",
            _ => $"set k{Key}=empty",
        };
    }

    private static readonly Gen<TreeOp[]> GenTreeOps =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 39], Gen.Int[0, 1000])
            .Select((kind, key, pick) => new TreeOp(kind switch { <= 6 => TreeOpKind.Set, <= 8 => TreeOpKind.Remove, _ => TreeOpKind.SetEmpty }, key, pick))
            .Array[0, 200];

    [Fact]
    public void Incremental_sets_overwrites_and_removes_give_the_tree_a_fresh_build_of_the_final_content_gives()
    {
        Gen.Select(Gen.Int, GenTreeOps).Sample((seed, ops) =>
        {
            var r = new Random(seed);
            var pool = Enumerable.Range(0, 12).Select(_ => RandomSet(r)).ToArray();
            foreach (var shape in new[] { Small, Default })
            {
                var tree = new MerkleTree(shape);
                var model = new Dictionary<Bytes, SiblingSet>();
                foreach (var op in ops)
                {
                    var key = B($"k{op.Key}");
                    switch (op.Kind)
                    {
                        case TreeOpKind.Set:
                            tree.Set(key, pool[op.Pick % pool.Length]);
                            model[key] = pool[op.Pick % pool.Length];
                            break;
                        case TreeOpKind.Remove:
                            Assert.Equal(model.Remove(key), tree.Remove(key));
                            break;
                        default:
                            tree.Set(key, SiblingSet.Empty);
                            model.Remove(key);
                            break;
                    }
                    Assert.Equal(model.Count, tree.Count);
                }
                var fresh = Built(shape, model);
                AssertConsistent(tree);
                AssertSameTree(fresh, tree);
                foreach (var (k, s) in model)
                    Assert.True(tree.TryGetDigest(k, out var d) && d == EntryDigest.Of(k, s), $"digest of {k}");
                Assert.Empty(tree.Diff(fresh).Keys);
            }
        }, iter: 200, print: t => $"seed={t.Item1} ops=[{string.Join("; ", t.Item2)}]", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_build_with_repeated_keys_and_empty_sets_keeps_the_last_set_of_each_key()
    {
        var v1 = SiblingSet.Of([Version("n1", 1, "one")]);
        var v2 = SiblingSet.Of([Version("n1", 2, "two")]);
        var tree = MerkleTree.Build(Small, [(B("a"), v1), (B("b"), v1), (B("a"), v2), (B("b"), SiblingSet.Empty), (B("c"), SiblingSet.Empty)]);

        var expected = new MerkleTree(Small);
        expected.Set(B("a"), v2);
        AssertSameTree(expected, tree);
        AssertConsistent(tree);
    }

    [Fact]
    public void Removing_every_key_returns_the_tree_to_the_empty_tree_and_freed_places_are_reused()
    {
        var content = RandomContent(new Random(7), 300);
        var tree = Built(Small, content);
        foreach (var key in content.Keys) Assert.True(tree.Remove(key));
        AssertSameTree(new MerkleTree(Small), tree);

        foreach (var (k, s) in content) tree.Set(k, s);
        AssertSameTree(Built(Small, content), tree);
        AssertConsistent(tree);
    }

    [Fact]
    public void Thousands_of_keys_with_k_random_divergences_diff_to_exactly_those_keys()
    {
        Gen.Select(Gen.Int, Gen.Int[0, 60]).Sample((seed, k) =>
        {
            var r = new Random(seed);
            var content = RandomContent(r, 3000);
            var a = Built(Default, content);
            var b = Built(Default, content);
            var keys = content.Keys.ToArray();
            r.Shuffle(keys);
            var divergent = keys.Take(k).ToList();
            foreach (var key in divergent) Diverge((Divergence)r.Next(6), key, content[key], a, b);

            var diff = a.Diff(b);

            Assert.Equal(Sorted(divergent), diff.Keys);
            Assert.Equal(diff.Keys, b.Diff(a).Keys);
            Assert.Equal(k == 0, a.RootHash == b.RootHash);
            Assert.InRange(diff.LeavesCompared, Math.Min(k, 1), k);
            Assert.InRange(diff.NodesCompared, 1, 1 + Default.Depth * Default.Fanout * k);
            Assert.Equal(diff, ExchangeThroughMessages(a, b));
        }, iter: 30, print: t => $"seed={t.Item1} k={t.Item2}", writeLine: output.WriteLine);
    }

    /// <summary>
    /// The exchange two replicas run, using only what messages carry: the root, <see cref="MerkleTree.Children"/>
    /// and <see cref="MerkleTree.LeafEntries"/> answers and the pure helpers that compare them.
    /// </summary>
    private static MerkleDiff ExchangeThroughMessages(MerkleTree mine, MerkleTree theirs)
    {
        var shape = mine.Shape;
        var nodes = 1;
        var keys = new List<Bytes>();
        if (mine.RootHash == theirs.RootHash) return new MerkleDiff(ValueList<Bytes>.Empty, nodes, 0, 0);
        IReadOnlyList<int> differing = [0];
        for (var level = 0; level < shape.Depth; level++)
        {
            var next = new List<int>();
            foreach (var node in differing)
            {
                ValueList<ulong> myChildren = mine.Children(level, node), theirChildren = theirs.Children(level, node);
                nodes += theirChildren.Count;
                next.AddRange(MerkleTree.DifferingChildren(node, myChildren, theirChildren));
            }
            differing = next;
        }
        var entries = 0;
        foreach (var leaf in differing)
        {
            ValueList<MerkleEntry> myEntries = mine.LeafEntries(leaf), theirEntries = theirs.LeafEntries(leaf);
            entries += myEntries.Count + theirEntries.Count;
            keys.AddRange(MerkleTree.DifferingKeys(myEntries, theirEntries));
        }
        return new MerkleDiff(ValueList.From(keys.Order()), nodes, differing.Count, entries);
    }

    [Fact]
    public void Replicas_of_a_history_diff_to_exactly_the_keys_whose_sets_differ_and_to_nothing_once_synced()
    {
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            var trees = h.Replicas.Select(rep => Built(Small, rep.Keys)).ToArray();
            for (var i = 0; i < DvvHistory.ReplicaCount; i++)
                for (var j = 0; j < DvvHistory.ReplicaCount; j++)
                {
                    var differing = new[] { DvvHistory.Key, DvvHistory.OtherKey }.Where(k => !h.Replicas[i].Get(k).Equals(h.Replicas[j].Get(k)));
                    Assert.Equal(Sorted(differing), trees[i].Diff(trees[j]).Keys);
                }

            // Every replica merges every other's keys: all converge, and so do their trees.
            var synced = h.Replicas.Select(rep => h.Replicas.Aggregate(rep, (acc, other) =>
                other.Keys.Aggregate(acc, (s, kv) => s.Apply(new SiblingsMerged(kv.Key, kv.Value))))).ToArray();
            var roots = synced.Select(rep => Built(Small, rep.Keys).RootHash).Distinct().ToList();
            Assert.Single(roots);
        }, iter: 300, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void The_exchange_helpers_name_differing_children_by_their_index_and_differing_keys_in_key_order()
    {
        Assert.Equal([33, 35], MerkleTree.DifferingChildren(2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 9, 3, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
        Assert.Empty(MerkleTree.DifferingChildren(0, [1, 2], [1, 2]));
        Assert.Throws<ArgumentException>(() => MerkleTree.DifferingChildren(0, [1, 2], [1, 2, 3, 4]));

        MerkleEntry[] mine = [new(B("a"), 1), new(B("c"), 3), new(B("d"), 4), new(B("e"), 5)];
        MerkleEntry[] theirs = [new(B("e"), 5), new(B("b"), 2), new(B("d"), 40), new(B("a"), 1)];
        Assert.Equal([B("b"), B("c"), B("d")], MerkleTree.DifferingKeys(mine, theirs));
        Assert.Equal([B("b"), B("c"), B("d")], MerkleTree.DifferingKeys(theirs, mine));
        Assert.Empty(MerkleTree.DifferingKeys(mine, Enumerable.Reverse(mine).ToArray()));
        Assert.Equal([B("a"), B("c"), B("d"), B("e")], MerkleTree.DifferingKeys(mine, []));
    }

    [Fact]
    public void Children_and_leaf_entries_of_equal_trees_are_equal_values_a_message_can_carry()
    {
        var content = RandomContent(new Random(11), 500);
        var a = Built(Default, content);
        var b = new MerkleTree(Default);
        foreach (var (k, s) in content.Reverse()) b.Set(k, s);

        Assert.Equal(a.Children(0, 0), b.Children(0, 0));
        Assert.Equal(16, a.Children(2, 255).Count);
        var leaf = Default.LeafOf(KeyHash.Of(content.Keys.First()));
        Assert.Equal(a.LeafEntries(leaf), b.LeafEntries(leaf));
        Assert.Contains(new MerkleEntry(content.Keys.First(), EntryDigest.Of(content.Keys.First(), content.Values.First())), a.LeafEntries(leaf));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Children(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Children(1, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.NodeHash(4, 0));
    }

    [Fact]
    public void Trees_of_different_shapes_are_never_compared()
    {
        var e = Assert.Throws<ArgumentException>(() => new MerkleTree(Default).Diff(new MerkleTree(new MerkleShape(9))));
        Assert.Contains("different shapes", e.Message);
    }

    [Fact]
    public void Paging_leaf_entries_by_bytes_finds_exactly_the_differing_keys_with_every_page_within_the_budget()
    {
        // Two replicas share some keys, differ on others (changed, or held by one side only); an
        // exchange walks the pages of all 16 leaves from both sides with a budget of 1 to 40 entries'
        // worth, and must find the same keys as comparing whole leaves.
        Gen.Select(Gen.Int, Gen.Int[0, 300], Gen.Int[1, 2000]).Sample((seed, count, budget) =>
        {
            var r = new Random(seed);
            var common = RandomContent(r, count);
            var a = new Dictionary<Bytes, SiblingSet>(common);
            var b = new Dictionary<Bytes, SiblingSet>(common);
            foreach (var key in common.Keys.Where(_ => r.Next(4) == 0)) (r.Next(3) switch { 0 => a, 1 => b, _ => r.Next(2) == 0 ? a : b })[key] = RandomSet(r);
            foreach (var key in common.Keys.Where(_ => r.Next(8) == 0)) (r.Next(2) == 0 ? a : b).Remove(key);
            var treeA = Built(Small, a.ToList());
            var treeB = Built(Small, b.ToList());
            var leaves = Enumerable.Range(0, Small.LeafCount).ToList();
            var expected = MerkleTree.DifferingKeys(leaves.SelectMany(treeA.LeafEntries).ToList(), leaves.SelectMany(treeB.LeafEntries).ToList());

            var found = new List<Bytes>();
            Bytes? after = null;
            var pages = 0;
            do
            {
                var pageA = LeafPage.Of(treeA, leaves, after, budget);
                var pageB = LeafPage.Of(treeB, leaves, after, budget);
                foreach (var page in new[] { pageA, pageB })
                {
                    var size = page.Entries.Sum(LeafPage.SizeOf);
                    Assert.True(size <= budget || page.Entries.Count == 1, $"a page of {page.Entries.Count} entries takes {size} bytes, over {budget}");
                    Assert.Equal(page.Entries.OrderBy(e => e.Key).Select(e => e.Key), page.Entries.Select(e => e.Key));
                }
                var compared = LeafPage.Compare(pageA, pageB);
                if (compared.Next is { } next) Assert.True(after is null || next.CompareTo(after) > 0, "the cursor moves forward");
                found.AddRange(compared.Differing);
                after = compared.Next;
                Assert.True(++pages <= 2 * (a.Count + b.Count) + 1, "paging ends");
            } while (after is not null);
            Assert.Equal(expected, found);
        }, iter: 200, print: t => $"seed={t.Item1} count={t.Item2} budget={t.Item3}", writeLine: output.WriteLine);
    }
}
