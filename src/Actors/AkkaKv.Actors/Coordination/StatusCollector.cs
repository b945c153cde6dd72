using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using AkkaKv.Configuration;
using AkkaKv.Placement;
using AkkaKv.Protocol;
using AkkaKv.Ring;

namespace AkkaKv.Coordination;

/// <summary>Builds one <see cref="NodeStatus"/> from this node's <see cref="ClusterView"/> of the cluster state and from sharding stats, then stops.</summary>
internal sealed class StatusCollector : ReceiveActor, IWithTimers
{
    private readonly KvSettings _settings;
    private readonly IActorRef _replyTo;
    private readonly IActorRef _region;
    private readonly Dictionary<string, HintStats> _hints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AntiEntropyStats> _antiEntropy = new(StringComparer.Ordinal);
    private int _hintsAsked;

    /// <summary>Placement, and every asked node's hint and anti-entropy stats, are in.</summary>
    private bool AllIn => _statsDone && _hints.Count >= _hintsAsked && _antiEntropy.Count >= _hintsAsked;
    private readonly ImmutableDictionary<SlotId, string> _lastKnown;
    private PlacementSnapshot? _stats;
    private bool _statsDone;

    public ITimerScheduler Timers { get; set; } = null!;

    public StatusCollector(KvSettings settings, IActorRef region, IActorRef replyTo, ImmutableDictionary<SlotId, string> lastKnown)
    {
        _settings = settings;
        _replyTo = replyTo;
        _region = region;
        _lastKnown = lastKnown;
        Receive<PlacementSnapshot>(stats =>
        {
            _stats = stats;
            // A fresh picture: the gateway (this actor's parent) routes by it from now on, so a
            // status that shows the cluster settled also means this node's requests route by that.
            Context.Parent.Tell(stats);
            _statsDone = true;
            if (AllIn) Reply();
        });
        Receive<HintStats>(h =>
        {
            _hints[h.Node] = h;
            if (AllIn) Reply();
        });
        Receive<AntiEntropyStats>(a =>
        {
            _antiEntropy[a.Node] = a;
            if (AllIn) Reply();
        });
        Receive<CoordinatorTimeout>(_ => Reply());
    }

    protected override void PreStart()
    {
        RegionPlacement.Query(Context.System, _region, _settings.RequestTimeout).PipeTo(Self);
        // Every reachable member's hint actor: what it holds, and for whom.
        var state = Cluster.Get(Context.System).State;
        foreach (var m in state.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up && !state.Unreachable.Contains(m)))
        {
            Context.ActorSelection(NodeActors.PathOn(m.Address, NodeActors.Hints)).Tell(GetHintStats.Instance);
            Context.ActorSelection(NodeActors.PathOn(m.Address, NodeActors.AntiEntropy)).Tell(GetAntiEntropyStats.Instance);
            _hintsAsked++;
        }
        Timers.StartSingleTimer("timeout", CoordinatorTimeout.Overall, _settings.RequestTimeout + NodeTimings.StatusGrace);
    }

    private void Reply()
    {
        var stats = _stats;
        var cluster = Cluster.Get(Context.System);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var nodeByAddress = state.Members.ToDictionary(m => m.Address, m => ClusterMembership.NodeNameOf(m) ?? m.Address.ToString());
        var view = ClusterView.Empty(_settings).WithMembers(ClusterMembership.Of(state));
        var members = state.Members.Select(m => new MemberInfo(
            nodeByAddress[m.Address], m.Address.ToString(), m.Status.ToString(), !unreachable.Contains(m.Address)));
        var owners = new Dictionary<SlotId, string>();
        var silent = new List<string>();
        if (stats is not null)
        {
            foreach (var region in stats.Regions)
            {
                if (region.Slots is null) silent.Add(region.Node);
                else foreach (var slot in region.Slots) owners[slot] = region.Node;
            }
            // Nodes that were not asked (unreachable) or did not answer: their slots as the gateway
            // last saw them (slots do not move off an unreachable node).
            var answered = stats.Regions.Where(r => r.Slots is not null).Select(r => r.Node).ToHashSet();
            foreach (var (slot, node) in _lastKnown)
                if (!answered.Contains(node) && owners.TryAdd(slot, node) && !silent.Contains(node)) silent.Add(node);
        }
        var total = _settings.PartitionCount * _settings.ReplicationFactor;
        var coLocated = SlotPlacement.CountCoLocatedPartitions(owners);
        var misplaced = view.CountMisplaced(owners);
        var upNodes = view.Members.UpCount;
        string? warning = null;
        if (stats is null) warning = "sharding stats did not arrive in time; slot counts are missing";
        else if (silent.Count > 0)
            warning = $"the shard region of {string.Join(", ", silent.Order(StringComparer.Ordinal))} is unreachable or did not answer in time; its slots are shown as last known";
        else if (upNodes < _settings.ReplicationFactor)
            warning = $"only {upNodes} member(s) are Up, fewer than N={_settings.ReplicationFactor}: replicas of a partition share nodes, and a node failure can take out several replicas at once";
        else if (coLocated > 0)
            warning = $"{coLocated} partition(s) have replicas sharing a node; they spread out again at the next rebalance";
        var slotsPerNode = owners.GroupBy(kv => kv.Value).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => KeyValuePair.Create(g.Key, g.Count())).ToList();
        if (stats is not null) Observability.KvMetrics.SlotsPerNode(slotsPerNode);
        _replyTo.Tell(new NodeStatus(_settings.NodeName, ValueList.From(members), _settings.PartitionCount, _settings.ReplicationFactor,
            _settings.VirtualNodesPerNode,
            ValueList.From(slotsPerNode),
            total - owners.Count, coLocated, misplaced, warning,
            owners.Where(kv => kv.Value == _settings.NodeName).Select(kv => kv.Key.Partition).Distinct().Count(),
            ValueList.From(_hints.Values.OrderBy(h => h.Node, StringComparer.Ordinal)),
            ValueList.From(_antiEntropy.Values.OrderBy(a => a.Node, StringComparer.Ordinal)),
            stats is null ? null : SlotOwners(owners),
            stats is null ? null : ValueList.From(view.PendingMoves(owners))));
        Context.Stop(Self);
    }

    /// <summary>The owner of slot i of partition p at index p·N+i; null where no node holds it.</summary>
    private ValueList<string?> SlotOwners(Dictionary<SlotId, string> owners)
    {
        var n = _settings.ReplicationFactor;
        var list = new string?[_settings.PartitionCount * n];
        foreach (var (slot, node) in owners)
            if (slot.Partition < _settings.PartitionCount && slot.Index < n) list[slot.Partition * n + slot.Index] = node;
        return ValueList.From(list);
    }
}
