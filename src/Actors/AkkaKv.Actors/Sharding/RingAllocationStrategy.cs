using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaKv.Configuration;
using AkkaKv.Placement;
using AkkaKv.Ring;

namespace AkkaKv.Sharding;

/// <summary>
/// Places replica slot <c>p/i</c> on a node of partition p's preference list (see
/// <see cref="SlotPlacement"/>). Runs only inside the shard coordinator (a cluster singleton), so
/// it keeps no state of its own: every call derives the ring from the current cluster membership
/// (members that are Up, reachable or not; a member leaves the ring only when it leaves or is
/// downed) and the slot owners from the allocations the coordinator passes in.
/// Never blocks: both methods complete synchronously.
/// </summary>
internal sealed class RingAllocationStrategy : IActorSystemDependentAllocationStrategy
{
    private readonly KvSettings _settings;
    private readonly Partitioner _partitioner;
    private Cluster? _cluster;

    public RingAllocationStrategy(KvSettings settings)
    {
        _settings = settings;
        _partitioner = new Partitioner(settings.PartitionCount);
    }

    public void Start(ActorSystem system) => _cluster = Cluster.Get(system);

    private Cluster ClusterOrThrow => _cluster ?? throw new InvalidOperationException("the allocation strategy was used before Start");

    /// <summary>This node's view of the cluster now: Cluster.State is read on every call (the strategy keeps no state).</summary>
    private ClusterView View => ClusterView.Empty(_settings).WithMembers(ClusterMembership.Of(ClusterOrThrow.State));

    private Dictionary<IActorRef, string> RegionNodes(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations)
    {
        var cluster = ClusterOrThrow;
        var byAddress = cluster.State.Members.ToDictionary(m => m.Address, ClusterMembership.NodeNameOf);
        var result = new Dictionary<IActorRef, string>();
        foreach (var region in allocations.Keys)
        {
            var address = region.Path.Address.HasLocalScope ? cluster.SelfAddress : region.Path.Address;
            if (byAddress.TryGetValue(address, out var name) && name is not null) result[region] = name;
        }
        return result;
    }

    /// <summary>
    /// The ring both allocation and rebalance plan on: members that count, restricted to nodes
    /// that run a region (a node still starting is skipped until its region registers).
    /// </summary>
    private static HashRing UsableRing(ClusterView view, Dictionary<IActorRef, string> regionNodes) => view.RingOf(regionNodes.Values);

    private static Dictionary<SlotId, string> Owners(
        IImmutableDictionary<IActorRef, IImmutableList<string>> allocations, Dictionary<IActorRef, string> regionNodes)
    {
        var owners = new Dictionary<SlotId, string>();
        foreach (var (region, shards) in allocations)
            if (regionNodes.TryGetValue(region, out var node))
                foreach (var shard in shards)
                    if (SlotId.TryParse(shard, out var slot)) owners[slot] = node;
        return owners;
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        if (!SlotId.TryParse(shardId, out var slot) || slot.Index >= _settings.ReplicationFactor || slot.Partition >= _settings.PartitionCount)
            return Task.FromResult(requester);
        var regionNodes = RegionNodes(currentShardAllocations);
        var owners = Owners(currentShardAllocations, regionNodes);
        owners.Remove(slot);
        var primaries = PreferenceList.For(slot.Partition, _settings.ReplicationFactor, UsableRing(View, regionNodes), _partitioner).Primaries;
        var current = Enumerable.Range(0, _settings.ReplicationFactor).Select(i => owners.GetValueOrDefault(new SlotId(slot.Partition, i))).ToList();
        var target = SlotPlacement.Assign(_settings.ReplicationFactor, current, primaries)[slot.Index];
        var region = regionNodes.FirstOrDefault(kv => kv.Value == target).Key;
        return Task.FromResult(region ?? requester);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress)
    {
        IImmutableSet<string> none = ImmutableHashSet<string>.Empty;
        if (rebalanceInProgress.Count >= _settings.MaxSlotsPerRebalance) return Task.FromResult(none);
        var regionNodes = RegionNodes(currentShardAllocations);
        var view = View;
        var owners = Owners(currentShardAllocations, regionNodes);
        var plan = view.PlanSlots(owners, UsableRing(view, regionNodes));
        // A hand-off needs both ends: a slot on an unreachable, Down or leaving node cannot be
        // handed off (the move would hang until the hand-off timeout and hold the slot's requests
        // meanwhile), and one moved to such a node would be unavailable there. Those wait: once the
        // node is removed its slots are deallocated, and every gateway starts them again after
        // request.replace-removed-slots-after (or a request does first); they catch up at their new home.
        var healthy = view.Members.Healthy;
        var moves = owners
            .Where(kv => plan.TryGetValue(kv.Key, out var target) && target != kv.Value && !rebalanceInProgress.Contains(kv.Key.ToString())
                         && healthy.Contains(kv.Value) && healthy.Contains(target))
            .Select(kv => kv.Key.ToString())
            .Take(_settings.MaxSlotsPerRebalance - rebalanceInProgress.Count)
            .ToImmutableHashSet();
        return Task.FromResult<IImmutableSet<string>>(moves);
    }
}
