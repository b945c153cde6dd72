using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using AkkaKv.Configuration;
using AkkaKv.Listing;
using AkkaKv.Expiry;
using AkkaKv.Observability;
using AkkaKv.Placement;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using AkkaKv.Versioning;

namespace AkkaKv.Coordination;

/// <summary>
/// A node's front door (<see cref="NodeActors.Gateway"/>): validates each client request and hands
/// it to a fresh coordinator child. It keeps this node's <see cref="ClusterView"/>: membership and
/// reachability from cluster events, and where each slot lives, learned from finished coordinators
/// and from the shard regions, so coordinators skip unreachable replicas at once instead of
/// waiting for a timeout.
/// </summary>
internal sealed class GatewayActor : ReceiveActor, IWithTimers
{
    public const string Name = NodeActors.Gateway;

    private readonly KvSettings _settings;
    private readonly IActorRef _region;
    private readonly TimeProvider _time;
    private ClusterView _view;
    private long _nextRequestId;
    /// <summary>Each partition's <see cref="PartitionView"/> of <see cref="_viewsOf"/> (while no member is unreachable), as computed for an earlier request.</summary>
    private PartitionView?[] _partitionViews = [];
    private ClusterView? _viewsOf;
    // Get and put coordinators running (each tells CoordinatorFinished when it stops).
    private int _inFlight;
    /// <summary>When the request being handled arrived (<see cref="System.Diagnostics.Stopwatch"/> ticks): its coordinator times it from there.</summary>
    private long _received;
    private bool _warmedUp;
    private readonly HintsOf _hintsOf;

    /// <summary>How every coordinator of this gateway sends to replica slots (through the courier when it has one).</summary>
    private readonly SlotSender _slots;

