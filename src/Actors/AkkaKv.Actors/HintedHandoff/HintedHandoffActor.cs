using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using AkkaKv.Configuration;
using AkkaKv.Observability;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.HintedHandoff;

/// <summary>
/// One per node (<see cref="NodeActors.Hints"/>), persistent: holds writes for replica slots whose node is
/// unreachable and hands them over when that node is reachable again.
/// <code>
///   StoreHint ──persist HintAdded──▶ held ──target reachable──▶ ReplicaMerge(ack wanted) to its slot
///       │ bound full: persist HintOverflowed,                     │ at most replay-window in flight
///       │ reply HintRefused (target needs repair)                 ▼
///       ▼                                              ReplicaMergeDone ──persist HintDelivered──▶ gone
///   reply HintStored (counts toward a sloppy W)        no ack within replay-timeout: sent again
/// </code>
/// A hint is deleted only after the target replica acknowledged it durably. Replay goes through
/// the shard region by slot id, so a slot that moved (its node was downed and removed) gets its
/// hints at its new home. A target is replayed to when it is an Up, reachable member, or no longer
/// a member at all (then its slots have moved).
/// </summary>
internal sealed class HintedHandoffActor : UntypedPersistentActor, IWithTimers
{
    public const string Name = NodeActors.Hints;

    private readonly KvSettings _settings;
    private readonly Func<IActorRef> _region;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private HintStore _store = HintStore.Empty;
    private readonly Dictionary<long, DateTimeOffset> _inFlight = new();
    private ClusterView _view;
    private bool _knowCluster;
    private int _eventsSinceSnapshot;
    // Targets the view kept from replay at the last tick while the cluster state did not.
    private HashSet<string> _viewSuspected = [];
    private DateTimeOffset _lastUnansweredLog = DateTimeOffset.MinValue;
    private readonly TimeProvider _time;
    // The hand-over at a leave (HandOverHints): who waits, the members that take hints, the hints
    // not yet placed, those in flight (id: how many receivers were tried), and the counts.
    private IActorRef? _handOverFor;
    private IReadOnlyList<(string Node, Address Address)> _receivers = [];
    private readonly Queue<long> _toHandOver = new();
    private readonly Dictionary<long, (int Attempt, DateTimeOffset SentAt)> _handingOver = new();
    private int _handedOver, _kept;
    private const int HandOverWindow = 32;
    /// <summary>A receiver that has not confirmed a hint by then is passed over for the next one.</summary>
    private static readonly TimeSpan HandOverAttemptTimeout = TimeSpan.FromSeconds(5);

    private sealed class HandOverTick
    {
        public static readonly HandOverTick Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public HintedHandoffActor(KvSettings settings, Func<IActorRef> region, TimeProvider time)
    {
        _settings = settings;
        _region = region;
        _time = time;
        _view = ClusterView.Empty(settings);
    }

    public static Props PropsFor(KvSettings settings, Func<IActorRef> region, TimeProvider time) =>
        Props.Create(() => new HintedHandoffActor(settings, region, time));

    public override string PersistenceId => "hints-" + _settings.NodeName;

    private sealed class ReplayTick
    {
        public static readonly ReplayTick Instance = new();
    }

