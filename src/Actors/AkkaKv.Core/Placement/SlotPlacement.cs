using System.Collections.Immutable;
using AkkaKv.Ring;

namespace AkkaKv.Placement;

/// <summary>
/// Where the N replica slots of one partition should live: a pure function of the partition's
/// primaries and where its slots are now. The allocation strategy is a thin adapter over it.
///
/// Rules:
/// 1. A slot stays where it is while its node is still among the partition's primaries (and that
///    node does not already hold its share of the partition's slots): membership changes move
///    only the slots whose node left the preference set, never a reshuffle of slot indices.
/// 2. A slot without a valid home goes to primary <c>i mod m</c> when that node has room, else to
///    the first primary with room.
/// 3. With m distinct primaries, a node holds at most ceil(N/m) slots of one partition. When m ≥ N
///    that is one: the N replicas sit on N distinct nodes. When m &lt; N (fewer live members than N)
///    replicas share nodes, as Riak does; the status reports such partitions as co-located.
/// </summary>
public static class SlotPlacement
{
    public static ImmutableArray<string?> Assign(int n, IReadOnlyList<string?> current, IReadOnlyList<string> primaries)
    {
        if (current.Count != n) throw new ArgumentException($"expected {n} current owners, got {current.Count}", nameof(current));
        var result = new string?[n];
        if (primaries.Count == 0)
        {
            for (var i = 0; i < n; i++) result[i] = current[i];
            return [.. result];
        }
        var cap = (n + primaries.Count - 1) / primaries.Count;
        var load = primaries.ToDictionary(p => p, _ => 0, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var owner = current[i];
            if (owner is not null && load.TryGetValue(owner, out var l) && l < cap)
            {
                result[i] = owner;
                load[owner] = l + 1;
            }
        }
        for (var i = 0; i < n; i++)
        {
            if (result[i] is not null) continue;
            var preferred = primaries[i % primaries.Count];
            var target = load[preferred] < cap ? preferred : primaries.First(p => load[p] < cap);
            result[i] = target;
            load[target]++;
        }
        return [.. result];
    }

    /// <summary>
    /// The owner every slot of every partition should have, given the ring and the current owner
    /// of each slot (absent: not allocated).
    /// </summary>
    public static ImmutableDictionary<SlotId, string> Plan(
        HashRing ring, Partitioner partitioner, int n, IReadOnlyDictionary<SlotId, string> currentOwners)
    {
        var plan = ImmutableDictionary.CreateBuilder<SlotId, string>();
        if (ring.IsEmpty) return plan.ToImmutable();
        for (var p = 0; p < partitioner.PartitionCount; p++)
        {
            var primaries = PreferenceList.For(p, n, ring, partitioner).Primaries;
            var current = Enumerable.Range(0, n).Select(i => currentOwners.GetValueOrDefault(new SlotId(p, i))).ToList();
            var assigned = Assign(n, current, primaries);
            for (var i = 0; i < n; i++) plan[new SlotId(p, i)] = assigned[i]!;
        }
        return plan.ToImmutable();
    }

    /// <summary>
    /// The slots whose current owner differs from <paramref name="plan"/>'s, in slot order: what
    /// the rebalances still have to move. A slot with no owner yet is not a move (it is unallocated,
    /// counted apart); a slot the plan does not cover (an empty ring) stays where it is.
    /// </summary>
    public static IReadOnlyList<SlotMove> Moves(IReadOnlyDictionary<SlotId, string> owners, IReadOnlyDictionary<SlotId, string> plan) =>
        owners.Where(kv => plan.TryGetValue(kv.Key, out var target) && !string.Equals(target, kv.Value, StringComparison.Ordinal))
              .OrderBy(kv => kv.Key.Partition).ThenBy(kv => kv.Key.Index)
              .Select(kv => new SlotMove(kv.Key, kv.Value, plan[kv.Key]))
              .ToList();

    /// <summary>Partitions whose slots share a node (only possible with fewer live members than N).</summary>
    public static int CountCoLocatedPartitions(IReadOnlyDictionary<SlotId, string> owners) =>
        owners.GroupBy(kv => kv.Key.Partition)
              .Count(g => g.Select(kv => kv.Value).Distinct(StringComparer.Ordinal).Count() < g.Count());

    /// <summary>Slots hosted on a node that is not among their partition's primaries on <paramref name="ring"/>.</summary>
    public static int CountMisplaced(IReadOnlyDictionary<SlotId, string> owners, HashRing ring, Partitioner partitioner, int replicationFactor) =>
        ring.IsEmpty ? 0 : owners.GroupBy(kv => kv.Key.Partition).Sum(g =>
        {
            var primaries = PreferenceList.For(g.Key, replicationFactor, ring, partitioner).Primaries;
            return g.Count(kv => !primaries.Contains(kv.Value));
        });
}
