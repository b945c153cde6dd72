using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.Coordination;

/// <summary>Local only: a finished coordinator tells its gateway which node answered for which slot.</summary>
internal sealed record SlotsSeen(ImmutableDictionary<SlotId, string> Nodes);

/// <summary>
/// What a coordinator knows of the cluster when it starts: the node hosting each slot of the key's
/// partition (last seen, else as the ring places it), the nodes the failure detector marks
/// unreachable, and the partition's fallback nodes that are reachable and hold none of its slots,
/// in ring order (where hints for unreachable replicas go).
/// </summary>
internal sealed record ClusterView(ImmutableDictionary<int, string> SlotNodes, ImmutableHashSet<string> Unreachable, ImmutableArray<string> Fallbacks)
{
    public ClusterView(ImmutableDictionary<int, string> slotNodes, ImmutableHashSet<string> unreachable)
        : this(slotNodes, unreachable, ImmutableArray<string>.Empty) { }

    public static readonly ClusterView Empty = new(ImmutableDictionary<int, string>.Empty, ImmutableHashSet<string>.Empty);

    public bool IsReachable(int slot) => !SlotNodes.TryGetValue(slot, out var node) || !Unreachable.Contains(node);
}

internal sealed record CoordinatorTimeout(string Kind)
{
    public static readonly CoordinatorTimeout Overall = new("overall");
    public static readonly CoordinatorTimeout CoordinatingReplica = new("coordinating-replica");
    public static readonly CoordinatorTimeout ReadRepair = new("read-repair");
}

/// <summary>A reachable replica did not ack its merge within replica-ack-timeout: hint it too.</summary>
internal sealed record ReplicaAckTimeout(int Slot);

/// <summary>Where a put coordinator sends a hint for a replica: the hint actor of a node, by name.</summary>
internal delegate ICanTell HintsOf(string node);

internal static class NoHints
{
    public static readonly HintsOf Instance = _ => ActorRefs.Nobody;
}
