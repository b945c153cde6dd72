using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;
using AkkaKv.Configuration;
using AkkaKv.Observability;
using AkkaKv.Merkle;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.AntiEntropy;

/// <summary>
/// A node's anti-entropy (<c>/user/kv-anti-entropy</c>): in rounds, runs one
/// <see cref="MerkleExchange"/> at a time for every pair of replica slots of the partitions
/// this node holds (the pair's lower slot index is the one held here), pausing
/// <c>anti-entropy.exchange-pause</c> between exchanges, and <c>round-interval</c> between rounds.
/// A member that joins, returns or is removed, or a hint overflow (<see cref="RepairSoon"/>), starts
/// a round at once (or right after the current one). While any member is unreachable no exchange
/// starts: the round is abandoned and resumes when the member is reachable again or removed. It also counts this node's read repairs
/// (<see cref="ReadRepaired"/>, from get coordinators) and what its replica slots' start-up
/// catch-ups repaired (<see cref="CatchUpDone"/>), so the status shows every kind of repair.
/// At the end of a round it runs a <see cref="TombstoneGc"/> pass over the partitions whose slot 0
/// it holds and whose pairs with slot 0 were all in sync, while every member is Up and reachable;
/// the next round starts after the pass.
/// </summary>
internal sealed class AntiEntropyActor : ReceiveActor, IWithTimers
{
    public const string Name = NodeActors.AntiEntropy;

    private readonly KvSettings _settings;
    private readonly IActorRef _region;
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<(SlotId A, SlotId B)> _pairs = new();
    private readonly Dictionary<(SlotId, SlotId), bool> _roundInSync = new();
    private bool _roundRunning;
    private bool _roundAgain;
    private bool _exchangeRunning;
    private long _nextExchangeId;
    private long _readRepairedKeys, _readRepairedReplicas;
    private long _rounds, _lastRoundAt, _lastExchangeAt, _exchanges, _failed, _keysRepaired, _bytes;
    private int _pairsChecked, _pairsInSync, _partitionsChecked, _partitionsInSync;
    // Tombstone GC: slot 0's tombstones listed by the last pass, per partition, waiting for a round to confirm them.
    private IReadOnlyDictionary<int, IReadOnlySet<MerkleEntry>> _gcCandidates = new Dictionary<int, IReadOnlySet<MerkleEntry>>();
    private readonly HashSet<int> _slot0Partitions = new();
    private long _tombstonesPurged, _catchUps, _catchUpsIncomplete;
    // Slots on this node that are recovering their journal or catching up with their peers, with
    // how far each is and since when (ms).
    private readonly Dictionary<SlotId, (SlotCatchUpState State, long SinceMs)> _catchingUp = new();
    // Catch-ups finished: what they carried in all, and over the last minute (the transfer rate).
    private long _catchUpKeys, _catchUpBytes;
    private readonly TransferWindow _transferWindow = new();
    // The drain at a leave (DrainForLeave): who waits for it, and what it did.
    private IActorRef? _drainFor;
    private bool _drainListed;
    private int _drainPairs;
    private long _drainKeys;
    private readonly HashSet<(SlotId, SlotId)> _drainRepeated = new();
    private string? _lastGcSkipped;

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class StartRound
    {
        public static readonly StartRound Instance = new();
    }

    private sealed class NextExchange
    {
        public static readonly NextExchange Instance = new();
    }

    private sealed class DrainDeadline
    {
        public static readonly DrainDeadline Instance = new();
    }

