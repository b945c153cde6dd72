using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Counters;
using AkkaKv.Observability;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Coordination;

/// <summary>
/// Coordinates one get, then stops (like DistributedData's ReadAggregator): asks all N slots,
/// answers at R replies with the merged sibling set and its context, keeps listening for the
/// rest during the read-repair window, then sends the merged set to every slot that answered
/// stale or not-found, and stops.
/// </summary>
internal sealed class GetCoordinator : UntypedActor
{
    private readonly long _requestId;
    private readonly int _partition;
    private readonly Bytes _key;
    private readonly ResolvedOptions _options;
    private readonly KvSettings _settings;
    private readonly SlotSender _slots;
    private readonly IActorRef _replyTo;
    private readonly PartitionView _view;
    private readonly TimeProvider _time;
    /// <summary>This request's timers (not Akka's: see <see cref="RequestTimers"/>).</summary>
    private readonly RequestTimers _timers;
    private readonly Dictionary<int, ReplicaReadResult> _replies = new();
    private SiblingSet _merged = SiblingSet.Empty;
    private bool _replied;
    /// <summary>When the request arrived (<see cref="System.Diagnostics.Stopwatch"/> ticks), for <c>akkakv.request.duration</c>.</summary>
    private readonly long _started;

    public GetCoordinator(long requestId, int partition, Bytes key, ResolvedOptions options, KvSettings settings,
        IActorRef region, IActorRef replyTo, PartitionView view, long started = 0, TimeProvider? time = null, SlotSender? slots = null)
    {
        _time = time ?? TimeProvider.System;
        _timers = new RequestTimers(_time, Self);
        _started = started == 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : started;
        _requestId = requestId;
        _partition = partition;
        _key = key;
        _options = options;
        _settings = settings;
        // The gateway's sender; without one (a test of one coordinator), straight to the region.
        _slots = slots ?? new SlotSender(region, null, settings.NodeName);
        _replyTo = replyTo;
        _view = view;
    }

    // An UntypedActor, not a ReceiveActor: one is created per read, and a ReceiveActor builds its
    // handler table for every instance (about a twelfth of what a node allocates per GET).
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case RequestTimers.Due due:
                if (_timers.Accept(due) is { } fired) OnReceive(fired);
                break;
            case ReplicaReadResult result when result.RequestId == _requestId:
                OnResult(result);
                break;
            case CoordinatorTimeout t when t == CoordinatorTimeout.Overall:
                OnTimeout();
                break;
            case CoordinatorTimeout t when t == CoordinatorTimeout.ReadRepair:
                Finish();
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
        if (ReadPlan.FailFastReason(_view, _options) is { } reason)
        {
            _replied = true;
            KvMetrics.Request("get", KvMetrics.Outcome.QuorumNotMet, _started);
            _replyTo.Tell(new RequestFailed(_key, reason, 0, _options.R, ValueList.From(Enumerable.Range(0, _options.N).Select(Report))));
            Context.Stop(Self);
            return;
        }
        _timers.Start(CoordinatorTimeout.Overall, CoordinatorTimeout.Overall, _options.Timeout);
        for (var i = 0; i < _options.N; i++)
            _slots.Send(new SlotId(_partition, i), _view.NodeOf(i), new ReplicaRead(_requestId, _key), Self);
    }

    private void OnResult(ReplicaReadResult result)
    {
        if (!_replies.TryAdd(result.Slot.Index, result)) return;
        _merged = _merged.Merge(result.Siblings);
        if (!_replied && _replies.Count >= _options.R)
        {
            _replied = true;
            var reply = BuildReply();
            KvMetrics.Request("get", KvMetrics.Outcome.Ok, _started);
            // A hash reads as one value; its versions' siblings are per field.
            if (reply is GetSuccess success) KvMetrics.Siblings(success.IsHash ? 1 : success.Values.Count);
            _replyTo.Tell(reply);
            if (_replies.Count < _options.N)
                _timers.Start(CoordinatorTimeout.ReadRepair, CoordinatorTimeout.ReadRepair, _settings.ReadRepairWindow);
        }
        if (_replies.Count == _options.N) Finish();
    }

    private IGetResponse BuildReply()
    {
        var reports = ValueList.From(Enumerable.Range(0, _options.N).Select(Report));
        var context = _settings.Contexts.Encode(_key, _merged.Context);
        // Expired values read as not found by this node's clock; the context still covers them,
        // so a write after this read supersedes them.
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        // A hash reads as its fields, each field's pick among concurrent writes (HashRules.Read).
        if (Hashes.HashRules.Read(_merged, now) is { } hash)
            return new GetSuccess(_key, ValueList<Bytes>.Empty, context, reports, ValueList.From([hash.ExpiresAtMs]),
                ValueList.From(hash.Fields.SelectMany(f => new[] { f.Name, f.Value })));
        // A counter reads as one value, its number (CounterRules.Read).
        var live = CounterRules.Read(_merged, now);
        return live.Count == 0
            ? new NotFound(_key, context, reports)
            : new GetSuccess(_key, ValueList.From(live.Select(v => v.Value)), context, reports,
                live.Any(v => v.ExpiresAtMs > 0) ? ValueList.From(live.Select(v => v.ExpiresAtMs)) : null);
    }

    private ReplicaReport Report(int slot) => Report(slot, ReplicaReadState.Pending);

    private ReplicaReport Report(int slot, ReplicaReadState unanswered)
    {
        if (_replies.TryGetValue(slot, out var r))
            return new ReplicaReport(slot, r.Node, r.Siblings.IsEmpty ? ReplicaReadState.NotFound
                : r.Siblings.Equals(_merged) ? ReplicaReadState.Current : ReplicaReadState.Stale);
        var node = _view.NodeOf(slot);
        var state = _view.Unreachable.Contains(node) ? ReplicaReadState.Unreachable
            : unanswered;
        return new ReplicaReport(slot, node, state);
    }

    private void OnTimeout()
    {
        if (!_replied)
        {
            _replied = true;
            KvMetrics.Request("get", KvMetrics.Outcome.Timeout, _started);
            _replyTo.Tell(new RequestFailed(_key,
                $"timed out after {_options.Timeout.TotalMilliseconds:0} ms with {_replies.Count} of R={_options.R} replica replies", _replies.Count, _options.R,
                ValueList.From(Enumerable.Range(0, _options.N).Select(slot => Report(slot, ReplicaReadState.Timeout)))));
        }
        Finish();
    }

    private void Finish()
    {
        // Read repair: only slots that answered with less than the merged result, fire and forget.
        var repaired = 0;
        foreach (var (slot, reply) in _replies)
            if (!reply.Siblings.Equals(_merged))
            {
                _slots.Send(new SlotId(_partition, slot), _view.NodeOf(slot), new ReplicaMerge(_requestId, _key, _merged, AckWanted: false), Self);
                repaired++;
            }
        // Counted with this node's anti-entropy stats, so the status shows every kind of repair.
        if (repaired > 0) KvMetrics.ReadRepaired(repaired);
        if (repaired > 0) Context.System.ActorSelection(NodeActors.LocalPath(NodeActors.AntiEntropy)).Tell(new AntiEntropy.ReadRepaired(repaired));
        SlotsSeen.Report(Context.Parent, _view, _partition, _replies.Values.Select(r => KeyValuePair.Create(r.Slot, r.Node)));
        Context.Stop(Self);
    }
}