    public GatewayActor(KvSettings settings, IActorRef region, TimeProvider time, IActorRef? courier = null)
    {
        _settings = settings;
        _region = region;
        _slots = new SlotSender(region, courier, settings.NodeName);
        _time = time;
        _view = ClusterView.Empty(settings);
        var system = Context.System;
        _hintsOf = node => node == _settings.NodeName || _view.Members.AddressOf(node) is not { } address
            ? system.ActorSelection(NodeActors.LocalPath(NodeActors.Hints))
            : system.ActorSelection(NodeActors.PathOn(Address.Parse(address), NodeActors.Hints));

        Receive<Get>(OnGet);
        Receive<Scan>(OnScan);
        Receive<Put>(p => OnWrite(p, p.Value, p.Context, p.TtlMs));
        Receive<Delete>(d => OnWrite(d, null, d.Context, 0));
        Receive<Increment>(i => OnWrite(i, null, null, i.TtlMs ?? 0, i.Delta, setsDeadline: i.TtlMs is not null));
        Receive<HashWrite>(OnHashWrite);
        Receive<Transaction>(OnTransaction);
        Receive<CoordinatorFinished>(_ => _inFlight--);
        Receive<GetStatus>(_ =>
        {
            var replyTo = Sender;
            var lastKnown = _view.SlotsSeen;
            Context.ActorOf(LocalProps.Of(() => new StatusCollector(_settings, _region, replyTo, lastKnown)));
        });
        Receive<GetTransfers>(_ =>
        {
            var replyTo = Sender;
            Context.ActorOf(LocalProps.Of(() => new TransfersCollector(_settings, _region, replyTo)));
        });
        Receive<LeaveNode>(leave => Decide(leave.Node, MembershipCommands.Leave(_view.Members, leave.Node, _settings.ReplicationFactor, leave.Force),
            address => Cluster.Get(Context.System).Leave(address)));
        Receive<DownNode>(down => Decide(down.Node, MembershipCommands.Down(_view.Members, down.Node),
            address => Cluster.Get(Context.System).Down(address)));
        Receive<SlotsSeen>(OnSlotsSeen);
        Receive<RefreshPlacement>(_ => RegionPlacement.Query(Context.System, _region, _settings.RequestTimeout).PipeTo(Self));
        Receive<PlacementSnapshot>(OnPlacement);
        Receive<StartAllSlots>(_ => StartEverySlot());
        // Membership is tracked from the events themselves: Cluster.State can lag behind an event
        // this actor has already received.
        Receive<ClusterEvent.CurrentClusterState>(state => OnMembership(state));
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            OnMembership(e);
            OnRemoved(e.Member);
            RefreshPlacementSoon();
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            OnMembership(e);
            if (e is ClusterEvent.MemberUp) RefreshPlacementSoon();
        });
        Receive<ClusterEvent.UnreachableMember>(e => OnMembership(e));
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            OnMembership(e);
            RefreshPlacementSoon();
        });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
    }

    /// <param name="courier">The node's <see cref="Courier"/>, or null: every request to a replica slot goes through the region on its own.</param>
    public static Props PropsFor(KvSettings settings, IActorRef region, TimeProvider? time = null, IActorRef? courier = null) =>
        Props.Create(() => new GatewayActor(settings, region, time ?? TimeProvider.System, courier));

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class RefreshPlacement
    {
        public static readonly RefreshPlacement Instance = new();
    }

    /// <summary>
    /// Acts on a membership command the node port brought (a peer with a node identity: see
    /// <see cref="LeaveNode"/>): leave or down the member the pure rule picked, or say why not.
    /// </summary>
    private void Decide(string node, MembershipDecision decision, Action<Address> act)
    {
        if (decision.Address is { } address)
        {
            Context.GetLogger().Info("membership: {0} (asked by {1})", decision.Message, Sender.Path.Address);
            act(Address.Parse(address));
        }
        Sender.Tell(new AdminReply(decision.Accepted, node, decision.Message));
    }

    /// <summary>A finished coordinator's replies say where its slots are; almost always what the view already holds.</summary>
    private void OnSlotsSeen(SlotsSeen seen)
    {
        foreach (var (slot, node) in seen.Nodes)
            if (!_view.SlotsSeen.TryGetValue(slot, out var known) || known != node)
            {
                _view = _view.WithSlotsSeen(_view.SlotsSeen.SetItems(seen.Nodes));
                return;
            }
    }

    private void OnMembership(object clusterEvent)
    {
        _view = _view.WithMembers(ClusterMembership.Apply(_view.Members, clusterEvent));
        WarmUp();
    }

    /// <summary>
    /// Where every replica slot lives, from the regions themselves: slots do not move while their
    /// node is unreachable, so when a node becomes unreachable the gateway already knows which
    /// slots it held and coordinators route around them without waiting on a single one. A region
    /// that answered is the truth for its node: a slot it no longer lists has moved away.
    /// </summary>
    private void OnPlacement(PlacementSnapshot snapshot)
    {
        var seen = _view.SlotsSeen.ToBuilder();
        foreach (var region in snapshot.Regions)
        {
            if (region.Slots is null) continue;
            foreach (var gone in seen.Where(kv => kv.Value == region.Node && !region.Slots.Contains(kv.Key)).Select(kv => kv.Key).ToList())
                seen.Remove(gone);
            foreach (var slot in region.Slots) seen[slot] = region.Node;
        }
        _view = _view.WithSlotsSeen(seen.ToImmutable());
        // While slots are still being placed or moved (after a start or a membership change), the
        // picture goes stale within seconds: ask again soon, not after a whole interval.
        // (A slot not known at all is guessed by the ring rule, which is where it will be placed.)
        if ((_view.Members.UpCount >= _settings.ReplicationFactor && SlotPlacement.CountCoLocatedPartitions(_view.SlotsSeen) > 0)
            || _view.CountMisplaced(_view.SlotsSeen) > 0)
            Timers.StartSingleTimer("placement-soon", RefreshPlacement.Instance, NodeTimings.PlacementWhileSlotsMove);
    }

    /// <summary>After a membership change, ask the regions again shortly (see <see cref="NodeTimings.PlacementAfterMembershipChange"/>).</summary>
    private void RefreshPlacementSoon() => Timers.StartSingleTimer("placement-soon", RefreshPlacement.Instance, NodeTimings.PlacementAfterMembershipChange);

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("placement", RefreshPlacement.Instance, _settings.PlacementRefreshInterval);
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    /// <summary>
    /// A removed member's region is gone and the coordinator deallocates its slots: forget where
    /// they were (unless a new incarnation of the node is already a member), so that until they
    /// are re-placed (by the ring rule) the view guesses their new home by that same rule; and
    /// re-place them after <c>request.replace-removed-slots-after</c>.
    /// </summary>
    private void OnRemoved(Member removed)
    {
        if (ClusterMembership.NodeNameOf(removed) is not { } node || _view.Members.AddressOf(node) is not null) return;
        _view = _view.WithSlotsSeen(_view.SlotsSeen.RemoveRange(_view.SlotsSeen.Where(kv => kv.Value == node).Select(kv => kv.Key)));
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
        if (_warmedUp || _view.Members.UpCount < _settings.ReplicationFactor) return;
        _warmedUp = true;
        StartEverySlot();
    }

    /// <summary>
    /// The partition's annotated preference list, for a coordinator. Unreachable for routing: the
    /// gossip says some member cannot reach the node AND this node's own failure detector agrees.
    /// A node that was frozen and thawed reports its stale view of the others for a moment; acting
    /// on that alone refused puts that could succeed.
    /// </summary>
    private PartitionView ViewOf(int partition)
    {
        var gossip = _view.Members.Unreachable;
        if (gossip.IsEmpty)
        {
            // A pure function of the view: computed once per partition until the view changes
            // (every change makes a new ClusterView), not once per request.
            if (!ReferenceEquals(_viewsOf, _view))
            {
                _viewsOf = _view;
                _partitionViews = new PartitionView?[_view.Partitioner.PartitionCount];
            }
            return _partitionViews[partition] ??= _view.For(partition);
        }
        var detector = Cluster.Get(Context.System).FailureDetector;
        var unreachable = gossip.Where(node => node != _settings.NodeName
            && (_view.Members.AddressOf(node) is not { } address || !detector.IsAvailable(Address.Parse(address)))).ToImmutableHashSet();
        return _view.For(partition, unreachable);
    }

    private bool Validate(IKvRequest request, Bytes? value, bool isWrite, out ResolvedOptions? options)
    {
        options = null;
        var error = Limits.CheckKey(request.Key, _settings) ?? (isWrite && value is not null ? Limits.CheckValue(value, _settings) : null);
        if (error is null) options = ResolvedOptions.Resolve(request.Options, _settings, out error);
        if (error is null) return true;
        Refuse(request, error);
        return false;
    }

    private void OnGet(Get get)
    {
        _received = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!Validate(get, null, isWrite: false, out var options) || !Admit(get)) return;
        var partition = _view.Partitioner.PartitionOf(get.Key);
        var id = ++_nextRequestId;
        var replyTo = Sender;
        var view = ViewOf(partition);
        Context.ActorOf(LocalProps.Of(() => new GetCoordinator(id, partition, get.Key, options!, _settings, _region, replyTo, view, _received, _time, _slots)));
    }

    private void OnScan(Scan scan)
    {
        _received = System.Diagnostics.Stopwatch.GetTimestamp();
        var error = scan.Cursor < 0 ? $"invalid cursor {scan.Cursor}: a cursor is 0 or one a scan returned"
            : scan.Count < 1 ? $"invalid count {scan.Count}: at least 1"
            : scan.Match is { Length: var length } && length > _settings.MaxKeyBytes ? $"the pattern is {length} bytes, over limits.max-key-bytes ({_settings.MaxKeyBytes})"
            : null;
        var options = error is null ? ResolvedOptions.Resolve(scan.Options, _settings, out error) : null;
        if (error is not null)
        {
            Sender.Tell(new RequestFailed(Bytes.Empty, error, 0, 0));
            KvMetrics.Request("scan", KvMetrics.Outcome.Invalid, _received);
            return;
        }
        if (!Admit(Bytes.Empty, "scan")) return;
        var id = ++_nextRequestId;
        var replyTo = Sender;
        var view = ViewOf(KeyScan.PartitionOf(scan.Cursor, _view.Partitioner));
        Context.ActorOf(LocalProps.Of(() => new ScanCoordinator(id, scan, options!, _view.Partitioner, _region, replyTo, view, _received, _time)));
    }

    private bool Admit(IKvRequest request) => Admit(request.Key, KvMetrics.OperationOf(request));

    /// <summary>Counts the request in, or refuses it at once when the node already coordinates its limit.</summary>
    private bool Admit(Bytes key, string operation)
    {
        if (_inFlight >= _settings.MaxRequestsInFlight)
        {
            Sender.Tell(new RequestFailed(key, $"node {_settings.NodeName} is coordinating {_inFlight} requests, its limit (akka-kv.limits.max-requests-in-flight): retry shortly, or send to another node; nothing was read or written", 0, 0));
            KvMetrics.Request(operation, KvMetrics.Outcome.Overloaded, _received);
            return false;
        }
        _inFlight++;
        return true;
    }

    /// <summary>
    /// Hash operations: validated here (shape, sizes), every TTL turned into a deadline by this
    /// node's clock, then coordinated like a put whose version the coordinating replica makes.
    /// </summary>
    private void OnHashWrite(HashWrite write)
    {
        _received = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!Validate(write, null, isWrite: true, out var options)) return;
        var converted = new List<Transactions.KeyOp>();
        var error = Limits.CheckHashOps(write.Ops, _settings)
            ?? FeatureLevel.Refusal(_view.Members, FeatureLevel.Hashes, "a hash write")
            ?? Transactions.KeyOp.WithDeadlines(write.Ops!.Select(Transactions.KeyOp.Of).ToList(), _time.GetUtcNow().ToUnixTimeMilliseconds(), out converted);
        if (error is not null) { Refuse(write, error); return; }
        StartWrite(write, options!, null, null, 0, hashOps: ValueList.From(converted.Select(o => new Hashes.HashOp((Hashes.HashOpKind)o.Kind, o.Args, o.Number)).ToList()));
    }

    /// <summary>
    /// A transaction of one key: validated here (shape, sizes), every TTL turned into a deadline by
    /// this node's clock (<see cref="Transactions.KeyOp.WithDeadlines"/>), then coordinated like a
    /// put whose version the coordinating replica makes.
    /// </summary>
    private void OnTransaction(Transaction txn)
    {
        _received = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!Validate(txn, null, isWrite: true, out var options)) return;
        var converted = new List<Transactions.KeyOp>();
        var error = Limits.CheckKeyOps(txn.Ops, _settings, fromClient: true)
            ?? FeatureLevel.Refusal(_view.Members, FeatureLevel.Transactions, "a transaction")
            ?? Transactions.KeyOp.WithDeadlines(txn.Ops!, _time.GetUtcNow().ToUnixTimeMilliseconds(), out converted);
        if (error is not null) { Refuse(txn, error); return; }
        StartWrite(txn, options!, null, null, 0, transaction: ValueList.From(converted));
    }

    /// <summary>Answers a request refused before anything was sent (invalid, or a member too old), and counts it.</summary>
    private void Refuse(IKvRequest request, string error)
    {
        Sender.Tell(new RequestFailed(request.Key ?? Bytes.Empty, error, 0, 0));
        KvMetrics.Request(KvMetrics.OperationOf(request), KvMetrics.Outcome.Invalid, _received);
    }

    private void OnWrite(IKvRequest request, Bytes? value, string? contextText, long ttlMs, long? incrementBy = null, bool setsDeadline = false)
    {
        _received = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!Validate(request, value, isWrite: true, out var options)) return;
        // A counter version is one an older node cannot read: none is written until every member reads them.
        if (incrementBy is not null && FeatureLevel.Refusal(_view.Members, FeatureLevel.Counters, "an increment") is { } older)
        {
            Refuse(request, older);
            return;
        }
        // The deadline is fixed here, by this node's clock, and travels with the version.
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (TimeToLive.DeadlineOf(ttlMs, now, out var expiresAt) is { } ttlError)
        {
            Refuse(request, ttlError);
            return;
        }
        // No context: concurrent with everything the store holds (a sibling), unless the request
        // asks to overwrite; then the coordinating replica supersedes what it holds (null context).
        VersionVector? context = request.Options.Overwrite == true ? null : VersionVector.Empty;
        if (contextText is not null)
        {
            if (!_settings.Contexts.TryDecode(contextText, request.Key, out var decoded, out var contextError))
            {
                Refuse(request, contextError!);
                return;
            }
            context = decoded;
        }
        StartWrite(request, options!, value, context, expiresAt, incrementBy, setsDeadline);
    }

    /// <summary>Admits a validated write and starts its coordinator (a put, a delete, an increment, hash operations).</summary>
    private void StartWrite(IKvRequest request, ResolvedOptions options, Bytes? value, VersionVector? context, long expiresAt,
        long? incrementBy = null, bool setsDeadline = false, ValueList<Hashes.HashOp>? hashOps = null, ValueList<Transactions.KeyOp>? transaction = null)
    {
        if (!Admit(request)) return;
        var partition = _view.Partitioner.PartitionOf(request.Key);
        var id = ++_nextRequestId;
        var replyTo = Sender;
        var view = ViewOf(partition);
        Context.ActorOf(LocalProps.Of(() => new PutCoordinator(id, partition, request.Key, value, context, options, _settings, _region, replyTo, view, _hintsOf, _time, _received, expiresAt, incrementBy, setsDeadline, hashOps, transaction, _slots)));
    }
}