    protected override void PreStart()
    {
        base.PreStart();
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("replay", ReplayTick.Instance, _settings.HintsReplayInterval);
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
    }

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case RecoveryCompleted:
                KvMetrics.HintsHeld(_store.Count);
                break;
            case SnapshotOffer { Snapshot: HintSnapshot s }:
                _store = HintStore.FromSnapshot(s);
                break;
            case HintAdded or HintDelivered or HintOverflowed:
                _store = _store.Apply(message);
                _eventsSinceSnapshot++;
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case StoreHint hint:
                OnStoreHint(hint);
                break;
            case ReplicaMergeDone done:
                OnDelivered(done);
                break;
            case HandOverHints handOver:
                StartHandOver(handOver.Receivers);
                break;
            case HintStored stored when _handingOver.ContainsKey(stored.RequestId):
                OnHandedOver(stored.RequestId);
                break;
            case HintRefused refused when _handingOver.ContainsKey(refused.RequestId):
                _log.Info("hints: {0} did not take a hint for {1}: {2}", refused.Holder, refused.Target, refused.Reason);
                SendForHandOver(refused.RequestId, _handingOver[refused.RequestId].Attempt + 1);
                break;
            case HandOverTick:
                var late = _time.GetUtcNow() - HandOverAttemptTimeout;
                foreach (var (id, (attempt, _)) in _handingOver.Where(kv => kv.Value.SentAt < late).ToList()) SendForHandOver(id, attempt + 1);
                break;
            case ReplayTick:
                var expired = _time.GetUtcNow() - _settings.HintsReplayTimeout;
                var unanswered = _inFlight.Where(kv => kv.Value < expired).Select(kv => kv.Key).ToList();
                foreach (var id in unanswered) _inFlight.Remove(id);
                if (unanswered.Count > 0) LogUnanswered(unanswered);
                CheckViewAgainstCluster();
                Replay();
                break;
            case GetHintStats:
                Sender.Tell(new HintStats(_settings.NodeName, ValueList.From(_store.Stats())));
                break;
            case ClusterEvent.CurrentClusterState or ClusterEvent.IMemberEvent or ClusterEvent.IReachabilityEvent:
                _view = _view.WithMembers(ClusterMembership.Apply(_view.Members, message));
                _knowCluster = true;
                // Unreachable changes nothing to replay; every other change may make a target deliverable.
                if (message is not ClusterEvent.UnreachableMember) Replay();
                break;
            case SaveSnapshotSuccess ok:
                DeleteMessages(ok.Metadata.SequenceNr);
                DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure fail:
                _log.Warning(fail.Cause, "hints: snapshot failed; recovery replays more events");
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess or DeleteMessagesFailure or DeleteSnapshotsFailure:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnStoreHint(StoreHint hint)
    {
        var replyTo = Sender;
        if (_store.IsFull(hint.TargetNode, hint.Target, hint.Key, _settings.HintsMaxPerTarget))
        {
            Persist(new HintOverflowed(hint.TargetNode), e =>
            {
                _store = _store.Apply(e);
                KvMetrics.HintOverflowed();
                _log.Warning("hints: {0} hints already held for {1} (hints.max-per-target); a write for slot {2} was not held: {1} needs repair (anti-entropy is asked to run)",
                    _store.HeldFor(hint.TargetNode), hint.TargetNode, hint.Target);
                // The write reached W replicas but not this slot: anti-entropy brings it there once
                // the target is back (its next round, started now, and again on reachability).
                Context.System.ActorSelection(NodeActors.LocalPath(NodeActors.AntiEntropy))
                    .Tell(new AntiEntropy.RepairSoon($"a hint for {hint.TargetNode} overflowed"));
                replyTo.Tell(new HintRefused(hint.RequestId, hint.Target, _settings.NodeName,
                    $"{_settings.NodeName} holds {_settings.HintsMaxPerTarget} hints for {hint.TargetNode} (hints.max-per-target)"));
                AfterEvent();
            });
            return;
        }
        // Applied before it is durable, so that the next StoreHint (PersistAsync does not stash)
        // is checked and merged against it; the writer hears "stored" only once it is durable.
        var added = _store.Store(hint.Target, hint.TargetNode, hint.Key, hint.Siblings);
        _store = _store.Apply(added);
        PersistAsync(added, _ =>
        {
            replyTo.Tell(new HintStored(hint.RequestId, hint.Target, _settings.NodeName));
            KvMetrics.HintStored();
            AfterEvent();
            Replay();
        });
    }

    private void OnDelivered(ReplicaMergeDone done)
    {
        if (!_inFlight.ContainsKey(done.RequestId)) return;
        if (!_store.Hints.ContainsKey(done.RequestId))
        {
            // Superseded by a newer hint for the same key (merged under a new id): that one goes next.
            _inFlight.Remove(done.RequestId);
            Replay();
            return;
        }
        // Stays in flight until the deletion is applied, so that no replay in between sends it again.
        PersistAsync(new HintDelivered(done.RequestId), e =>
        {
            _store = _store.Apply(e);
            _inFlight.Remove(e.Id);
            KvMetrics.HintsReplayedAdd(1);
            AfterEvent();
            Replay();
        });
    }

    private bool Deliverable(string target) => _knowCluster && _view.AcceptsHandoff(target);

    /// <summary>
    /// This node leaves: every hint it holds goes to another Up, reachable member's hint actor,
    /// which stores it durably (as for a sloppy write) and replays it when its target is back; only
    /// then is it deleted here. Replay from here stops. A hint no member takes stays here, counted.
    /// </summary>
    private void StartHandOver(IReadOnlyList<(string Node, Address Address)>? receivers)
    {
        if (_handOverFor is not null) return;
        _handOverFor = Sender;
        Timers.Cancel("replay");
        // Up and reachable as this actor's own view says (from the cluster events it received).
        _receivers = receivers ?? _view.Members.Members
            .Where(m => m.Node != _settings.NodeName && m.Status == AkkaKv.Placement.MemberStatus.Up && m.Reachable)
            .Select(m => (m.Node, Address.Parse(m.Address))).OrderBy(r => r.Node, StringComparer.Ordinal).ToList();
        Timers.StartPeriodicTimer("hand-over", HandOverTick.Instance, TimeSpan.FromSeconds(1));
        foreach (var id in _store.Hints.Keys) _toHandOver.Enqueue(id);
        if (_toHandOver.Count > 0)
            _log.Info("hints: leaving: handing {0} hint(s) to {1} other member(s)", _toHandOver.Count, _receivers.Count);
        HandOverMore();
    }

