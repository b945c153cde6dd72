using System.Numerics;
using AkkaKv.Configuration;

namespace AkkaKv.Merkle;

/// <summary>
/// The fixed shape of a partition's <see cref="MerkleTree"/>. Two replicas can compare trees only
/// when their shapes are equal, so the shape travels with an exchange.
///
/// A key lands in the leaf named by the <c>Depth * log2(Fanout)</c> bits of its 64-bit hash that
/// follow the top <see cref="PartitionBits"/>: every key of a partition shares those top bits
/// (<c>partition = hash &gt;&gt; (64 - log2 Q)</c>), so bucketing by them would put the whole
/// partition in one leaf.
/// </summary>
public sealed record MerkleShape
{
    /// <summary>
    /// 16 children per node, 3 levels below the root: 4,096 leaves. A partition holds about
    /// 100k/Q to a few million/Q keys (400 to ~20k at the default Q = 256), so a leaf holds 0 to a
    /// handful of keys and one divergent key costs 1 + 3 × 16 hashes (~400 bytes) plus one small
    /// leaf, where 256 leaves would ship ~80 (key, digest) pairs for it at 20k keys. The fixed cost,
    /// 4,369 node hashes and 4,096 leaf heads (~52 KB), stays small beside the keys it covers.
    /// </summary>
    public const int DefaultFanout = 16;

    /// <inheritdoc cref="DefaultFanout"/>
    public const int DefaultDepth = 3;

    /// <summary>
    /// At most 2^20 leaves: a tree's fixed arrays stay under ~15 MB even for a mistaken shape, and
    /// an exchange's answer for the level above the leaves (8 bytes per child hash, when every
    /// node differs) stays at 8 MiB, well inside a remoting frame.
    /// </summary>
    public const int MaxLeafBits = 20;

    public MerkleShape(int partitionBits, int fanout = DefaultFanout, int depth = DefaultDepth)
    {
        if (fanout < 2 || !BitOperations.IsPow2(fanout))
            throw new ArgumentOutOfRangeException(nameof(fanout), fanout, "the fanout must be a power of two, at least 2");
        if (depth < 1)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "the depth must be at least 1");
        var fanoutBits = BitOperations.Log2((uint)fanout);
        if (fanoutBits * depth > MaxLeafBits)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, $"fanout^depth must be at most 2^{MaxLeafBits} leaves");
        if (partitionBits < 0 || partitionBits + fanoutBits * depth > 64)
            throw new ArgumentOutOfRangeException(nameof(partitionBits), partitionBits, "partition bits plus leaf bits must fit in the 64-bit key hash");
        PartitionBits = partitionBits;
        Fanout = fanout;
        Depth = depth;
        FanoutBits = fanoutBits;
        LeafBits = fanoutBits * depth;
    }

    /// <summary>The default shape for a ring of <paramref name="partitionCount"/> partitions (Q, a power of two).</summary>
    public static MerkleShape ForPartitions(int partitionCount)
    {
        if (partitionCount < 1 || !BitOperations.IsPow2(partitionCount))
            throw new ArgumentOutOfRangeException(nameof(partitionCount), partitionCount, "the partition count must be a power of two");
        return new MerkleShape(BitOperations.Log2((uint)partitionCount));
    }

    /// <summary>The shape every replica of a node with these settings keeps: partition bits from Q, fanout and depth from <c>anti-entropy.tree-*</c>.</summary>
    public static MerkleShape Of(KvSettings settings) =>
        new(BitOperations.Log2((uint)settings.PartitionCount), settings.MerkleFanout, settings.MerkleDepth);

    /// <summary>log2 Q: the top hash bits every key of the partition shares.</summary>
    public int PartitionBits { get; }
    public int Fanout { get; }
    /// <summary>Levels below the root; level 0 is the root, level <see cref="Depth"/> the leaves.</summary>
    public int Depth { get; }
    public int FanoutBits { get; }
    public int LeafBits { get; }
    public int LeafCount => 1 << LeafBits;

    /// <summary>How many nodes level <paramref name="level"/> has: Fanout^level.</summary>
    public int NodesAt(int level) => 1 << (FanoutBits * level);

    /// <summary>The leaf of a key whose <see cref="Ring.KeyHash"/> is <paramref name="keyHash"/>.</summary>
    public int LeafOf(ulong keyHash) => (int)((keyHash << PartitionBits) >> (64 - LeafBits));

    public override string ToString() => $"{Fanout}^{Depth} leaves after {PartitionBits} partition bits";
}
