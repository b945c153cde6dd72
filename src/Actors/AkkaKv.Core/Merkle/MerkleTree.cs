using System.Runtime.InteropServices;
using AkkaKv.Ring;
using AkkaKv.Versioning;

namespace AkkaKv.Merkle;

/// <summary>One key of a leaf and its <see cref="EntryDigest"/>: what an exchange ships for a leaf whose hashes differ.</summary>
public readonly record struct MerkleEntry(Bytes Key, ulong Digest);

/// <summary>
/// What comparing two trees found: the keys whose content differs (present on one side only, or
/// with different digests), in key order, and what the descent cost: node hashes compared
/// (root included), leaves whose entries were compared, and (key, digest) entries shipped for them
/// (both sides counted).
/// </summary>
public sealed record MerkleDiff(ValueList<Bytes> Keys, int NodesCompared, int LeavesCompared, int EntriesCompared);

/// <summary>
/// The hash tree one replica keeps over the keys of its partition, for anti-entropy: two replicas
/// compare roots, descend only into children whose hashes differ, and at the leaves exchange
/// (key, digest) lists to name exactly the keys to repair (Merkle, "A Digital Signature Based on
/// a Conventional Encryption Function", CRYPTO 1987; DeCandia et al., "Dynamo", SOSP 2007,
/// section 4.7; Riak's <c>hashtree.erl</c>).
/// <code>
///   level 0                         [root]                       = XOR of all entries
///   level 1          [0]     [1]     ...      [15]               fanout 16
///   level 2       [0..15] [16..31]   ...   [240..255]
///   level 3 (leaf)  ...  [leaf = 12 hash bits after the partition bits]  4,096 leaves
///                    └─ keys of the leaf, each with its entry digest
///
///   exchange:  A: root ──▶ B   equal? done
///              B: children(0,0) ◀─▶ A's   differing indexes ─▶ children of each ... down to leaves
///              leaves: LeafEntries on both sides ─▶ DifferingKeys ─▶ send/fetch those keys' sibling sets
/// </code>
/// A node's hash is the XOR of the entry digests below it (an incremental set hash, not a
/// cryptographic Merkle hash: replicas trust each other). XOR makes a write O(depth) with no
/// rescan: XOR the old digest out and the new one in along the leaf's path, and makes the hash of
/// a key set independent of the order keys were written in. An empty subtree hashes to 0.
///
/// Mutable on purpose, unlike the rest of the pure core: it is updated on every write of a
/// partition, so it must not copy per update. It is owned by one replica actor and not
/// thread-safe; what it hands out (<see cref="Children"/>, <see cref="LeafEntries"/>,
/// <see cref="MerkleDiff"/>) are immutable values that messages can carry.
/// </summary>
public sealed class MerkleTree
{
    private const int None = -1;

    /// <summary>A key's place: slots are recycled through a free list, so an update never allocates.</summary>
    private struct Slot
    {
        public Bytes? Key;
        public ulong Digest;
        public int Leaf;
        /// <summary>Next slot of the same leaf, or of the free list when <see cref="Key"/> is null.</summary>
        public int Next;
    }

    private int _count;
    private Slot[] _slots;
    private int _slotsUsed;
    private int _free = None;
    /// <summary>First slot of each leaf's singly-linked key list: a leaf holds a handful of keys, so removal walks it.</summary>
    private readonly int[] _leafHead;
    /// <summary>Node hashes level by level, root first: level l starts at <see cref="_levelStart"/>[l].</summary>
    private readonly ulong[] _nodes;
    private readonly int[] _levelStart;

    public MerkleTree(MerkleShape shape) : this(shape, capacity: 0) { }

    public MerkleTree(int partitionBits, int fanout = MerkleShape.DefaultFanout, int depth = MerkleShape.DefaultDepth)
        : this(new MerkleShape(partitionBits, fanout, depth)) { }

