using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Merkle;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.AntiEntropy;

/// <summary>What one tombstone-GC pass found and did.</summary>
/// <param name="Candidates">Per partition checked: slot 0's tombstones as listed in this pass (not purged yet), to be confirmed by the next round.</param>
/// <param name="Purged">Tombstones dropped on slot 0 in this pass.</param>
/// <param name="Skipped">Why nothing was purged (a hint held, a member not answering), or null.</param>
internal sealed record GcResult(IReadOnlyDictionary<int, IReadOnlySet<MerkleEntry>> Candidates, long Purged, string? Skipped);

/// <summary>
/// One tombstone-GC pass (a child of the node's <see cref="AntiEntropyActor"/>, started at the end
/// of a round), then stops. For each partition whose slot-0 pairs were all in sync in that round:
/// <code>
///   every member's hint actor: none holds a hint?  (else: skip, purge nothing)
///   slot 0 ── ListTombstones ──▶ (generation g, tombstones T)
///   purge = T ∩ the previous pass's listing (same key, same digest)
///   every slot ── PurgeTombstones(g + 1, purge) ──▶ acked
/// </code>
/// Why that is safe: a key's sibling set only grows by merges, so a tombstone slot 0 held
/// unchanged at two listings it held all the time in between; the round in between found every
/// other slot's tree equal to slot 0's, so every replica held the tombstone. No older version of
/// the key can come back: hints are the only copies kept outside the replicas (none held), a
/// round's worth of time has passed for in-flight merges, and a journal that missed the purge
/// (a node away, a slot moving back) is behind in generation and resets instead of merging.
/// </summary>
internal sealed class TombstoneGc : ReceiveActor, IWithTimers
{
    private readonly long _id;
    private readonly KvSettings _settings;
    private readonly IActorRef _region;
    private readonly IActorRef _replyTo;
    private readonly Queue<int> _partitions;
    private readonly IReadOnlyDictionary<int, IReadOnlySet<MerkleEntry>> _previous;
    private readonly IReadOnlyCollection<Address> _members;
    private int _hintsPending;
    private readonly Dictionary<int, IReadOnlySet<MerkleEntry>> _candidates = new();
    private int _partition;
    private int _acksPending;
    private long _purged;

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class StepTimeout
    {
        public static readonly StepTimeout Instance = new();
    }

    public TombstoneGc(long id, KvSettings settings, IActorRef region, IActorRef replyTo, IReadOnlyCollection<int> partitions,
        IReadOnlyDictionary<int, IReadOnlySet<MerkleEntry>> previous, IReadOnlyCollection<Address> members)
    {
        _id = id;
        _settings = settings;
        _region = region;
        _replyTo = replyTo;
        _partitions = new Queue<int>(partitions);
        _previous = previous;
        _members = members;
        _hintsPending = members.Count;
        Receive<HintStats>(OnHints);
        Receive<TombstoneList>(l => l.RequestId == _id, OnList);
        Receive<TombstonesPurgedAck>(a => a.RequestId == _id, OnAck);
        Receive<StepTimeout>(_ => Finish(_hintsPending > 0
            ? $"{_hintsPending} of {_members.Count} members did not report their hints within {_settings.AntiEntropyExchangeTimeout.TotalSeconds:0.#} s"
            : $"partition {_partition} did not answer within {_settings.AntiEntropyExchangeTimeout.TotalSeconds:0.#} s"));
    }

    public static Props PropsFor(long id, KvSettings settings, IActorRef region, IActorRef replyTo, IReadOnlyCollection<int> partitions,
        IReadOnlyDictionary<int, IReadOnlySet<MerkleEntry>> previous, IReadOnlyCollection<Address> members) =>
        Props.Create(() => new TombstoneGc(id, settings, region, replyTo, partitions, previous, members));

    protected override void PreStart()
    {
        // Hints are the only copies of writes kept outside the replicas: while any member holds
        // one, it may be an older version of a tombstoned key, and purging could let it back.
        foreach (var member in _members)
            Context.ActorSelection(NodeActors.PathOn(member, NodeActors.Hints)).Tell(GetHintStats.Instance);
        Timers.StartSingleTimer("step", StepTimeout.Instance, _settings.AntiEntropyExchangeTimeout);
        if (_hintsPending == 0) NextPartition();
    }

    private void OnHints(HintStats stats)
    {
        if (_hintsPending == 0) return;
        _hintsPending--;
        if (stats.Targets.Sum(t => t.Held) is var held and > 0)
        {
            Finish($"{stats.Node} holds {held} hint(s)");
            return;
        }
        if (_hintsPending == 0) NextPartition();
    }

    private void NextPartition()
    {
        if (!_partitions.TryDequeue(out _partition))
        {
            Finish(null);
            return;
        }
        _region.Tell(new SlotEnvelope(new SlotId(_partition, 0), new ListTombstones(_id, _settings.TombstoneGcMaxPerPartition)));
        Timers.StartSingleTimer("step", StepTimeout.Instance, _settings.AntiEntropyExchangeTimeout);
    }

    private void OnList(TombstoneList list)
    {
        if (list.Slot.Partition != _partition) return;
        var listed = list.Entries.ToHashSet();
        var confirmed = _previous.GetValueOrDefault(_partition) is { } previous ? listed.Where(previous.Contains).ToList() : [];
        listed.ExceptWith(confirmed);
        _candidates[_partition] = listed;
        if (confirmed.Count == 0)
        {
            NextPartition();
            return;
        }
        var purge = new PurgeTombstones(_id, list.GcGeneration + 1, ValueList.From(confirmed));
        _acksPending = _settings.ReplicationFactor;
        for (var slot = 0; slot < _settings.ReplicationFactor; slot++)
            _region.Tell(new SlotEnvelope(new SlotId(_partition, slot), purge));
        Timers.StartSingleTimer("step", StepTimeout.Instance, _settings.AntiEntropyExchangeTimeout);
    }

    private void OnAck(TombstonesPurgedAck ack)
    {
        if (ack.Slot.Partition != _partition) return;
        if (ack.Slot.Index == 0) _purged += ack.Purged;
        if (--_acksPending == 0) NextPartition();
    }

    private void Finish(string? skipped)
    {
        _replyTo.Tell(new GcResult(_candidates, _purged, skipped));
        Context.Stop(Self);
    }
}