    private void HandOverMore()
    {
        while (_handingOver.Count < HandOverWindow && _toHandOver.TryDequeue(out var id))
            if (_store.Hints.ContainsKey(id)) SendForHandOver(id, 0);
        if (_handingOver.Count > 0 || _handOverFor is null) return;
        Timers.Cancel("hand-over");
        if (_kept > 0) _log.Warning("hints: leaving: {0} hint(s) handed over, {1} kept on this node (no member took them): their targets need anti-entropy", _handedOver, _kept);
        else if (_handedOver > 0) _log.Info("hints: leaving: {0} hint(s) handed over", _handedOver);
        _handOverFor.Tell(new HintsHandedOver(_handedOver, _kept));
        _handOverFor = null;
    }

    /// <summary>Offers hint <paramref name="id"/> to receiver number <paramref name="attempt"/> (round-robin from the hint's id); past the last, it is kept.</summary>
    private void SendForHandOver(long id, int attempt)
    {
        var held = _store.Hints.TryGetValue(id, out var hint);
        // Never to the hint's own target: it is unreachable, or the hint would have been replayed.
        while (held && attempt < _receivers.Count && _receivers[(int)((id + attempt) % _receivers.Count)].Node == hint!.TargetNode) attempt++;
        if (!held || attempt >= _receivers.Count)
        {
            _handingOver.Remove(id);
            if (held) _kept++;
            HandOverMore();
            return;
        }
        _handingOver[id] = (attempt, _time.GetUtcNow());
        var receiver = _receivers[(int)((id + attempt) % _receivers.Count)].Address;
        Context.ActorSelection(NodeActors.PathOn(receiver, NodeActors.Hints))
            .Tell(new StoreHint(id, hint!.Target, hint.TargetNode, hint.Key, hint.Siblings));
    }

    private void OnHandedOver(long id)
    {
        PersistAsync(new HintDelivered(id), e =>
        {
            _store = _store.Apply(e);
            _handingOver.Remove(e.Id);
            _handedOver++;
            AfterEvent();
            HandOverMore();
        });
    }

    private void Replay()
    {
        if (_handOverFor is not null) return;
        if (_inFlight.Count >= _settings.HintsReplayWindow || _store.Count == 0) return;
        var now = _time.GetUtcNow();
        foreach (var target in _store.Targets.Where(Deliverable).ToList())
            foreach (var hint in _store.PendingFor(target))
            {
                if (_inFlight.Count >= _settings.HintsReplayWindow) return;
                if (!_inFlight.TryAdd(hint.Id, now)) continue;
                _region().Tell(new SlotEnvelope(hint.Target, new ReplicaMerge(hint.Id, hint.Key, hint.Siblings, AckWanted: true)));
            }
    }

    /// <summary>
    /// The view this actor builds from cluster events decides which targets take replay. Should it
    /// ever keep a target from replay that the cluster's own current state shows Up and reachable
    /// (an event applied out of turn), the hints would wait forever: so at every replay tick, while
    /// a target holds hints and is not replayed to, the view is checked against the cluster state
    /// and, when they disagree on that target at two ticks in a row (not just while an event is on
    /// its way to one of the two), replaced by it, with a line in the log saying so.
    /// </summary>
    private void CheckViewAgainstCluster()
    {
        var suspectedBefore = _viewSuspected;
        _viewSuspected = [];
        if (!_knowCluster || _handOverFor is not null || _store.Count == 0) return;
        var held = _store.Targets.Where(t => !Deliverable(t)).ToList();
        if (held.Count == 0) return;
        var current = ClusterMembership.Of(Cluster.Get(Context.System).State);
        _viewSuspected = held.Where(current.AcceptsHandoff).ToHashSet(StringComparer.Ordinal);
        var wrong = _viewSuspected.Where(suspectedBefore.Contains).Order(StringComparer.Ordinal).ToList();
        if (wrong.Count == 0) return;
        _viewSuspected = [];
        _log.Info("hints: {0} held for {1}, which this node's view of the members ({2}) keeps from replay while the cluster state ({3}) shows them Up and reachable: the view is reset to the cluster state",
            wrong.Sum(_store.HeldFor), string.Join(", ", wrong), _view.Members, current);
        _view = _view.WithMembers(current);
    }

    /// <summary>Hints sent for replay whose target did not acknowledge them within replay-timeout: they go again; said in the log at most once a minute.</summary>
    private void LogUnanswered(List<long> ids)
    {
        var now = _time.GetUtcNow();
        if (now - _lastUnansweredLog < TimeSpan.FromMinutes(1)) return;
        _lastUnansweredLog = now;
        var hints = ids.Select(id => _store.Hints.GetValueOrDefault(id)).OfType<Hint>().ToList();
        if (hints.Count == 0) return;
        _log.Info("hints: {0} replayed hint(s) not acknowledged within {1} s, sent again (slots {2}); members as this node sees them: {3}",
            hints.Count, _settings.HintsReplayTimeout.TotalSeconds, string.Join(", ", hints.Select(h => $"{h.Target} on {h.TargetNode}").Distinct().Take(5)), _view.Members);
    }

    private void AfterEvent()
    {
        KvMetrics.HintsHeld(_store.Count);
        if (++_eventsSinceSnapshot < _settings.HintsSnapshotEvery) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_store.ToSnapshot());
    }
}
