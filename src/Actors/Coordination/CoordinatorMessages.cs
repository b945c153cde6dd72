using System.Collections.Immutable;
using AkkaKv.Sharding;

namespace AkkaKv.Coordination;

/// <summary>Local only: a finished coordinator tells its gateway which node answered for which slot.</summary>
internal sealed record SlotsSeen(ImmutableDictionary<SlotId, string> Nodes);

/// <summary>
/// What a coordinator knows of the cluster when it starts: the node last seen hosting each slot of
/// the key's partition, and the nodes the failure detector marks unreachable.
/// </summary>
internal sealed record ClusterView(ImmutableDictionary<int, string> SlotNodes, ImmutableHashSet<string> Unreachable)
{
    public static readonly ClusterView Empty = new(ImmutableDictionary<int, string>.Empty, ImmutableHashSet<string>.Empty);
}

internal sealed record CoordinatorTimeout(string Kind)
{
    public static readonly CoordinatorTimeout Overall = new("overall");
    public static readonly CoordinatorTimeout CoordinatingReplica = new("coordinating-replica");
    public static readonly CoordinatorTimeout ReadRepair = new("read-repair");
}
