using BenchmarkDotNet.Attributes;
using AkkaKv.Merkle;
using AkkaKv.Versioning;

namespace AkkaKv.Benchmarks;

/// <summary>
/// Anti-entropy's pure core at one partition of 100k keys (about 25M keys in all at Q = 256, above
/// the design's target, so these bound the cost from above): the tree update every write pays, a
/// rebuild at recovery, and comparing two replicas' trees that differ in 1% of their keys.
/// <c>dotnet run -c Release --project tests/AkkaKv.Benchmarks -- --filter '*Merkle*' --job short</c>
/// on the 2-core box with other work running (means; allocations per operation):
/// <code>
///                                      depth 3 (default)      depth 4
///   SetDigestOfExistingKey               44 ns     0 B          51 ns     0 B
///   SetSiblingsOfExistingKey            393 ns     0 B         335 ns     0 B
///   InsertThenRemoveKey                  40 ns     0 B          35 ns     0 B
///   DigestOfOneSiblingSet               165 ns     0 B         224 ns     0 B
///   Build100kKeys                        33 ms   5.2 MB         49 ms   6.0 MB
///   Diff100kKeysWith1PercentDivergent   6.6 ms   3.9 MB        0.63 ms  0.95 MB
///   the diff walked:  depth 3:  4,289 node hashes, 912 leaves, 46,308 (key, digest) entries
///                     depth 4: 18,881 node hashes, 995 leaves,  4,998 entries
/// </code>
/// At 100k keys a depth-3 leaf holds ~24 keys, so 1% divergence ships ~half the partition's
/// entries; at the design's 400 to 20k keys per partition depth 3 keeps leaves at a few keys.
/// </summary>
[MemoryDiagnoser]
public class MerkleBenchmarks
{
    private const int Keys = 100_000;
    private const int Divergent = Keys / 100;

    /// <summary>3: the default shape (4,096 leaves); 4: 65,536 leaves, for partitions this large.</summary>
    [Params(3, 4)]
    public int Depth { get; set; }

    private MerkleShape _shape = null!;
    private (Bytes Key, SiblingSet Siblings)[] _entries = null!;
    private SiblingSet[] _rewritten = null!;
    private MerkleTree _tree = null!;
    private MerkleTree _a = null!;
    private MerkleTree _b = null!;
    private Bytes _fresh = null!;
    private int _next;
    private ulong _flip;

    [GlobalSetup]
    public void Setup()
    {
        _shape = new MerkleShape(partitionBits: 8, fanout: MerkleShape.DefaultFanout, depth: Depth);
        var random = new Random(42);
        var past = VersionVector.Of([KeyValuePair.Create("n1/0.aaaaaaaa", 10L), KeyValuePair.Create("n2/1.bbbbbbbb", 4L), KeyValuePair.Create("n3/2.cccccccc", 7L)]);
        SiblingSet Version(long counter)
        {
            var value = new byte[100];
            random.NextBytes(value);
            return SiblingSet.Of([new Sibling(new Dot("n1/0.aaaaaaaa", counter), past, Bytes.From(value), 1_700_000_000_000 + counter)]);
        }
        _entries = Enumerable.Range(0, Keys).Select(i => (Bytes.FromUtf8($"user:{i}:profile"), Version(11 + i))).ToArray();
        _rewritten = _entries.Select((e, i) => e.Siblings.Put(new Dot("n2/1.bbbbbbbb", 5 + i), e.Siblings.Context, e.Siblings.Siblings[0].Value, 1)).ToArray();
        _tree = MerkleTree.Build(_shape, _entries);
        _a = MerkleTree.Build(_shape, _entries);
        _b = MerkleTree.Build(_shape, _entries);
        foreach (var i in Enumerable.Range(0, Keys).OrderBy(_ => random.Next()).Take(Divergent)) _b.Set(_entries[i].Key, _rewritten[i]);
        _fresh = Bytes.FromUtf8("user:not-yet-written:profile");
        var diff = _a.Diff(_b);
        Console.WriteLine($"// depth {Depth}: diff of {Divergent} divergent keys: {diff.Keys.Count} keys, {diff.NodesCompared} node hashes, {diff.LeavesCompared} leaves, {diff.EntriesCompared} (key, digest) entries");
    }

    /// <summary>The tree's share of a write whose digest is known: one dictionary lookup and depth + 1 XORs.</summary>
    [Benchmark]
    public ulong SetDigestOfExistingKey()
    {
        _next = (_next + 1) % Keys;
        _tree.Set(_entries[_next].Key, ++_flip);
        return _tree.RootHash;
    }

    /// <summary>What the replica pays per write: the entry digest of the key's new set (one 100-byte sibling), then the update.</summary>
    [Benchmark]
    public ulong SetSiblingsOfExistingKey()
    {
        _next = (_next + 1) % Keys;
        _tree.Set(_entries[_next].Key, (++_flip & 1) == 0 ? _entries[_next].Siblings : _rewritten[_next]);
        return _tree.RootHash;
    }

    /// <summary>A key written for the first time, then dropped again: slot and dictionary entry are reused.</summary>
    [Benchmark]
    public ulong InsertThenRemoveKey()
    {
        _tree.Set(_fresh, ++_flip);
        _tree.Remove(_fresh);
        return _tree.RootHash;
    }

    [Benchmark]
    public ulong DigestOfOneSiblingSet() => EntryDigest.Of(_entries[0].Key, _entries[0].Siblings);

    [Benchmark]
    public ulong Build100kKeys() => MerkleTree.Build(_shape, _entries).RootHash;

    [Benchmark]
    public int Diff100kKeysWith1PercentDivergent() => _a.Diff(_b).Keys.Count;
}
