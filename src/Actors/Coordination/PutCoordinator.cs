using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Coordination;

/// <summary>
/// Coordinates one put or delete, then stops (like DistributedData's WriteAggregator).
/// <code>
///   start ──ReplicaPut──▶ coordinating replica (first slot not known unreachable)
///     │  no answer in coordinating-replica-timeout: try the next slot
///     ▼
///   ReplicaPutDone(siblings) ──ReplicaMerge(siblings)──▶ the other N-1 slots
///     │  each durable ack counts once; at W: reply WriteSuccess
///     ▼
///   all N acked, or request timeout: stop (timeout before W: RequestFailed with the count)
/// </code>
/// </summary>
internal sealed class PutCoordinator : ReceiveActor, IWithTimers
{
    private readonly long _requestId;
    private readonly int _partition;
    private readonly Bytes _key;
    private readonly Bytes? _value;
    private readonly VersionVector? _context;
    private readonly ResolvedOptions _options;
    private readonly IActorRef _region;
    private readonly IActorRef _replyTo;
    private readonly ImmutableArray<int> _candidates;
    private readonly KvSettings _settings;
    private int _candidate;
    private QuorumTally _tally;
    private bool _coordinated;
    private bool _replied;
    private string _resultContext = "";
    private int _resultSiblings;
    private readonly Dictionary<SlotId, string> _seen = new();

    public ITimerScheduler Timers { get; set; } = null!;

    public PutCoordinator(long requestId, int partition, Bytes key, Bytes? value, VersionVector? context,
        ResolvedOptions options, KvSettings settings, IActorRef region, IActorRef replyTo, ClusterView view)
    {
        _requestId = requestId;
        _partition = partition;
        _key = key;
        _value = value;
        _context = context;
        _options = options;
        _settings = settings;
        _region = region;
        _replyTo = replyTo;
        _tally = QuorumTally.Start(options.N, options.W);
        _candidates = CoordinatorChoice.Order(options.N, view.SlotNodes, view.Unreachable);

        Receive<ReplicaPutDone>(m => m.RequestId == _requestId, OnPutDone);
        Receive<ReplicaPutRejected>(m => m.RequestId == _requestId, m =>
        {
            if (_coordinated || _replied) return;
            _replied = true;
            _replyTo.Tell(new RequestFailed(_key, m.Reason, 0, _options.W));
            Finish();
        });
        Receive<ReplicaMergeDone>(m => m.RequestId == _requestId, m =>
        {
            _seen[m.Slot] = m.Node;
            _tally = _tally.Add(m.Slot.Index);
            Progress();
        });
        Receive<CoordinatorTimeout>(t => t == CoordinatorTimeout.CoordinatingReplica, _ => TryNextCoordinatingReplica());
        Receive<CoordinatorTimeout>(t => t == CoordinatorTimeout.Overall, _ => OnTimeout());
    }

    protected override void PreStart()
    {
        Timers.StartSingleTimer(CoordinatorTimeout.Overall, CoordinatorTimeout.Overall, _options.Timeout);
        SendToCoordinatingReplica();
    }

    private void SendToCoordinatingReplica()
    {
        var slot = new SlotId(_partition, _candidates[_candidate]);
        _region.Tell(new SlotEnvelope(slot, new ReplicaPut(_requestId, _key, _value, _context)));
        Timers.StartSingleTimer(CoordinatorTimeout.CoordinatingReplica, CoordinatorTimeout.CoordinatingReplica, _settings.CoordinatingReplicaTimeout);
    }

    private void TryNextCoordinatingReplica()
    {
        if (_coordinated || _candidate + 1 >= _candidates.Length) return;
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
        Timers.Cancel(CoordinatorTimeout.CoordinatingReplica);
        _resultContext = CausalContext.Encode(done.Written);
        _resultSiblings = done.Siblings.Count;
        _tally = _tally.Add(done.Slot.Index);
        for (var i = 0; i < _options.N; i++)
            if (i != done.Slot.Index)
                _region.Tell(new SlotEnvelope(new SlotId(_partition, i), new ReplicaMerge(_requestId, _key, done.Siblings, AckWanted: true)));
        Progress();
    }

    private void Progress()
    {
        if (!_replied && _tally.Reached)
        {
            _replied = true;
            _replyTo.Tell(new WriteSuccess(_key, _tally.Count, _resultContext, _resultSiblings));
        }
        if (_tally.Complete) Finish();
    }

    private void OnTimeout()
    {
        if (!_replied)
        {
            var reason = _coordinated
                ? $"timed out after {_options.Timeout.TotalMilliseconds:0} ms with {_tally.Count} of W={_options.W} durable acks; the value may be stored on fewer than W replicas"
                : $"timed out after {_options.Timeout.TotalMilliseconds:0} ms: no replica of partition {_partition} could mint the version (0 of W={_options.W} acks)";
            _replyTo.Tell(new RequestFailed(_key, reason, _tally.Count, _options.W));
            _replied = true;
        }
        Finish();
    }

    private void Finish()
    {
        Context.Parent.Tell(new SlotsSeen(_seen.ToImmutableDictionary()));
        Context.Stop(Self);
    }
}
