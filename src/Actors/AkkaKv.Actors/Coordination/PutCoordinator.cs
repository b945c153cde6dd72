using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Observability;
using AkkaKv.HintedHandoff;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Coordination;

/// <summary>
/// Coordinates one put or delete, then stops (like DistributedData's WriteAggregator).
/// <code>
///   start: W cannot be met by reachable primaries (strict) or primaries plus fallbacks (sloppy)
///     │      ──▶ RequestFailed at once, naming the unreachable nodes
///     ├──ReplicaPut──▶ coordinating replica (first slot not known unreachable)
///     │  no answer in coordinating-replica-timeout: try the next slot
///     ▼
///   ReplicaPutDone(siblings) ──ReplicaMerge(siblings)──▶ each other slot
///     │                     ──StoreHint(siblings)───▶ a fallback's hint actor, for each slot on an
///     │                                               unreachable node, and for each slot whose
///     │                                               ack is not in within replica-ack-timeout
///     │  each durable ack counts once per slot; a stored hint counts for its slot only when
///     │  sloppy and held by a fallback (a node holding none of the partition's slots)
///     │  at W: reply WriteSuccess
///     ▼
///   W met and every slot acked or hinted, or request timeout: stop (before W: RequestFailed with the count)
/// </code>
/// </summary>
internal sealed class PutCoordinator : UntypedActor
{
    private readonly long _requestId;
    private readonly int _partition;
    private readonly Bytes _key;
    private readonly Bytes? _value;
    /// <summary>The value's deadline (Unix ms; 0: none), fixed by the gateway that took the write.</summary>
    private readonly long _expiresAtMs;
    private readonly VersionVector? _context;
    /// <summary>An increment (the replica mints a counter version) instead of a value; null for a put or delete.</summary>
    private readonly long? _incrementBy;
    /// <summary>The increment sets the key's deadline to <see cref="_expiresAtMs"/> (0: none) instead of keeping it.</summary>
    private readonly bool _setsDeadline;
    /// <summary>For an increment: the number its coordinating replica made.</summary>
    private long _number;
    /// <summary>Hash operations (the replica mints a hash version) instead of a value; null otherwise.</summary>
    private readonly ValueList<Hashes.HashOp>? _hashOps;
    /// <summary>For hash operations: each one's result at the coordinating replica.</summary>
    private ValueList<long> _results = ValueList<long>.Empty;
    /// <summary>A transaction's operations (the replica applies them and mints one version) instead of a value; null otherwise.</summary>
    private readonly ValueList<Transactions.KeyOp>? _transaction;
    /// <summary>For a transaction: each operation's result at the coordinating replica.</summary>
    private ValueList<Transactions.KeyOpResult> _outcomes = ValueList<Transactions.KeyOpResult>.Empty;
    /// <summary>
    /// Applying it twice would count twice (an increment, an HINCRBY): not sent to a second replica
    /// while the first may still apply it. Setting or deleting fields, or a deadline, twice is
    /// harmless (a late version at the first replica holds the same fields), so those move on as a put does.
    /// </summary>
    private bool CountsTwice => _incrementBy is not null || _hashOps?.Any(o => o.Kind == Hashes.HashOpKind.Increment) == true
        || _transaction?.Any(o => o.Kind is Transactions.KeyOpKind.Increment or Transactions.KeyOpKind.HashIncrement) == true;
    private readonly ResolvedOptions _options;
    private readonly SlotSender _slots;
    private readonly IActorRef _replyTo;
    private readonly WritePlan _plan;
    private readonly KvSettings _settings;
    private readonly TimeProvider _time;
    /// <summary>This request's timers (not Akka's: see <see cref="RequestTimers"/>).</summary>
    private readonly RequestTimers _timers;
    private int _candidate;
    private QuorumTally _tally;
    private bool _coordinated;
    private bool _replied;
    private string _resultContext = "";
    private int _resultSiblings;
    private readonly Dictionary<SlotId, string> _seen = new();
    private readonly PartitionView _view;
    private readonly HintsOf _hintsOf;
    private readonly HashSet<int> _resolved = new();
    private readonly Dictionary<int, bool> _hinted = new();
    private int _hintsSent;
    private SiblingSet _written = SiblingSet.Empty;

    /// <summary>When the request arrived (<see cref="System.Diagnostics.Stopwatch"/> ticks) and what it is, for <c>akkakv.request.duration</c>.</summary>
    private readonly long _started;
    private readonly string _operation;

