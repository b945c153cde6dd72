using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.Coordination;

/// <summary>The replica slots one node's shard region hosts, or null if it did not answer in time.</summary>
/// <param name="Idle">Slots the region hosts with no replica actor running yet (allocated, not started): they hold nothing until they start and catch up.</param>
internal sealed record RegionSlots(string Node, ImmutableHashSet<SlotId>? Slots, ImmutableHashSet<SlotId>? Idle = null);

/// <summary>One round of <see cref="RegionPlacement.Query"/>: every asked region's answer.</summary>
internal sealed record PlacementSnapshot(ImmutableArray<RegionSlots> Regions);

/// <summary>
/// Asks each reachable member's shard region which slots it hosts, each with its own timeout.
/// Sharding's own <c>GetClusterShardingStats</c> answers nothing at all when one region does not
/// reply (the coordinator returns an empty result if any ask fails), which is exactly while a node
/// is unreachable: when the gateway most needs to know where slots are.
/// </summary>
internal static class RegionPlacement
{
    /// <summary>
    /// Starts one ask per reachable member that hosts slots (<see cref="HostsSlots"/>); the task completes when all have answered or timed
    /// out. Pipe it to the asking actor: nothing here blocks.
    /// </summary>
    public static Task<PlacementSnapshot> Query(ActorSystem system, IActorRef localRegion, TimeSpan timeout)
    {
        var state = Cluster.Get(system).State;
        var self = Cluster.Get(system).SelfAddress;
        var asks = state.Members
            .Where(m => HostsSlots(m) && !state.Unreachable.Contains(m))
            .Select(m => (Node: ClusterMembership.NodeNameOf(m), Member: m))
            .Where(x => x.Node is not null)
            .Select(x => AskOne(system, x.Member.Address == self ? localRegion : null, x.Member.Address, localRegion.Path, x.Node!, timeout))
            .ToList();
        return Task.WhenAll(asks).ContinueWith(t => new PlacementSnapshot([.. t.Result]), TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>A member whose region may host slots: Up, or leaving (its slots are still there until it hands them off).</summary>
    public static bool HostsSlots(Member m) => m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.Leaving;

    private static async Task<RegionSlots> AskOne(ActorSystem system, IActorRef? local, Address address, ActorPath regionPath, string node, TimeSpan timeout)
    {
        try
        {
            var request = GetShardRegionStats.Instance;
            var stats = local is not null
                ? await local.Ask<ShardRegionStats>(request, timeout).ConfigureAwait(false)
                : await system.ActorSelection(new RootActorPath(address) / regionPath.Elements).Ask<ShardRegionStats>(request, timeout).ConfigureAwait(false);
            // A shard that did not answer its region's query in time is still hosted there.
            var slots = stats.Stats.Keys.Concat(stats.Failed)
                .Select(s => SlotId.TryParse(s, out var slot) ? slot : (SlotId?)null)
                .OfType<SlotId>().ToImmutableHashSet();
            var idle = stats.Stats.Where(kv => kv.Value == 0)
                .Select(kv => SlotId.TryParse(kv.Key, out var slot) ? slot : (SlotId?)null)
                .OfType<SlotId>().ToImmutableHashSet();
            return new RegionSlots(node, slots, idle);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
        {
            return new RegionSlots(node, null);
        }
    }
}
