using System.Numerics;

namespace AkkaKv.Ring;

/// <summary>
/// Cuts the 64-bit hash space into Q equal partitions (Dynamo's "strategy 3", Riak's ring size).
/// <c>partition(key) = hash64(key) &gt;&gt; (64 - log2 Q)</c>. Q is fixed for the life of a cluster.
/// </summary>
public sealed record Partitioner
{
    public int PartitionCount { get; }
    private readonly int _shift;

    public Partitioner(int partitionCount)
    {
        if (partitionCount < 2 || !BitOperations.IsPow2(partitionCount))
            throw new ArgumentOutOfRangeException(nameof(partitionCount), partitionCount, "the partition count Q must be a power of two, at least 2");
        PartitionCount = partitionCount;
        _shift = 64 - BitOperations.Log2((uint)partitionCount);
    }

    public int PartitionOf(Bytes key) => PartitionOfHash(KeyHash.Of(key));
    public int PartitionOfHash(ulong hash) => (int)(hash >> _shift);

    /// <summary>The first hash position that belongs to partition <paramref name="partition"/>.</summary>
    public ulong StartOf(int partition) => (ulong)partition << _shift;
}