    public AntiEntropyActor(KvSettings settings, IActorRef region, TimeProvider time)
    {
        _settings = settings;
        _region = region;
        _time = time;
        Receive<StartRound>(_ => BeginRound());
        Receive<CurrentShardRegionState>(OnLocalSlots);
        Receive<NextExchange>(_ => RunNext());
        Receive<ExchangeResult>(OnResult);
        Receive<GcResult>(OnGcResult);
        Receive<CatchUpDone>(c =>
        {
            _catchUps++;
            if (c.PeersAbandoned > 0) _catchUpsIncomplete++;
            _keysRepaired += c.KeysRepaired;
            _bytes += c.BytesExchanged;
            _catchUpKeys += c.KeysRepaired;
            _catchUpBytes += c.BytesExchanged;
            _transferWindow.Add(Now, c.KeysRepaired, c.BytesExchanged);
            KvMetrics.Exchanged(c.KeysRepaired, c.BytesExchanged);
        });
        Receive<SlotCatchUpState>(c =>
        {
            if (!c.CatchingUp) _catchingUp.Remove(c.Slot);
            else _catchingUp[c.Slot] = (c, _catchingUp.TryGetValue(c.Slot, out var known) ? known.SinceMs : Now);
        });
        Receive<GetNodeTransfers>(_ => Context.ActorOf(Props.Create(() =>
            new NodeTransfersCollector(Transfers(), _region, Sender, _settings.RequestTimeout))));
        Receive<DrainForLeave>(StartDrain);
        Receive<DrainDeadline>(_ => FinishDrain($"not done within the drain's time; {_pairs.Count} pair(s) left to anti-entropy on the other nodes"));
        Receive<RepairSoon>(r => Soon(r.Reason));
        Receive<ClusterEvent.MemberUp>(e => Soon($"{e.Member.Address} is up"));
        Receive<ClusterEvent.ReachableMember>(e => Soon($"{e.Member.Address} is reachable again"));
        Receive<ClusterEvent.MemberRemoved>(e => Soon($"{e.Member.Address} was removed"));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<GetAntiEntropyStats>(_ => Sender.Tell(Stats()));
        Receive<ReadRepaired>(r =>
        {
            _readRepairedKeys++;
            _readRepairedReplicas += r.Replicas;
        });
    }

