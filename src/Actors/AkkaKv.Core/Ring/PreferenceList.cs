using System.Collections.Immutable;

namespace AkkaKv.Ring;

/// <summary>
/// The nodes responsible for one partition: the first N distinct nodes clockwise from the
/// partition's start (the primaries), then every other node in ring order (the fallbacks).
/// A pure function of (ring, partition, N), as in riak_core_apl.
/// </summary>
public sealed record PreferenceList(int Partition, ImmutableArray<string> Primaries, ImmutableArray<string> Fallbacks)
{
    public static PreferenceList For(int partition, int n, HashRing ring, Partitioner partitioner)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), "N must be at least 1");
        var walk = ring.WalkFrom(partitioner.StartOf(partition)).ToImmutableArray();
        var primaries = walk.Take(n).ToImmutableArray();
        var fallbacks = walk.Skip(n).ToImmutableArray();
        return new PreferenceList(partition, primaries, fallbacks);
    }

    /// <summary>True when the ring has fewer distinct nodes than N: some replica slots must share a node.</summary>
    public bool IsShortOfNodes(int n) => Primaries.Length < n;
}
