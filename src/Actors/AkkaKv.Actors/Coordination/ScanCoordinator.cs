using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Listing;
using AkkaKv.Observability;
using AkkaKv.Placement;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Coordination;

/// <summary>
/// Coordinates one page of a key listing (<c>SCAN</c>), then stops: asks every replica slot of
/// the cursor's partition for its slice (<see cref="ReplicaScan"/>), and answers once every slot
/// on a reachable node did, or <see cref="NodeTimings.ScanStragglers"/> after the first answer
/// with those that did (a node down but not yet detected would hold every page for the
/// timeout), or fails at the timeout when none did. The page
/// (<see cref="KeyScan.Combine"/>) covers exactly what the answering replicas hold up to its
/// bound, so a replica that does not answer makes the page no less correct, only its keys absent.
/// </summary>
internal sealed class ScanCoordinator : ReceiveActor, IWithTimers
{
    private readonly long _requestId;
    private readonly int _partition;
    private readonly Scan _scan;
    private readonly ResolvedOptions _options;
    private readonly Partitioner _partitioner;
    private readonly IActorRef _region;
    private readonly IActorRef _replyTo;
    private readonly PartitionView _view;
    private readonly long _started;
    private readonly Dictionary<int, ScanSlice> _slices = new();

    public ITimerScheduler Timers { get; set; } = null!;
    private readonly TimeProvider _time;

    public ScanCoordinator(long requestId, Scan scan, ResolvedOptions options, Partitioner partitioner, IActorRef region, IActorRef replyTo,
        PartitionView view, long started, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _requestId = requestId;
        _scan = scan;
        _options = options;
        _partitioner = partitioner;
        _partition = KeyScan.PartitionOf(scan.Cursor, partitioner);
        _region = region;
        _replyTo = replyTo;
        _view = view;
        _started = started;
        Receive<ReplicaScanned>(m => m.RequestId == _requestId, OnSlice);
        Receive<CoordinatorTimeout>(t => t == CoordinatorTimeout.Overall, _ => OnTimeout());
        Receive<CoordinatorTimeout>(t => t == CoordinatorTimeout.Stragglers, _ => Reply());
    }

    protected override void PostStop() => Context.Parent.Tell(CoordinatorFinished.Instance);

    protected override void PreStart()
    {
        if (_view.ReachableCount(_options.N) == 0)
        {
            Fail($"no replica of partition {_partition} is on a reachable node ({_view.UnreachableNodes(_options.N)} unreachable): retry when one is back", KvMetrics.Outcome.QuorumNotMet);
            return;
        }
        Timers.StartSingleTimer(CoordinatorTimeout.Overall, CoordinatorTimeout.Overall, _options.Timeout);
        for (var i = 0; i < _options.N; i++)
            _region.Tell(new SlotEnvelope(new SlotId(_partition, i), new ReplicaScan(_requestId, _scan.Cursor, _scan.Count, _scan.Match)));
    }

    private void OnSlice(ReplicaScanned m)
    {
        if (m.Slot.Partition != _partition || !_slices.TryAdd(m.Slot.Index, new ScanSlice(m.Entries.ToList(), m.Bound))) return;
        var waiting = Enumerable.Range(0, _options.N).Count(i => _view.IsReachable(i) && !_slices.ContainsKey(i));
        if (waiting == 0) Reply();
        else if (_slices.Count == 1) Timers.StartSingleTimer(CoordinatorTimeout.Stragglers, CoordinatorTimeout.Stragglers, NodeTimings.ScanStragglers);
    }

    private void OnTimeout()
    {
        if (_slices.Count > 0) Reply();
        else Fail($"timed out after {_options.Timeout.TotalMilliseconds:0} ms with no replica of partition {_partition} answering", KvMetrics.Outcome.Timeout);
    }

    private void Reply()
    {
        var page = KeyScan.Combine(_partition, _slices.Values, _partitioner, _time.GetUtcNow().ToUnixTimeMilliseconds());
        KvMetrics.Request("scan", KvMetrics.Outcome.Ok, _started);
        _replyTo.Tell(new ScanResult(page.NextCursor, ValueList.From(page.Keys)));
        Context.Stop(Self);
    }

    private void Fail(string reason, string outcome)
    {
        KvMetrics.Request("scan", outcome, _started);
        _replyTo.Tell(new RequestFailed(Bytes.Empty, reason, _slices.Count, 1));
        Context.Stop(Self);
    }
}