    public PutCoordinator(long requestId, int partition, Bytes key, Bytes? value, VersionVector? context,
        ResolvedOptions options, KvSettings settings, IActorRef region, IActorRef replyTo, PartitionView view, HintsOf? hintsOf = null,
        TimeProvider? time = null, long started = 0, long expiresAtMs = 0, long? incrementBy = null, bool setsDeadline = false, ValueList<Hashes.HashOp>? hashOps = null,
        ValueList<Transactions.KeyOp>? transaction = null, SlotSender? slots = null)
    {
        _hashOps = hashOps;
        _transaction = transaction;
        _setsDeadline = setsDeadline;
        _expiresAtMs = expiresAtMs;
        _incrementBy = incrementBy;
        _started = started == 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : started;
        _operation = incrementBy is not null ? "incr" : hashOps is not null ? "hash" : transaction is not null ? "transaction" : value is null ? "delete" : "put";
        _time = time ?? TimeProvider.System;
        _timers = new RequestTimers(_time, Self);
        _view = view;
        _hintsOf = hintsOf ?? NoHints.Instance;
        _requestId = requestId;
        _partition = partition;
        _key = key;
        _value = value;
        _context = context;
        _options = options;
        _settings = settings;
        // The gateway's sender; without one (a test of one coordinator), straight to the region.
        _slots = slots ?? new SlotSender(region, null, settings.NodeName);
        _replyTo = replyTo;
        _tally = QuorumTally.Start(options.N, options.W);
        _plan = WritePlan.For(partition, view, options, settings.NodeName);
    }

    // An UntypedActor, not a ReceiveActor: one is created per write, and a ReceiveActor builds its
    // handler table for every instance.
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case RequestTimers.Due due:
                if (_timers.Accept(due) is { } fired) OnReceive(fired);
                break;
            case ReplicaPutDone m when m.RequestId == _requestId:
                OnPutDone(m);
                break;
            case ReplicaPutRejected m when m.RequestId == _requestId:
                if (_coordinated || _replied) return;
                _replied = true;
                KvMetrics.Request(_operation, KvMetrics.Outcome.Invalid, _started);
                _replyTo.Tell(new RequestFailed(_key, m.Reason, 0, _options.W));
                Finish();
                break;
            case ReplicaNotReady m when m.RequestId == _requestId:
                // Still catching up: the next coordinating replica at once, not after the timeout.
                if (_coordinated || m.Slot.Index != _plan.CoordinatorOrder[_candidate]) return;
                _timers.Cancel(CoordinatorTimeout.CoordinatingReplica);
                TryNextCoordinatingReplica();
                break;
            case ReplicaMergeDone m when m.RequestId == _requestId:
                _seen[m.Slot] = m.Node;
                _timers.Cancel(("ack", m.Slot.Index));
                _tally = _tally.Add(m.Slot.Index);
                _resolved.Add(m.Slot.Index);
                Progress();
                break;
            case HintStored m when m.RequestId == _requestId:
                OnHintStored(m);
                break;
            case HintRefused m when m.RequestId == _requestId:
                // The holder is full (it counts the target as needing repair). An unreachable slot is
                // settled without an ack; a reachable one may still ack.
                if (!_view.IsReachable(m.Target.Index)) _resolved.Add(m.Target.Index);
                Progress();
                break;
            case ReplicaAckTimeout t:
                if (!_tally.Answered.Contains(t.Slot) && !_hinted.ContainsKey(t.Slot)) Hint(t.Slot);
                break;
            // An increment is not sent to a second replica when the first is merely slow: if the first
            // minted it late as well, it would count twice. Only a replica that declined (ReplicaNotReady,
            // nothing minted) hands it on; a silent one leaves the request to time out, outcome unknown.
            case CoordinatorTimeout t when t == CoordinatorTimeout.CoordinatingReplica:
                if (!CountsTwice) TryNextCoordinatingReplica();
                break;
            case CoordinatorTimeout t when t == CoordinatorTimeout.Overall:
                OnTimeout();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void PostStop()
    {
        _timers.CancelAll();
        Context.Parent.Tell(CoordinatorFinished.Instance);
    }

    protected override void PreStart()
    {
        if (_plan.FailFast is { } reason)
        {
            _replied = true;
            KvMetrics.Request(_operation, KvMetrics.Outcome.QuorumNotMet, _started);
            _replyTo.Tell(new RequestFailed(_key, reason, 0, _options.W));
            Context.Stop(Self);
            return;
        }
        _timers.Start(CoordinatorTimeout.Overall, CoordinatorTimeout.Overall, _options.Timeout);
        SendToCoordinatingReplica();
    }

    private void SendToCoordinatingReplica()
    {
        var slot = new SlotId(_partition, _plan.CoordinatorOrder[_candidate]);
        _slots.Send(slot, _view.NodeOf(slot.Index), new ReplicaPut(_requestId, _key, _value, _context, _time.GetUtcNow().ToUnixTimeMilliseconds(), _plan.MayDecline(_candidate), _expiresAtMs, _incrementBy, _setsDeadline, _hashOps, _transaction), Self);
        _timers.Start(CoordinatorTimeout.CoordinatingReplica, CoordinatorTimeout.CoordinatingReplica, _settings.CoordinatingReplicaTimeout);
    }

