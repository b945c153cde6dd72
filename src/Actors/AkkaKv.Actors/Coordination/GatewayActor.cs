using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using AkkaKv.Configuration;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Coordination;

/// <summary>
/// A node's front door (<c>/user/kv-gateway</c>): validates each client request and hands it to a
/// fresh coordinator child. It follows membership and reachability from cluster events, and learns
/// from finished coordinators which node hosts which slot, so coordinators skip unreachable
/// replicas at once instead of waiting for a timeout.
/// </summary>
internal sealed class GatewayActor : ReceiveActor, IWithTimers
{
    public const string Name = "kv-gateway";

    private readonly KvSettings _settings;
    private readonly IActorRef _region;
    private readonly Partitioner _partitioner;
    private readonly Dictionary<Address, Member> _members = new();
    private readonly HashSet<Address> _unreachableAddresses = new();
    private ImmutableHashSet<string> _unreachable = ImmutableHashSet<string>.Empty;
    private readonly Dictionary<SlotId, string> _slotNodes = new();
    private long _nextRequestId;
    private bool _warmedUp;
    private HashRing _ring = new([], 1);
    private ImmutableDictionary<string, Address> _addresses = ImmutableDictionary<string, Address>.Empty;
    private readonly HintsOf _hintsOf;

    public GatewayActor(KvSettings settings, IActorRef region)
    {
        _settings = settings;
        _region = region;
        _partitioner = new Partitioner(settings.PartitionCount);
        var system = Context.System;
        _hintsOf = node => node == _settings.NodeName || !_addresses.TryGetValue(node, out var address)
            ? system.ActorSelection("/user/" + HintedHandoff.HintedHandoffActor.Name)
            : system.ActorSelection(new RootActorPath(address) / "user" / HintedHandoff.HintedHandoffActor.Name);

        Receive<Get>(OnGet);
        Receive<Put>(p => OnWrite(p, p.Value, p.Context));
        Receive<Delete>(d => OnWrite(d, null, d.Context));
        Receive<GetStatus>(_ =>
        {
            var replyTo = Sender;
            var lastKnown = _slotNodes.ToImmutableDictionary();
            Context.ActorOf(LocalProps.Of(() => new StatusCollector(_settings, _region, replyTo, lastKnown)));
        });
        Receive<SlotsSeen>(s => { foreach (var (slot, node) in s.Nodes) _slotNodes[slot] = node; });
        Receive<RefreshPlacement>(_ => RegionPlacement.Query(Context.System, _region, _settings.RequestTimeout).PipeTo(Self));
        Receive<PlacementSnapshot>(OnPlacement);
        Receive<StartAllSlots>(_ => StartEverySlot());
        // Membership is tracked from the events themselves: Cluster.State can lag behind an event
        // this actor has already received.
        Receive<ClusterEvent.CurrentClusterState>(OnClusterState);
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            _members.Remove(e.Member.Address);
            _unreachableAddresses.Remove(e.Member.Address);
            Refresh();
            OnRemoved(e.Member);
            RefreshPlacementSoon();
        });
        Receive<ClusterEvent.IMemberEvent>(e => { _members[e.Member.Address] = e.Member; Refresh(); if (e is ClusterEvent.MemberUp) RefreshPlacementSoon(); });
        Receive<ClusterEvent.UnreachableMember>(e => { _unreachableAddresses.Add(e.Member.Address); Refresh(); });
        Receive<ClusterEvent.ReachableMember>(e => { _unreachableAddresses.Remove(e.Member.Address); Refresh(); RefreshPlacementSoon(); });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
    }

    public static Props PropsFor(KvSettings settings, IActorRef region) => Props.Create(() => new GatewayActor(settings, region));

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class RefreshPlacement
    {
        public static readonly RefreshPlacement Instance = new();
    }

    /// <summary>
    /// Where every replica slot lives, from the regions themselves: slots do not move while their
    /// node is unreachable, so when a node becomes unreachable the gateway already knows which
    /// slots it held and coordinators route around them without waiting on a single one. A region
    /// that answered is the truth for its node: a slot it no longer lists has moved away.
    /// </summary>
    private void OnPlacement(PlacementSnapshot snapshot)
    {
        foreach (var region in snapshot.Regions)
        {
            if (region.Slots is null) continue;
            foreach (var gone in _slotNodes.Where(kv => kv.Value == region.Node && !region.Slots.Contains(kv.Key)).Select(kv => kv.Key).ToList())
                _slotNodes.Remove(gone);
            foreach (var slot in region.Slots) _slotNodes[slot] = region.Node;
        }
        // While slots are still being placed or moved (after a start or a membership change), the
        // picture goes stale within seconds: ask again after one second, not a whole interval.
        // (A slot not known at all is guessed by the ring rule, which is where it will be placed.)
        var up = _members.Values.Count(m => m.Status == MemberStatus.Up);
        if ((up >= _settings.ReplicationFactor && SlotPlacement.CountCoLocatedPartitions(_slotNodes) > 0)
            || SlotPlacement.CountMisplaced(_slotNodes, _ring, _partitioner, _settings.ReplicationFactor) > 0)
            Timers.StartSingleTimer("placement-soon", RefreshPlacement.Instance, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// After a membership change, ask again shortly (events come in bursts; one query serves them
    /// all) rather than waiting up to a whole refresh interval with a stale picture.
    /// </summary>
    private void RefreshPlacementSoon() => Timers.StartSingleTimer("placement-soon", RefreshPlacement.Instance, TimeSpan.FromMilliseconds(500));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("placement", RefreshPlacement.Instance, _settings.PlacementRefreshInterval);
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void OnClusterState(ClusterEvent.CurrentClusterState state)
    {
        _members.Clear();
        foreach (var m in state.Members) _members[m.Address] = m;
        _unreachableAddresses.Clear();
        foreach (var m in state.Unreachable) _unreachableAddresses.Add(m.Address);
        Refresh();
    }

    private void Refresh()
    {
        _ring = new HashRing(_members.Values.Where(m => m.Status == MemberStatus.Up)
            .Select(RingAllocationStrategy.NodeNameOf).OfType<string>(), _settings.VirtualNodesPerNode);
        _addresses = _members.Values
            .Select(m => (name: RingAllocationStrategy.NodeNameOf(m), m.Address))
            .Where(x => x.name is not null)
            .GroupBy(x => x.name!).ToImmutableDictionary(g => g.Key, g => g.Last().Address);
        _unreachable = _unreachableAddresses
            .Select(a => _members.TryGetValue(a, out var m) ? RingAllocationStrategy.NodeNameOf(m) : null)
            .OfType<string>().ToImmutableHashSet();
        WarmUp();
    }

    /// <summary>
    /// A removed member's region is gone and the coordinator deallocates its slots: forget where
    /// they were (unless a new incarnation of the node is already a member), so that until they
    /// are re-placed (by the ring rule) the view guesses their new home by that same rule; and
    /// re-place them after <c>request.replace-removed-slots-after</c>.
    /// </summary>
    private void OnRemoved(Member removed)
    {
        if (RingAllocationStrategy.NodeNameOf(removed) is not { } node || _addresses.ContainsKey(node)) return;
        foreach (var slot in _slotNodes.Where(kv => kv.Value == node).Select(kv => kv.Key).ToList()) _slotNodes.Remove(slot);
        if (_warmedUp) Timers.StartSingleTimer("replace-removed", StartAllSlots.Instance, _settings.ReplaceRemovedSlotsAfter);
    }

    /// <summary>Starts every replica slot: allocated ones are already running; the others are placed now by the ring rule.</summary>
    private sealed class StartAllSlots
    {
        public static readonly StartAllSlots Instance = new();
    }

    private void StartEverySlot()
    {
        for (var p = 0; p < _settings.PartitionCount; p++)
            for (var i = 0; i < _settings.ReplicationFactor; i++)
                _region.Tell(new ShardRegion.StartEntity(new SlotId(p, i).ToString()));
    }

    /// <summary>
    /// Once N members are Up, start every replica slot (as Riak starts all vnodes), so that slots
    /// are placed on distinct nodes up front and the first request to a partition does not pay
    /// for allocation and journal recovery.
    /// </summary>
    private void WarmUp()
    {
        if (_warmedUp || _members.Values.Count(m => m.Status == MemberStatus.Up) < _settings.ReplicationFactor) return;
        _warmedUp = true;
        StartEverySlot();
    }

    /// <summary>
    /// Where each replica slot of the partition is: as last seen in a reply, else where the ring
    /// places it (the allocation strategy's rule), so that reports name a node even for a slot
    /// this gateway has not heard from yet.
    /// </summary>
    private ClusterView ViewOf(int partition)
    {
        var n = _settings.ReplicationFactor;
        // Unreachable for routing: the gossip says some member cannot reach it AND this node's own
        // failure detector agrees. A node that was frozen and thawed reports its stale view of the
        // others for a moment; acting on that alone refused puts that could succeed.
        var detector = Cluster.Get(Context.System).FailureDetector;
        var unreachable = _unreachable.IsEmpty ? _unreachable
            : _unreachable.Where(node => node != _settings.NodeName
                && (!_addresses.TryGetValue(node, out var address) || !detector.IsAvailable(address))).ToImmutableHashSet();
        var seen = Enumerable.Range(0, n).Select(i => _slotNodes.GetValueOrDefault(new SlotId(partition, i))).ToList();
        var preference = _ring.IsEmpty ? null : PreferenceList.For(partition, n, _ring, _partitioner);
        var planned = seen.All(node => node is not null) || preference is null
            ? [.. seen]
            : SlotPlacement.Assign(n, seen, preference.Primaries);
        var slots = Enumerable.Range(0, n).Where(i => (seen[i] ?? planned[i]) is not null).ToImmutableDictionary(i => i, i => (seen[i] ?? planned[i])!);
        var holders = slots.Values.ToHashSet();
        var fallbacks = preference is null ? ImmutableArray<string>.Empty
            : preference.Fallbacks.Where(f => !unreachable.Contains(f) && !holders.Contains(f)).ToImmutableArray();
        return new ClusterView(slots, unreachable, fallbacks);
    }

    private bool Validate(IKvRequest request, Bytes? value, bool isWrite, out ResolvedOptions? options)
    {
        options = null;
        var error = Limits.CheckKey(request.Key, _settings) ?? (isWrite && value is not null ? Limits.CheckValue(value, _settings) : null);
        if (error is null) options = ResolvedOptions.Resolve(request.Options, _settings, out error);
        if (error is null) return true;
        Sender.Tell(new RequestFailed(request.Key ?? Bytes.Empty, error, 0, 0));
        return false;
    }

    private void OnGet(Get get)
    {
        if (!Validate(get, null, isWrite: false, out var options)) return;
        var partition = _partitioner.PartitionOf(get.Key);
        var id = ++_nextRequestId;
        var replyTo = Sender;
        var view = ViewOf(partition);
        Context.ActorOf(LocalProps.Of(() => new GetCoordinator(id, partition, get.Key, options!, _settings, _region, replyTo, view)));
    }

    private void OnWrite(IKvRequest request, Bytes? value, string? contextText)
    {
        if (!Validate(request, value, isWrite: true, out var options)) return;
        // No context: concurrent with everything the store holds (a sibling), unless the request
        // asks to overwrite; then the coordinating replica supersedes what it holds (null context).
        VersionVector? context = request.Options.Overwrite == true ? null : VersionVector.Empty;
        if (contextText is not null)
        {
            if (!CausalContext.TryDecode(contextText, out var decoded))
            {
                Sender.Tell(new RequestFailed(request.Key, "the causal context is malformed: pass back the context string of a get unchanged", 0, 0));
                return;
            }
            context = decoded;
        }
        var partition = _partitioner.PartitionOf(request.Key);
        var id = ++_nextRequestId;
        var replyTo = Sender;
        var view = ViewOf(partition);
        Context.ActorOf(LocalProps.Of(() => new PutCoordinator(id, partition, request.Key, value, context, options!, _settings, _region, replyTo, view, _hintsOf)));
    }
}

/// <summary>Builds one <see cref="NodeStatus"/> from cluster state and sharding stats, then stops.</summary>
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
        foreach (var m in state.Members.Where(m => m.Status == MemberStatus.Up && !state.Unreachable.Contains(m)))
        {
            Context.ActorSelection(new RootActorPath(m.Address) / "user" / HintedHandoff.HintedHandoffActor.Name).Tell(GetHintStats.Instance);
            Context.ActorSelection(new RootActorPath(m.Address) / "user" / AntiEntropy.AntiEntropyActor.Name).Tell(GetAntiEntropyStats.Instance);
            _hintsAsked++;
        }
        Timers.StartSingleTimer("timeout", CoordinatorTimeout.Overall, _settings.RequestTimeout + TimeSpan.FromSeconds(1));
    }

    private void Reply()
    {
        var stats = _stats;
        var cluster = Cluster.Get(Context.System);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var nodeByAddress = state.Members.ToDictionary(m => m.Address, m => RingAllocationStrategy.NodeNameOf(m) ?? m.Address.ToString());
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
        var ring = RingAllocationStrategy.RingOf(state, _settings.VirtualNodesPerNode);
        var misplaced = SlotPlacement.CountMisplaced(owners, ring, new Partitioner(_settings.PartitionCount), _settings.ReplicationFactor);
        var upNodes = state.Members.Count(m => m.Status == MemberStatus.Up);
        string? warning = null;
        if (stats is null) warning = "sharding stats did not arrive in time; slot counts are missing";
        else if (silent.Count > 0)
            warning = $"the shard region of {string.Join(", ", silent.Order(StringComparer.Ordinal))} is unreachable or did not answer in time; its slots are shown as last known";
        else if (upNodes < _settings.ReplicationFactor)
            warning = $"only {upNodes} member(s) are Up, fewer than N={_settings.ReplicationFactor}: replicas of a partition share nodes, and a node failure can take out several replicas at once";
        else if (coLocated > 0)
            warning = $"{coLocated} partition(s) have replicas sharing a node; they spread out again at the next rebalance";
        _replyTo.Tell(new NodeStatus(_settings.NodeName, ValueList.From(members), _settings.PartitionCount, _settings.ReplicationFactor,
            _settings.VirtualNodesPerNode,
            ValueList.From(owners.GroupBy(kv => kv.Value).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => KeyValuePair.Create(g.Key, g.Count()))),
            total - owners.Count, coLocated, misplaced, warning,
            owners.Where(kv => kv.Value == _settings.NodeName).Select(kv => kv.Key.Partition).Distinct().Count(),
            ValueList.From(_hints.Values.OrderBy(h => h.Node, StringComparer.Ordinal)),
            ValueList.From(_antiEntropy.Values.OrderBy(a => a.Node, StringComparer.Ordinal))));
        Context.Stop(Self);
    }
}