    private MerkleTree(MerkleShape shape, int capacity)
    {
        Shape = shape;
        _slots = new Slot[Math.Max(capacity, 4)];
        _leafHead = new int[shape.LeafCount];
        Array.Fill(_leafHead, None);
        _levelStart = new int[shape.Depth + 2];
        for (var level = 0; level <= shape.Depth; level++)
            _levelStart[level + 1] = _levelStart[level] + shape.NodesAt(level);
        _nodes = new ulong[_levelStart[shape.Depth + 1]];
    }

    public MerkleShape Shape { get; }

    /// <summary>Keys held (keys with a non-empty sibling set).</summary>
    public int Count => _count;

    public ulong RootHash => _nodes[0];

    /// <summary>
    /// A tree of <paramref name="entries"/>, as after <see cref="Set(Bytes, SiblingSet)"/> of each in
    /// turn (a later entry for the same key wins, an empty set is no entry), but hashing the inner
    /// levels once at the end: for rebuilding at recovery.
    /// </summary>
    public static MerkleTree Build(MerkleShape shape, IEnumerable<(Bytes Key, SiblingSet Siblings)> entries) =>
        Build(shape, entries, entries.TryGetNonEnumeratedCount(out var n) ? n : 0);

    /// <inheritdoc cref="Build(MerkleShape, IEnumerable{ValueTuple{Bytes, SiblingSet}})"/>
    public static MerkleTree Build(MerkleShape shape, IEnumerable<KeyValuePair<Bytes, SiblingSet>> entries) =>
        Build(shape, entries.Select(kv => (kv.Key, kv.Value)), entries.TryGetNonEnumeratedCount(out var n) ? n : 0);

    private static MerkleTree Build(MerkleShape shape, IEnumerable<(Bytes Key, SiblingSet Siblings)> entries, int capacity)
    {
        var tree = new MerkleTree(shape, capacity);
        foreach (var (key, siblings) in entries) tree.SetLeaf(key, siblings);
        tree.RehashInnerLevels();
        return tree;
    }

    /// <summary>Records <paramref name="key"/>'s content after a write: its digest, or no entry when the set is empty.</summary>
    public void Set(Bytes key, SiblingSet siblings)
    {
        if (siblings.IsEmpty) Remove(key);
        else Set(key, EntryDigest.Of(key, siblings));
    }

    /// <summary>Records <paramref name="digest"/> (from <see cref="EntryDigest.Of"/>) as <paramref name="key"/>'s content. O(depth).</summary>
    public void Set(Bytes key, ulong digest)
    {
        if (Put(key, digest, out var leaf, out var delta)) Propagate(leaf, delta);
    }

    /// <summary>Drops <paramref name="key"/>'s entry, if any. O(depth + keys in its leaf).</summary>
    public bool Remove(Bytes key)
    {
        var leaf = Shape.LeafOf(KeyHash.Of(key));
        ref var link = ref _leafHead[leaf];
        while (link != None && !key.Equals(_slots[link].Key)) link = ref _slots[link].Next;
        if (link == None) return false;
        var i = link;
        link = _slots[i].Next;
        _count--;
        var digest = _slots[i].Digest;
        _slots[i] = new Slot { Next = _free };
        _free = i;
        Propagate(leaf, digest);
        return true;
    }

    public bool TryGetDigest(Bytes key, out ulong digest)
    {
        if (Find(key, Shape.LeafOf(KeyHash.Of(key))) is var i and not None)
        {
            digest = _slots[i].Digest;
            return true;
        }
        digest = 0;
        return false;
    }

    /// <summary>The hash of node <paramref name="index"/> of <paramref name="level"/> (0: root, <see cref="MerkleShape.Depth"/>: a leaf).</summary>
    public ulong NodeHash(int level, int index) => LevelSpan(level)[index];

    /// <summary>The hashes of the <see cref="MerkleShape.Fanout"/> children of node <paramref name="index"/> of <paramref name="level"/> (above the leaves).</summary>
    public ValueList<ulong> Children(int level, int index) => ValueList.From(ChildSpan(level, index).ToArray());