    private void TryNextCoordinatingReplica()
    {
        if (_coordinated || !_plan.MayDecline(_candidate)) return;
        _candidate++;
        SendToCoordinatingReplica();
    }

    private void OnPutDone(ReplicaPutDone done)
    {
        _seen[done.Slot] = done.Node;
        // A slow coordinating replica that answers after another took over has minted a second
        // version of the same write; it is durable there and later reads merge it.
        if (_coordinated) return;
        _coordinated = true;
        _timers.Cancel(CoordinatorTimeout.CoordinatingReplica);
        _resultContext = _settings.Contexts.Encode(_key, done.Written);
        _resultSiblings = done.Siblings.Count;
        _number = done.Number ?? 0;
        _results = done.Results ?? ValueList<long>.Empty;
        _outcomes = done.Outcomes ?? ValueList<Transactions.KeyOpResult>.Empty;
        if (done.Siblings.IsEmpty)
        {
            // Operations that changed nothing on a key the replica does not hold: nothing to replicate.
            _replied = true;
            KvMetrics.Request(_operation, KvMetrics.Outcome.Ok, _started);
            _replyTo.Tell(Success(1));
            Finish();
            return;
        }
        _tally = _tally.Add(done.Slot.Index);
        _resolved.Add(done.Slot.Index);
        _written = done.Siblings;
        for (var i = 0; i < _options.N; i++)
        {
            if (i == done.Slot.Index) continue;
            // The merge goes to every slot, even one believed unreachable: the belief (where the
            // slot lives, whether its node is down) can be stale, and a durable ack always counts.
            _slots.Send(new SlotId(_partition, i), _view.NodeOf(i), new ReplicaMerge(_requestId, _key, done.Siblings, AckWanted: true), Self);
            if (_view.IsReachable(i)) _timers.Start(("ack", i), new ReplicaAckTimeout(i), _settings.ReplicaAckTimeout);
        }
        foreach (var slot in _plan.HintNow)
            if (slot != done.Slot.Index) Hint(slot);
        Progress();
    }

    /// <summary>Sends the written siblings for <paramref name="slot"/> to the plan's next hint holder (<see cref="WritePlan.HintFor"/>).</summary>
    private void Hint(int slot)
    {
        var hint = _plan.HintFor(_hintsSent++);
        _hinted[slot] = hint.Counts;
        _hintsOf(hint.Holder).Tell(new StoreHint(_requestId, new SlotId(_partition, slot), _view.NodeOf(slot), _key, _written), Self);
    }

    private void OnHintStored(HintStored stored)
    {
        var slot = stored.Target.Index;
        if (_hinted.GetValueOrDefault(slot))
        {
            _tally = _tally.Add(slot);
            _resolved.Add(slot);
        }
        // A hint that does not count settles a slot only if its node is unreachable: a reachable
        // replica that is merely slow may still ack durably in time, and that ack counts.
        else if (!_view.IsReachable(slot)) _resolved.Add(slot);
        Progress();
    }

    private void Progress()
    {
        if (!_replied && _tally.Reached)
        {
            _replied = true;
            KvMetrics.Request(_operation, KvMetrics.Outcome.Ok, _started);
            _replyTo.Tell(Success(_tally.Count));
        }
        // Every slot acked or hinted: done. Short of W, keep waiting until the request timeout, since
        // a slot hinted because it was believed unreachable may still ack its merge.
        if (_replied && _resolved.Count == _options.N) Finish();
    }

    private IWriteResponse Success(int acks) =>
        _transaction is not null ? new TransactionSuccess(_key, _outcomes, acks)
        : _hashOps is not null ? new HashWriteSuccess(_key, _results, acks)
        : _incrementBy is null ? new WriteSuccess(_key, acks, _resultContext, _resultSiblings)
        : new IncrementSuccess(_key, _number, acks);

    private void OnTimeout()
    {
        if (!_replied)
        {
            var reason = _coordinated
                ? $"timed out after {_options.Timeout.TotalMilliseconds:0} ms with {_tally.Count} of W={_options.W} durable acks; the value may be stored on fewer than W replicas"
                : CountsTwice
                    ? $"timed out after {_options.Timeout.TotalMilliseconds:0} ms with 0 of W={_options.W} acks: the outcome is unknown (the replica asked may still apply the increment; it is not sent to another, so it never counts twice)"
                    : $"timed out after {_options.Timeout.TotalMilliseconds:0} ms: no replica of partition {_partition} could mint the version (0 of W={_options.W} acks)";
            KvMetrics.Request(_operation, KvMetrics.Outcome.Timeout, _started);
            _replyTo.Tell(new RequestFailed(_key, reason, _tally.Count, _options.W));
            _replied = true;
        }
        Finish();
    }

    private void Finish()
    {
        SlotsSeen.Report(Context.Parent, _view, _partition, _seen);
        Context.Stop(Self);
    }
}
