using System.Collections.Immutable;

namespace AkkaKv.Placement;

/// <summary>
/// One partition's active preference list, annotated (riak_core's <c>get_apl_ann</c>): the node
/// hosting each replica slot (last seen, else where the ring places it), the nodes the failure
/// detector marks unreachable, and the partition's fallback nodes that are reachable and hold none
/// of its slots, in ring order (where hints for unreachable replicas go, and count toward a sloppy
/// quorum), and the node asking (which keeps a hint when no fallback is left; such a hint only
/// replays, it is no independent copy). What a coordinator gets when it starts.
/// </summary>
public sealed record PartitionView(ImmutableDictionary<int, string> SlotNodes, ImmutableHashSet<string> Unreachable, ImmutableArray<string> Fallbacks)
{
    public PartitionView(ImmutableDictionary<int, string> slotNodes, ImmutableHashSet<string> unreachable)
        : this(slotNodes, unreachable, ImmutableArray<string>.Empty) { }

    public static readonly PartitionView Empty = new(ImmutableDictionary<int, string>.Empty, ImmutableHashSet<string>.Empty);

    /// <summary>
    /// Every slot's node was seen answering (none is only where the ring would place it): a
    /// coordinator whose replies each came from <see cref="NodeOf"/> their slot has nothing new to
    /// tell its gateway.
    /// </summary>
    public bool AllSeen { get; init; }

    /// <summary>
    /// Whether this view already holds, as seen, every one of these (slot index, node) answers: a
    /// finished coordinator tells its gateway where slots answered only when it does not.
    /// </summary>
    public bool HoldsSeen(IEnumerable<(int Slot, string Node)> answers)
    {
        if (!AllSeen) return false;
        foreach (var (slot, node) in answers)
            if (NodeOf(slot) != node) return false;
        return true;
    }

    /// <summary>A slot whose node is unknown counts as reachable: only the failure detector's word makes one unreachable.</summary>
    public bool IsReachable(int slot) => !SlotNodes.TryGetValue(slot, out var node) || !Unreachable.Contains(node);

    /// <summary>The node of <paramref name="slot"/>, or "?" when not known.</summary>
    public string NodeOf(int slot) => SlotNodes.GetValueOrDefault(slot, "?");

    /// <summary>How many of the N slots are on reachable nodes.</summary>
    public int ReachableCount(int n) => Enumerable.Range(0, n).Count(IsReachable);

    /// <summary>The distinct nodes of the slots that are unreachable, for error messages.</summary>
    public string UnreachableNodes(int n) => string.Join(", ", Enumerable.Range(0, n).Where(i => !IsReachable(i)).Select(NodeOf).Distinct());
}