    /// <summary>The keys of leaf <paramref name="leaf"/> with their digests, in key order.</summary>
    public ValueList<MerkleEntry> LeafEntries(int leaf)
    {
        var entries = new List<MerkleEntry>();
        for (var i = _leafHead[leaf]; i != None; i = _slots[i].Next)
            entries.Add(new MerkleEntry(_slots[i].Key!, _slots[i].Digest));
        entries.Sort((a, b) => a.Key.CompareTo(b.Key));
        return ValueList.From(entries);
    }

    /// <summary>
    /// The indexes (at the next level) of the children of node <paramref name="parentIndex"/> whose
    /// hashes differ between <paramref name="mine"/> and <paramref name="theirs"/> (both that node's
    /// <see cref="Children"/>): the nodes to descend into.
    /// </summary>
    public static ValueList<int> DifferingChildren(int parentIndex, IReadOnlyList<ulong> mine, IReadOnlyList<ulong> theirs)
    {
        if (mine.Count != theirs.Count)
            throw new ArgumentException($"trees of different fanouts cannot be compared: {mine.Count} children against {theirs.Count}", nameof(theirs));
        var differing = new List<int>();
        for (var c = 0; c < mine.Count; c++)
            if (mine[c] != theirs[c]) differing.Add(parentIndex * mine.Count + c);
        return ValueList.From(differing);
    }

    /// <summary>
    /// The keys of one leaf that need repair: held on one side only, or held with different digests.
    /// In key order.
    /// </summary>
    public static ValueList<Bytes> DifferingKeys(IReadOnlyList<MerkleEntry> mine, IReadOnlyList<MerkleEntry> theirs)
    {
        var theirDigest = new Dictionary<Bytes, ulong>(theirs.Count);
        foreach (var e in theirs) theirDigest[e.Key] = e.Digest;
        var differing = new List<Bytes>();
        foreach (var e in mine)
            if (!theirDigest.Remove(e.Key, out var d) || d != e.Digest) differing.Add(e.Key);
        differing.AddRange(theirDigest.Keys);
        differing.Sort();
        return ValueList.From(differing);
    }

    /// <summary>Compares this replica's tree with <paramref name="other"/>'s the way an exchange does.</summary>
    public MerkleDiff Diff(MerkleTree other) => Diff(this, other);

    /// <summary>
    /// Walks both trees as an exchange would: the roots, then the children of every node whose
    /// hashes differ, down to the leaves, whose entries are compared key by key. Equal subtrees are
    /// never entered, so one divergent key costs 1 + depth × fanout hash comparisons and one leaf,
    /// however many keys the partition holds.
    /// </summary>
    public static MerkleDiff Diff(MerkleTree a, MerkleTree b)
    {
        if (!a.Shape.Equals(b.Shape))
            throw new ArgumentException($"trees of different shapes cannot be compared: {a.Shape} against {b.Shape}", nameof(b));
        var shape = a.Shape;
        var nodes = 1;
        var leaves = 0;
        var entries = 0;
        var keys = new List<Bytes>();
        if (a.RootHash == b.RootHash) return new MerkleDiff(ValueList<Bytes>.Empty, nodes, leaves, entries);

        var differing = new List<int> { 0 };
        var next = new List<int>();
        for (var level = 0; level < shape.Depth; level++)
        {
            next.Clear();
            foreach (var parent in differing)
            {
                ReadOnlySpan<ulong> mine = a.ChildSpan(level, parent), theirs = b.ChildSpan(level, parent);
                nodes += mine.Length;
                for (var c = 0; c < mine.Length; c++)
                    if (mine[c] != theirs[c]) next.Add(parent * shape.Fanout + c);
            }
            (differing, next) = (next, differing);
        }
        foreach (var leaf in differing)
        {
            var mine = a.LeafEntries(leaf);
            var theirs = b.LeafEntries(leaf);
            leaves++;
            entries += mine.Count + theirs.Count;
            keys.AddRange(DifferingKeys(mine, theirs));
        }
        keys.Sort();
        return new MerkleDiff(ValueList.From(keys), nodes, leaves, entries);
    }

