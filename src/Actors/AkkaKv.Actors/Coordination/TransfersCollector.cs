using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using AkkaKv.Configuration;
using AkkaKv.Placement;
using AkkaKv.Protocol;
using AkkaKv.Ring;

namespace AkkaKv.Coordination;

/// <summary>
/// Builds one <see cref="TransferReport"/> (<c>akkakv transfers</c>): where every slot is (each
/// region's answer), where the ring wants it (<see cref="TransferPlan"/>), and every reachable
/// member's catch-ups and slot sizes (<see cref="GetNodeTransfers"/>); replies with what came in
/// by <c>request.timeout</c> (plus a grace), then stops.
/// </summary>
internal sealed class TransfersCollector : ReceiveActor, IWithTimers
{
    private readonly KvSettings _settings;
    private readonly IActorRef _replyTo;
    private readonly IActorRef _region;
    private readonly Dictionary<string, NodeTransfers> _nodes = new(StringComparer.Ordinal);
    private readonly List<string> _asked = [];
    private PlacementSnapshot? _placement;

    public ITimerScheduler Timers { get; set; } = null!;

    public TransfersCollector(KvSettings settings, IActorRef region, IActorRef replyTo)
    {
        _settings = settings;
        _region = region;
        _replyTo = replyTo;
        Receive<PlacementSnapshot>(p =>
        {
            _placement = p;
            ReplyIfDone();
        });
        Receive<NodeTransfers>(n =>
        {
            _nodes[n.Node] = n;
            ReplyIfDone();
        });
        Receive<CoordinatorTimeout>(_ => Reply());
    }

    protected override void PreStart()
    {
        RegionPlacement.Query(Context.System, _region, _settings.RequestTimeout).PipeTo(Self);
        var state = Cluster.Get(Context.System).State;
        foreach (var m in state.Members.Where(m => RegionPlacement.HostsSlots(m) && !state.Unreachable.Contains(m)))
        {
            Context.ActorSelection(NodeActors.PathOn(m.Address, NodeActors.AntiEntropy)).Tell(GetNodeTransfers.Instance);
            _asked.Add(ClusterMembership.NodeNameOf(m) ?? m.Address.ToString());
        }
        Timers.StartSingleTimer("timeout", CoordinatorTimeout.Overall, _settings.RequestTimeout + NodeTimings.StatusGrace);
    }

    private void ReplyIfDone()
    {
        if (_placement is not null && _asked.All(_nodes.ContainsKey)) Reply();
    }

    private void Reply()
    {
        var state = Cluster.Get(Context.System).State;
        var view = ClusterView.Empty(_settings).WithMembers(ClusterMembership.Of(state));
        var owners = new Dictionary<SlotId, string>();
        var silent = new List<string>();
        foreach (var region in _placement?.Regions ?? [])
        {
            if (region.Slots is null) silent.Add(region.Node);
            else foreach (var slot in region.Slots) owners[slot] = region.Node;
        }
        silent.AddRange(_asked.Where(n => !_nodes.ContainsKey(n) && !silent.Contains(n)));
        var held = new Dictionary<SlotId, (long Keys, long Bytes)>();
        foreach (var (slot, node) in owners)
            if (_nodes.TryGetValue(node, out var n) && n.Sizes?.FirstOrDefault(s => s.Slot == slot.ToString()) is { } size)
                held[slot] = (size.Keys, size.Bytes);
        var idle = (_placement?.Regions ?? []).SelectMany(r => r.Idle ?? []).ToHashSet();
        var pending = TransferPlan.Pending(owners, view.PlanSlots(owners), TransferPlan.SizeByPeers(held, _settings.ReplicationFactor), idle);
        var leaving = view.Members.Members.Where(m => m.Status is AkkaKv.Placement.MemberStatus.Leaving or AkkaKv.Placement.MemberStatus.Exiting)
            .Select(m => m.Node).Distinct().Order(StringComparer.Ordinal);
        string? warning = _placement is null ? "the shard regions did not answer in time: slots waiting to move are not known"
            : silent.Count > 0 ? $"{string.Join(", ", silent.Order(StringComparer.Ordinal))} did not answer in time: its slots and catch-ups are missing"
            : state.Unreachable.Count > 0 ? $"{state.Unreachable.Count} member(s) unreachable: slots do not move off or onto an unreachable node until it is back or downed"
            : null;
        _replyTo.Tell(new TransferReport(_settings.NodeName, ValueList.From(leaving), ValueList.From(pending),
            ValueList.From(_nodes.Values.OrderBy(n => n.Node, StringComparer.Ordinal).Select(n => n with { Sizes = null })), warning));
        Context.Stop(Self);
    }
}