    public static Props PropsFor(KvSettings settings, IActorRef region, TimeProvider time) =>
        Props.Create(() => new AntiEntropyActor(settings, region, time));

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.ReachableMember), typeof(ClusterEvent.MemberRemoved));
        Timers.StartSingleTimer("round", StartRound.Instance, _settings.AntiEntropyRoundInterval);
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private void Soon(string reason)
    {
        if (_roundRunning) { _roundAgain = true; return; }
        _log.Debug("anti-entropy: round soon ({0})", reason);
        Timers.StartSingleTimer("round", StartRound.Instance, NodeTimings.AntiEntropySoon);
    }

    private void BeginRound()
    {
        if (_roundRunning || _drainFor is not null) return;
        _roundRunning = true;
        _roundAgain = false;
        _roundInSync.Clear();
        // Which slots this node holds now, from its own region.
        _region.Tell(GetShardRegionState.Instance);
    }

    private void OnLocalSlots(CurrentShardRegionState state)
    {
        _pairs.Clear();
        var local = state.Shards.Select(s => SlotId.TryParse(s.ShardId, out var slot) ? slot : (SlotId?)null).OfType<SlotId>()
            .OrderBy(s => s.Partition).ThenBy(s => s.Index).ToList();
        if (_drainFor is not null)
        {
            // Every local slot with every peer, whichever index is lower: each pushes what only it holds.
            foreach (var slot in local)
                for (var peer = 0; peer < _settings.ReplicationFactor; peer++)
                    if (peer != slot.Index) _pairs.Enqueue((slot, new SlotId(slot.Partition, peer)));
            _drainListed = true;
            _log.Info("anti-entropy: leaving: pushing {0} local replica slot(s) to their peers ({1} exchanges)", local.Count, _pairs.Count);
            if (!_exchangeRunning) RunNext();
            return;
        }
        _slot0Partitions.Clear();
        _slot0Partitions.UnionWith(local.Where(s => s.Index == 0).Select(s => s.Partition));
        foreach (var slot in local)
            for (var peer = slot.Index + 1; peer < _settings.ReplicationFactor; peer++)
                _pairs.Enqueue((slot, new SlotId(slot.Partition, peer)));
        if (!_exchangeRunning) RunNext();
    }

    private void RunNext()
    {
        if (_exchangeRunning) return;
        if (_drainFor is not null && Cluster.Get(Context.System).State.Unreachable.Count > 0)
        {
            FinishDrain($"a member is unreachable; {_pairs.Count} pair(s) left to anti-entropy on the other nodes");
            return;
        }
        if (Cluster.Get(Context.System).State.Unreachable.Count > 0)
        {
            // An exchange with a replica on an unreachable node can only time out (exchange-timeout
            // per pair, minutes for a round), and the pairs it would have repaired are better
            // compared once the node is back: the round is abandoned, uncounted, and the next one
            // starts when the member is reachable again or removed (or after round-interval).
            _log.Info("anti-entropy: a member is unreachable; round paused with {0} pair(s) left until it is reachable or removed", _pairs.Count);
            _pairs.Clear();
            _roundRunning = false;
            Timers.StartSingleTimer("round", StartRound.Instance, _settings.AntiEntropyRoundInterval);
            return;
        }
        if (!_pairs.TryDequeue(out var pair))
        {
            if (_drainFor is null) EndRound();
            else if (_drainListed) FinishDrain(null); // (else the local slots are still being listed)
            return;
        }
        _exchangeRunning = true;
        Context.ActorOf(MerkleExchange.PropsFor(++_nextExchangeId, pair.A, pair.B, _settings, _region, Self));
    }

    private void OnResult(ExchangeResult result)
    {
        _exchangeRunning = false;
        _exchanges++;
        _lastExchangeAt = Now;
        _keysRepaired += result.KeysRepaired;
        _bytes += result.BytesExchanged;
        KvMetrics.Exchanged(result.KeysRepaired, result.BytesExchanged);
        if (result.Error is not null)
        {
            _failed++;
            _log.Info("anti-entropy: exchange {0} <-> {1} abandoned: {2}", result.A, result.B, result.Error);
        }
        else if (result.KeysRepaired > 0)
            _log.Info("anti-entropy: {0} <-> {1} repaired {2} key(s), {3} bytes exchanged", result.A, result.B, result.KeysRepaired, result.BytesExchanged);
        _roundInSync[(result.A, result.B)] = result.InSync;
        if (_drainFor is not null)
        {
            // Draining: no pause, and a pair that needed repair is looked at once more (writes keep
            // arriving while the node leaves, so "until in sync" might not end).
            _drainPairs++;
            _drainKeys += result.KeysRepaired;
            if (!result.InSync && result.Error is null && result.KeysRepaired > 0 && _drainRepeated.Add((result.A, result.B))) _pairs.Enqueue((result.A, result.B));
            RunNext();
            return;
        }
        // A pair that needed repair is checked again at the end of this round: it may have had more
        // differing keys than one exchange repairs, and a second look confirms it is in sync.
        if (!result.InSync && result.Error is null && result.KeysRepaired > 0) _pairs.Enqueue((result.A, result.B));
        Timers.StartSingleTimer("next", NextExchange.Instance, _settings.AntiEntropyExchangePause);
    }

    /// <summary>
    /// The node leaves: rounds stop, and every local slot is exchanged once with each of its peers,
    /// so what only this node holds (a write acknowledged by W=1 here, a replica others missed) is
    /// on another replica before the slots are handed off. Skipped when a member is unreachable
    /// (an exchange with it could only time out): anti-entropy on the others repairs from the rest.
    /// </summary>
    private void StartDrain(DrainForLeave drain)
    {
        if (_drainFor is not null) return;
        _drainFor = Sender;
        Timers.Cancel("round");
        Timers.Cancel("next");
        _roundRunning = true; // no new round starts
        _pairs.Clear();
        if (Cluster.Get(Context.System).State.Unreachable.Count > 0)
        {
            FinishDrain("a member is unreachable");
            return;
        }
        Timers.StartSingleTimer("drain-deadline", DrainDeadline.Instance, drain.Within);
        _region.Tell(GetShardRegionState.Instance);
    }

    private void FinishDrain(string? skipped)
    {
        if (_drainFor is null) return;
        if (skipped is null) _log.Info("anti-entropy: leaving: {0} exchange(s) done, {1} key(s) pushed to peers", _drainPairs, _drainKeys);
        else _log.Info("anti-entropy: leaving: push to peers stopped after {0} exchange(s), {1} key(s): {2}", _drainPairs, _drainKeys, skipped);
        _drainFor.Tell(new Drained(_drainPairs, _drainKeys, skipped));
        Context.Stop(Self);
    }

    /// <summary>This node's part of <c>akkakv transfers</c> (the slot sizes are added by <see cref="NodeTransfersCollector"/>).</summary>
    private NodeTransfers Transfers()
    {
        var now = Now;
        var (keys, bytes, window) = _transferWindow.Sum(now);
        var peers = Math.Max(0, _settings.ReplicationFactor - 1);
        return new NodeTransfers(_settings.NodeName,
            ValueList.From(_catchingUp.OrderBy(kv => kv.Key.Partition).ThenBy(kv => kv.Key.Index)
                .Select(kv => new SlotCatchUp(kv.Key.ToString(), _settings.NodeName, Math.Min(kv.Value.State.ExchangesDone, peers), peers,
                    kv.Value.State.Keys, kv.Value.State.Bytes, now - kv.Value.SinceMs))),
            _catchUps, _catchUpKeys, _catchUpBytes, keys, bytes, window);
    }

    private void EndRound()
    {
        _rounds++;
        _lastRoundAt = Now;
        _pairsChecked = _roundInSync.Count;
        _pairsInSync = _roundInSync.Count(kv => kv.Value);
        var byPartition = _roundInSync.GroupBy(kv => kv.Key.Item1.Partition).ToList();
        _partitionsChecked = byPartition.Count;
        _partitionsInSync = byPartition.Count(g => g.All(kv => kv.Value));
        if (!StartGc()) ScheduleNextRound();
    }

    private void ScheduleNextRound()
    {
        _roundRunning = false;
        if (_roundAgain) Soon("requested during the last round");
        else Timers.StartSingleTimer("round", StartRound.Instance, _settings.AntiEntropyRoundInterval);
    }

    /// <summary>Starts a tombstone-GC pass if there is anything to confirm; false if not (the round is over then).</summary>
    private bool StartGc()
    {
        if (!_settings.TombstoneGc) return false;
        // Candidates of partitions whose slot 0 moved away are dropped: the new holder lists its own.
        _gcCandidates = _gcCandidates.Where(kv => _slot0Partitions.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        var inSync = _slot0Partitions.Where(p => Enumerable.Range(1, _settings.ReplicationFactor - 1)
            .All(j => _roundInSync.GetValueOrDefault((new SlotId(p, 0), new SlotId(p, j))))).ToList();
        if (inSync.Count == 0) return false;
        var state = Cluster.Get(Context.System).State;
        if (state.Unreachable.Count > 0 || state.Members.Any(m => m.Status != Akka.Cluster.MemberStatus.Up))
        {
            _lastGcSkipped = "not every member is Up and reachable";
            return false;
        }
        Context.ActorOf(TombstoneGc.PropsFor(++_nextExchangeId, _settings, _region, Self, inSync, _gcCandidates,
            state.Members.Select(m => m.Address).ToList()));
        return true;
    }

    private void OnGcResult(GcResult result)
    {
        var next = _gcCandidates.ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (partition, listed) in result.Candidates) next[partition] = listed;
        _gcCandidates = next;
        _tombstonesPurged += result.Purged;
        _lastGcSkipped = result.Skipped;
        if (result.Purged > 0) _log.Info("anti-entropy: purged {0} tombstone(s) confirmed on every replica", result.Purged);
        if (result.Skipped is not null) _log.Info("anti-entropy: tombstone GC skipped: {0}", result.Skipped);
        ScheduleNextRound();
    }

    private AntiEntropyStats Stats() => new(_settings.NodeName, _rounds, _lastRoundAt, _lastExchangeAt, _exchanges, _failed,
        _pairsChecked, _pairsInSync, _partitionsChecked, _partitionsInSync, _keysRepaired, _bytes, _pairs.Count,
        _readRepairedKeys, _readRepairedReplicas, _tombstonesPurged, _gcCandidates.Values.Sum(c => c.Count), _lastGcSkipped, _catchUps, _catchingUp.Count, _catchUpsIncomplete);
}
