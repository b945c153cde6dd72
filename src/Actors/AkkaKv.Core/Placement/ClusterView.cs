using System.Collections.Immutable;
using AkkaKv.Configuration;
using AkkaKv.Ring;

namespace AkkaKv.Placement;

/// <summary>
/// One node's view of the cluster, for every actor that needs one (gateway, hinted handoff,
/// allocation strategy, status): built from the members and their reachability, the ring, and
/// where replica slots were last seen. Pure and immutable; it answers
/// <list type="bullet">
/// <item>which nodes count (<see cref="Ring"/>: Up members, reachable or not);</item>
/// <item>a partition's preference list (<see cref="PreferenceListOf"/>);</item>
/// <item>where each replica slot of a partition is, which are reachable, and who holds hints for
///   the others (<see cref="For"/>, riak_core's annotated active preference list), from which the
///   write plan picks the coordinating replica and whether a hint counts;</item>
/// <item>whether a node takes hint replay (<see cref="AcceptsHandoff"/>);</item>
/// <item>where slots should live and which do not (<see cref="PlanSlots"/>, <see cref="CountMisplaced"/>, <see cref="PendingMoves"/>).</item>
/// </list>
/// The ring is rebuilt only when the set of nodes that count changes.
/// </summary>
public sealed class ClusterView
{
    private ClusterView(string self, int n, int virtualNodes, Partitioner partitioner, Membership members, HashRing ring, ImmutableDictionary<SlotId, string> slots)
    {
        Self = self;
        ReplicationFactor = n;
        VirtualNodes = virtualNodes;
        Partitioner = partitioner;
        Members = members;
        Ring = ring;
        SlotsSeen = slots;
    }

    /// <summary>An empty view for the node <paramref name="self"/>: no members yet, nothing seen.</summary>
    public static ClusterView Empty(string self, int replicationFactor, int partitionCount, int virtualNodes) =>
        new(self, replicationFactor, virtualNodes, new Partitioner(partitionCount), Membership.Empty, new HashRing([], virtualNodes),
            ImmutableDictionary<SlotId, string>.Empty);

    public static ClusterView Empty(KvSettings settings) =>
        Empty(settings.NodeName, settings.ReplicationFactor, settings.PartitionCount, settings.VirtualNodesPerNode);

    /// <summary>The node this view belongs to.</summary>
    public string Self { get; }
    public int ReplicationFactor { get; }
    public int VirtualNodes { get; }
    public Partitioner Partitioner { get; }
    public Membership Members { get; }

    /// <summary>The ring of the nodes that count: every name with an Up incarnation, reachable or not.</summary>
    public HashRing Ring { get; }

    /// <summary>Where replica slots were last seen (by a reply, or by asking the shard regions).</summary>
    public ImmutableDictionary<SlotId, string> SlotsSeen { get; }

    public ClusterView WithMembers(Membership members)
    {
        var nodes = members.RingNodes;
        var ring = nodes.SetEquals(Ring.Nodes) ? Ring : new HashRing(nodes, VirtualNodes);
        return new ClusterView(Self, ReplicationFactor, VirtualNodes, Partitioner, members, ring, SlotsSeen);
    }

    public ClusterView WithSlotsSeen(ImmutableDictionary<SlotId, string> slots) =>
        new(Self, ReplicationFactor, VirtualNodes, Partitioner, Members, Ring, slots);

    /// <summary>The ring restricted to <paramref name="nodes"/> (e.g. those whose shard region has registered).</summary>
    public HashRing RingOf(IEnumerable<string> nodes)
    {
        var usable = nodes.ToHashSet(StringComparer.Ordinal);
        return new HashRing(Ring.Nodes.Where(usable.Contains), VirtualNodes);
    }

    /// <summary>Partition <paramref name="partition"/>'s primaries and fallbacks on the ring (empty on an empty ring).</summary>
    public PreferenceList PreferenceListOf(int partition) =>
        Ring.IsEmpty ? new PreferenceList(partition, ImmutableArray<string>.Empty, ImmutableArray<string>.Empty)
            : PreferenceList.For(partition, ReplicationFactor, Ring, Partitioner);

    /// <summary>
    /// The annotated active preference list of <paramref name="partition"/>: each slot's node (last
    /// seen, else where the ring places it, by the allocation strategy's rule), the unreachable
    /// nodes (<paramref name="unreachable"/> when the caller narrowed the membership's set, e.g. to
    /// nodes its own failure detector agrees on), and the reachable fallbacks that hold no slot of
    /// the partition, in ring order.
    /// </summary>
    public PartitionView For(int partition, ImmutableHashSet<string>? unreachable = null)
    {
        var n = ReplicationFactor;
        var down = unreachable ?? Members.Unreachable;
        var seen = new string?[n];
        var allSeen = true;
        for (var i = 0; i < n; i++)
        {
            seen[i] = SlotsSeen.GetValueOrDefault(new SlotId(partition, i));
            allSeen &= seen[i] is not null;
        }
        var preference = Ring.IsEmpty ? null : PreferenceList.For(partition, n, Ring, Partitioner);
        var planned = allSeen || preference is null ? [.. seen] : SlotPlacement.Assign(n, seen, preference.Primaries);
        var slots = ImmutableDictionary.CreateBuilder<int, string>();
        for (var i = 0; i < n; i++)
            if ((seen[i] ?? planned[i]) is { } node) slots[i] = node;
        var holders = slots.Values.ToHashSet(StringComparer.Ordinal);
        var fallbacks = preference is null ? ImmutableArray<string>.Empty
            : preference.Fallbacks.Where(f => !down.Contains(f) && !holders.Contains(f)).ToImmutableArray();
        return new PartitionView(slots.ToImmutable(), down, fallbacks) { AllSeen = allSeen };
    }

    /// <summary>Whether hints for <paramref name="node"/> may be replayed now (see <see cref="Membership.AcceptsHandoff"/>).</summary>
    public bool AcceptsHandoff(string node) => Members.AcceptsHandoff(node);

    /// <summary>Where every slot should live on <paramref name="ring"/> (default: this view's), given where they are now.</summary>
    public ImmutableDictionary<SlotId, string> PlanSlots(IReadOnlyDictionary<SlotId, string> currentOwners, HashRing? ring = null) =>
        SlotPlacement.Plan(ring ?? Ring, Partitioner, ReplicationFactor, currentOwners);

    /// <summary>The slots that sit elsewhere than this view's ring plans them (<see cref="SlotPlacement.Moves"/>).</summary>
    public IReadOnlyList<SlotMove> PendingMoves(IReadOnlyDictionary<SlotId, string> owners) => SlotPlacement.Moves(owners, PlanSlots(owners));

    /// <summary>Slots hosted on a node that is not among their partition's primaries.</summary>
    public int CountMisplaced(IReadOnlyDictionary<SlotId, string> owners) =>
        SlotPlacement.CountMisplaced(owners, Ring, Partitioner, ReplicationFactor);
}