    private ReadOnlySpan<ulong> LevelSpan(int level)
    {
        if ((uint)level > (uint)Shape.Depth)
            throw new ArgumentOutOfRangeException(nameof(level), level, $"levels run from 0 (root) to {Shape.Depth} (leaves)");
        return _nodes.AsSpan(_levelStart[level], _levelStart[level + 1] - _levelStart[level]);
    }

    private ReadOnlySpan<ulong> ChildSpan(int level, int index)
    {
        if ((uint)level >= (uint)Shape.Depth)
            throw new ArgumentOutOfRangeException(nameof(level), level, $"only levels 0 to {Shape.Depth - 1} have children");
        if ((uint)index >= (uint)Shape.NodesAt(level))
            throw new ArgumentOutOfRangeException(nameof(index), index, $"level {level} has {Shape.NodesAt(level)} nodes");
        return LevelSpan(level + 1).Slice(index * Shape.Fanout, Shape.Fanout);
    }

    /// <summary>Stores the digest in its slot; false when nothing changed. <paramref name="delta"/>: old XOR new digest.</summary>
    private bool Put(Bytes key, ulong digest, out int leaf, out ulong delta)
    {
        leaf = Shape.LeafOf(KeyHash.Of(key));
        var i = Find(key, leaf);
        if (i != None)
        {
            ref var slot = ref _slots[i];
            delta = slot.Digest ^ digest;
            slot.Digest = digest;
            return delta != 0;
        }
        i = NewSlot();
        _count++;
        _slots[i] = new Slot { Key = key, Digest = digest, Leaf = leaf, Next = _leafHead[leaf] };
        _leafHead[leaf] = i;
        delta = digest;
        return true;
    }

    /// <summary>
    /// <paramref name="key"/>'s slot, found by walking its leaf's list: a leaf holds 1/4,096 of the
    /// slot's keys (one or two at a million keys per node), so there is no per-key index (a
    /// dictionary would cost more memory per key than the slot itself).
    /// </summary>
    private int Find(Bytes key, int leaf)
    {
        for (var i = _leafHead[leaf]; i != None; i = _slots[i].Next)
            if (key.Equals(_slots[i].Key)) return i;
        return None;
    }

    private int NewSlot()
    {
        if (_free != None)
        {
            var i = _free;
            _free = _slots[i].Next;
            return i;
        }
        if (_slotsUsed == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
        return _slotsUsed++;
    }

    private void Propagate(int leaf, ulong delta)
    {
        var index = leaf;
        for (var level = Shape.Depth; level >= 0; level--)
        {
            _nodes[_levelStart[level] + index] ^= delta;
            index >>= Shape.FanoutBits;
        }
    }

    private void SetLeaf(Bytes key, SiblingSet siblings)
    {
        if (siblings.IsEmpty)
        {
            // Rare (an empty set in a snapshot): the ordinary removal keeps every level right.
            Remove(key);
            return;
        }
        if (Put(key, EntryDigest.Of(key, siblings), out var leaf, out var delta))
            _nodes[_levelStart[Shape.Depth] + leaf] ^= delta;
    }

    /// <summary>Recomputes every level above the leaves from the leaves: each node is the XOR of its children.</summary>
    private void RehashInnerLevels()
    {
        for (var level = Shape.Depth - 1; level >= 0; level--)
        {
            var parents = _nodes.AsSpan(_levelStart[level], Shape.NodesAt(level));
            var children = _nodes.AsSpan(_levelStart[level + 1], Shape.NodesAt(level + 1));
            for (var p = 0; p < parents.Length; p++)
            {
                var h = 0UL;
                foreach (var c in children.Slice(p * Shape.Fanout, Shape.Fanout)) h ^= c;
                parents[p] = h;
            }
        }
    }
}
