using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaKv.Placement;
using AkkaKv.Replica;
using AkkaKv.Ring;

namespace AkkaKv.AntiEntropy;

/// <summary>
/// Completes one node's <see cref="NodeTransfers"/> for <c>akkakv transfers</c>: asks the local
/// shard region which slots it hosts, asks each of them its size (<see cref="GetSlotSize"/>), and
/// answers with the sizes that came in before <c>request.timeout</c>, then stops. Never blocks.
/// </summary>
internal sealed class NodeTransfersCollector : ReceiveActor, IWithTimers
{
    private readonly NodeTransfers _transfers;
    private readonly IActorRef _replyTo;
    private readonly IActorRef _region;
    private readonly Dictionary<string, (long Keys, long Bytes)> _sizes = new(StringComparer.Ordinal);
    private int _asked = -1;

    public ITimerScheduler Timers { get; set; } = null!;

    public NodeTransfersCollector(NodeTransfers transfers, IActorRef region, IActorRef replyTo, TimeSpan timeout)
    {
        _transfers = transfers;
        _region = region;
        _replyTo = replyTo;
        Receive<CurrentShardRegionState>(state =>
        {
            var slots = state.Shards.Select(s => SlotId.TryParse(s.ShardId, out var slot) ? slot : (SlotId?)null).OfType<SlotId>().ToList();
            _asked = slots.Count;
            foreach (var slot in slots) _region.Tell(new SlotEnvelope(slot, new GetSlotSize(0)));
            ReplyIfDone();
        });
        Receive<SlotSize>(size =>
        {
            _sizes[size.Slot.ToString()] = (size.Keys, size.Bytes);
            ReplyIfDone();
        });
        Receive<TimedOut>(_ => Reply());
        Timers.StartSingleTimer("timeout", TimedOut.Instance, timeout);
    }

    private sealed class TimedOut
    {
        public static readonly TimedOut Instance = new();
    }

    protected override void PreStart() => _region.Tell(GetShardRegionState.Instance);

    private void ReplyIfDone()
    {
        if (_asked >= 0 && _sizes.Count >= _asked) Reply();
    }

    private void Reply()
    {
        _replyTo.Tell(_transfers with
        {
            Sizes = ValueList.From(_sizes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new SlotSizeInfo(kv.Key, kv.Value.Keys, kv.Value.Bytes))),
        });
        Context.Stop(Self);
    }
}
