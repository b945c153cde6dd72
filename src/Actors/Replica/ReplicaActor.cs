using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AkkaKv.AntiEntropy;
using AkkaKv.Configuration;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>
/// One replica slot of one partition (sharded entity <c>"{p}/{i}"</c>), persistent in this node's
/// journal. It acknowledges a write only from the persist handler, i.e. after the event is in the
/// journal. Versions are minted only here: the counter advances in memory at once, so concurrent
/// puts never share a dot, while reads see only durable state.
/// <code>
///   recovering ──journal replayed──▶ catching up ──every peer done or timed out──▶ serving
///                                     │ ReplicaSyncRequest(after) ──▶ each of the N-1 peers
///                                     │ ◀── ReplicaSyncPage: merge, persist, ask for the next page
///                                     │ reads and writes wait (stashed); peers' sync requests are served
/// </code>
/// The catch-up is what makes a slot that starts on a node with an empty or old journal for it
/// (a node that joined, a slot moved after a membership change, a restarted node) hold every
/// acknowledged write of its peers before it answers a read or coordinates a put.
///
/// Tombstone GC (see <see cref="TombstonesPurged"/>): a replica purges only tombstones that
/// anti-entropy confirmed on every replica, and counts purges in its GC generation. A replica
/// that learns of a later generation than its own (in a catch-up page, or from an exchange) has a
/// journal that missed a purge, so it may hold values whose tombstones are gone: it drops its keys
/// (<see cref="ReplicaReset"/>) and catches up again rather than resurrect them. Pages from a peer
/// at an earlier generation are not merged, for the same reason.
/// </summary>
public sealed class ReplicaActor : UntypedPersistentActor, IWithTimers
{
    private readonly KvSettings _settings;
    private readonly SlotId _slot;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ReplicaState _state = ReplicaState.Empty;
    // Anti-entropy: a hash tree over this slot's keys, kept up to date on every applied event
    // (Apply below), built once from the recovered state.
    private MerkleTree _tree;
    private long _minted;
    private int _eventsSinceSnapshot;
    private readonly Func<IActorRef?>? _peerRouter;
    private readonly Dictionary<int, Bytes?> _catchingUpFrom = new();
    private long _syncId;
    private bool _resetting;
    // Events handed to the journal whose handler has not run yet. DeferAsync is not used to wait
    // for them: when no event is persisted in the same command, Akka.Persistence sends the journal
    // an empty write, which Akka.Persistence.Sql fails on ("Sequence contains no elements"), and
    // repeated failures open the journal's circuit breaker for every replica of the node.
    private int _inFlightPersists;
    private bool _stopWhenPersisted;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="peerRouter">Resolves the shard region that reaches this slot's peers; null: no catch-up (single-replica specs).</param>
    public ReplicaActor(KvSettings settings, SlotId slot, TimeProvider time, Random random, Func<IActorRef?>? peerRouter = null)
    {
        _settings = settings;
        _slot = slot;
        _time = time;
        _random = random;
        _peerRouter = peerRouter;
        _tree = new MerkleTree(settings.MerkleShape);
    }

    public static Props PropsFor(KvSettings settings, string entityId, TimeProvider time, Func<IActorRef?>? peerRouter = null) =>
        Props.Create(() => new ReplicaActor(settings, SlotId.Parse(entityId), time, new Random(), peerRouter));

    private sealed record SyncTimeout(int Peer);

    public static string PersistenceIdOf(SlotId slot) => $"replica-{slot.Partition}-{slot.Index}";

    public override string PersistenceId => PersistenceIdOf(_slot);

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: ReplicaSnapshot s }:
                _state = ReplicaState.FromSnapshot(s);
                _eventsSinceSnapshot = 0;
                break;
            case RecoveryCompleted:
                _minted = _state.Counter;
                _tree = MerkleTree.Build(_settings.MerkleShape, _state.Keys);
                if (_state.ActorId is null)
                {
                    var id = ReplicaState.NewActorId(_settings.NodeName, _slot.Index, _random);
                    // Persist (not PersistAsync): commands wait until the actor id is durable.
                    Persist(new ReplicaIncarnated(id), e => _state = _state.Apply(e));
                }
                StartCatchUp();
                break;
            case ReplicaIncarnated or SiblingsMerged or TombstonesPurged or ReplicaReset:
                _state = _state.Apply(message);
                // Replayed events count toward the next snapshot, so a replica restarted more
                // often than every snapshot-every events still snapshots and recovery stays bounded.
                _eventsSinceSnapshot++;
                break;
        }
    }

    private void StartCatchUp()
    {
        var router = _peerRouter?.Invoke();
        if (router is null) return;
        _syncId = _random.NextInt64();
        for (var peer = 0; peer < _settings.ReplicationFactor; peer++)
        {
            if (peer == _slot.Index) continue;
            _catchingUpFrom[peer] = null;
            RequestPage(router, peer, after: null);
        }
    }

    private void RequestPage(IActorRef router, int peer, Bytes? after)
    {
        router.Tell(new SlotEnvelope(new SlotId(_slot.Partition, peer), new ReplicaSyncRequest(_syncId, after, _settings.SyncPageKeys)));
        Timers.StartSingleTimer(peer, new SyncTimeout(peer), _settings.SyncTimeout);
    }

    private void PeerDone(int peer)
    {
        Timers.Cancel(peer);
        _catchingUpFrom.Remove(peer);
        if (_catchingUpFrom.Count == 0 && !_resetting) Stash.UnstashAll();
    }

    private void OnSyncPage(ReplicaSyncPage page)
    {
        var peer = page.Slot.Index;
        if (page.RequestId != _syncId || !_catchingUpFrom.ContainsKey(peer)) return;
        if (page.GcGeneration > _state.GcGeneration)
        {
            Reset(page.GcGeneration, $"peer replica {peer}");
            return;
        }
        if (page.GcGeneration < _state.GcGeneration)
        {
            // The peer's journal missed a purge: its keys may include values whose tombstones this
            // replica purged. Not merged; the peer resets when it hears of this generation.
            _log.Info("replica {0}: peer replica {1} is at tombstone-GC generation {2}, behind this replica's {3}: not catching up from it",
                _slot, peer, page.GcGeneration, _state.GcGeneration);
            Sender.Tell(new GcGenerationSeen(_syncId, _state.GcGeneration));
            PeerDone(peer);
            return;
        }
        var events = page.Entries
            .Where(kv => !_state.Get(kv.Key).Merge(kv.Value).Equals(_state.Get(kv.Key)))
            .Select(kv => new SiblingsMerged(kv.Key, kv.Value))
            .ToList();
        if (events.Count == 0)
        {
            ContinueCatchUp(page);
            return;
        }
        var last = events[^1];
        _inFlightPersists += events.Count;
        PersistAll(events, e =>
        {
            Apply(e);
            AfterEvent();
            // The next page is asked for once this page's events are durable.
            if (ReferenceEquals(e, last)) ContinueCatchUp(page);
            Persisted();
        });
    }

    private void ContinueCatchUp(ReplicaSyncPage page)
    {
        // A reset since this page was asked for started a new catch-up.
        if (page.RequestId != _syncId || _resetting) return;
        var peer = page.Slot.Index;
        if (page.Done || page.Entries.Count == 0) PeerDone(peer);
        else if (_peerRouter?.Invoke() is { } router)
        {
            _catchingUpFrom[peer] = page.Entries[^1].Key;
            RequestPage(router, peer, page.Entries[^1].Key);
        }
        else PeerDone(peer);
    }

    /// <summary>Applies a durable event to the state and keeps the Merkle tree in step.</summary>
    private void Apply(object e)
    {
        _state = _state.Apply(e);
        switch (e)
        {
            case SiblingsMerged m:
                _tree.Set(m.Key, _state.Get(m.Key));
                break;
            case TombstonesPurged p:
                foreach (var entry in p.Entries)
                    if (!_state.Keys.ContainsKey(entry.Key)) _tree.Remove(entry.Key);
                break;
            case ReplicaReset:
                _tree = new MerkleTree(_settings.MerkleShape);
                break;
        }
    }

    /// <summary>
    /// A peer is at a later GC generation: this journal missed a purge. Drops every key (persisted,
    /// so a restart does not bring them back) and catches up from the peers again; commands wait.
    /// </summary>
    private void Reset(long generation, string seenAt)
    {
        _log.Warning("replica {0}: {1} is at tombstone-GC generation {2}, this replica's journal only at {3}: it missed a purge and may hold " +
            "values of deleted keys, so it drops its {4} key(s) and catches up from its peers again", _slot, seenAt, generation, _state.GcGeneration, _state.Keys.Count);
        foreach (var peer in _catchingUpFrom.Keys.ToList()) Timers.Cancel(peer);
        _catchingUpFrom.Clear();
        // Commands wait from now until the new catch-up is done; the persist handler starts it.
        _resetting = true;
        _inFlightPersists++;
        Persist(new ReplicaReset(generation), e =>
        {
            Apply(e);
            _resetting = false;
            AfterEvent();
            StartCatchUp();
            if (_catchingUpFrom.Count == 0) Stash.UnstashAll();
            Persisted();
        });
    }

    private void Persisted()
    {
        _inFlightPersists--;
        if (_stopWhenPersisted && _inFlightPersists == 0) Context.Stop(Self);
    }

    private void ServeSyncRequest(ReplicaSyncRequest request)
    {
        var entries = new List<KeyValuePair<Bytes, SiblingSet>>();
        var done = true;
        foreach (var kv in _state.Keys)
        {
            if (request.After is not null && kv.Key.CompareTo(request.After) <= 0) continue;
            if (entries.Count >= request.MaxKeys) { done = false; break; }
            entries.Add(kv);
        }
        Sender.Tell(new ReplicaSyncPage(request.RequestId, _slot, ValueList.From(entries), done, _state.GcGeneration));
    }

    protected override void OnCommand(object message)
    {
        if ((_catchingUpFrom.Count > 0 || _resetting) && message is ReplicaPut or ReplicaMerge or ReplicaRead or MerkleNodesRequest or MerkleLeavesRequest
                or ReplicaFetch or ListTombstones or PurgeTombstones)
        {
            Stash.Stash();
            return;
        }
        switch (message)
        {
            case ReplicaSyncRequest request:
                ServeSyncRequest(request);
                break;
            case ReplicaSyncPage page:
                OnSyncPage(page);
                break;
            case SyncTimeout t when _catchingUpFrom.ContainsKey(t.Peer):
                _log.Warning("replica {0}: peer replica {1} did not answer catch-up within {2}; serving without it", _slot, t.Peer, _settings.SyncTimeout);
                PeerDone(t.Peer);
                break;
            case SyncTimeout:
                break;
            case ReplicaPut put:
                HandlePut(put);
                break;
            case ReplicaMerge merge:
                HandleMerge(merge);
                break;
            case ReplicaRead read:
                Sender.Tell(new ReplicaReadResult(read.RequestId, _slot, _settings.NodeName, _state.Get(read.Key)));
                break;
            case MerkleNodesRequest request:
                Sender.Tell(AntiEntropyReplies.Nodes(request, _tree, _slot, _settings.NodeName, _state.GcGeneration));
                break;
            case GcGenerationSeen seen when seen.GcGeneration > _state.GcGeneration && !_resetting:
                Reset(seen.GcGeneration, "a peer replica");
                break;
            case GcGenerationSeen:
                break;
            case ListTombstones list:
                Sender.Tell(new TombstoneList(list.RequestId, _slot, _state.GcGeneration, ValueList.From(_state.Tombstones(list.Max))));
                break;
            case PurgeTombstones purge:
                HandlePurge(purge);
                break;
            case MerkleLeavesRequest request:
                Sender.Tell(AntiEntropyReplies.Leaves(request, _tree, _slot));
                break;
            case ReplicaFetch fetch:
                Sender.Tell(new ReplicaFetched(fetch.RequestId, _slot,
                    ValueList.From(fetch.Keys.Select(k => KeyValuePair.Create(k, _state.Get(k))))));
                break;
            case StopReplica:
                // Stops after every in-flight persist handler has run, so pending writes are still acked.
                if (_inFlightPersists == 0) Context.Stop(Self);
                else _stopWhenPersisted = true;
                break;
            case SaveSnapshotSuccess ok:
                DeleteMessages(ok.Metadata.SequenceNr);
                DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
                break;
            case SaveSnapshotFailure fail:
                _log.Warning(fail.Cause, "replica {0}: snapshot failed; recovery replays more events", _slot);
                break;
            case DeleteMessagesSuccess or DeleteSnapshotsSuccess:
                break;
            case DeleteMessagesFailure or DeleteSnapshotsFailure:
                _log.Warning("replica {0}: cleanup after snapshot failed: {1}", _slot, message);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandlePut(ReplicaPut put)
    {
        var actorId = _state.ActorId!;
        _minted = Math.Max(_minted, _state.Counter) + 1;
        var dot = new Dot(actorId, _minted);
        var evt = _state.PutEvent(put.Key, dot, put.Value, put.Context, _time.GetUtcNow().ToUnixTimeMilliseconds());
        var replyTo = Sender;
        if (_state.CheckPutLimits(evt, _settings.MaxSiblings, _settings.MaxBytesPerKey) is { } reason)
        {
            // The dot was never handed out or persisted; skipping its counter is harmless.
            replyTo.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, reason));
            return;
        }
        _inFlightPersists++;
        PersistAsync(evt, e =>
        {
            Apply(e);
            var result = _state.Get(e.Key);
            var written = result.Count == 1 ? result.Context : VersionVector.Empty;
            replyTo.Tell(new ReplicaPutDone(put.RequestId, _slot, _settings.NodeName, result, written));
            if (IsLate(put)) ReplicateLatePut(put, result);
            AfterEvent();
            Persisted();
        });
    }

    /// <summary>
    /// Minted so long after the coordinator sent it (a slot still catching up, a region waiting for
    /// a shard home) that the coordinator has likely given up on this replica, had another one mint
    /// the write, and will not replicate this version. Half the coordinating-replica timeout leaves
    /// room for clock skew between nodes; replicating when it was not needed costs only a merge
    /// that changes nothing.
    /// </summary>
    private bool IsLate(ReplicaPut put) =>
        put.SentAtMs > 0 && _time.GetUtcNow().ToUnixTimeMilliseconds() - put.SentAtMs >= _settings.CoordinatingReplicaTimeout.TotalMilliseconds / 2;

    /// <summary>Sends a late-minted version to the partition's other slots, so that it is not left on this replica alone.</summary>
    private void ReplicateLatePut(ReplicaPut put, SiblingSet written)
    {
        if (_peerRouter?.Invoke() is not { } router) return;
        for (var peer = 0; peer < _settings.ReplicationFactor; peer++)
            if (peer != _slot.Index)
                router.Tell(new SlotEnvelope(new SlotId(_slot.Partition, peer), new ReplicaMerge(put.RequestId, put.Key, written, AckWanted: false)));
    }

    private void HandleMerge(ReplicaMerge merge)
    {
        var current = _state.Get(merge.Key);
        var replyTo = Sender;
        if (current.Merge(merge.Siblings).Equals(current))
        {
            // Nothing new: already durable here, no event needed.
            if (merge.AckWanted) replyTo.Tell(new ReplicaMergeDone(merge.RequestId, _slot, _settings.NodeName));
            return;
        }
        _inFlightPersists++;
        PersistAsync(new SiblingsMerged(merge.Key, merge.Siblings), e =>
        {
            Apply(e);
            if (merge.AckWanted) replyTo.Tell(new ReplicaMergeDone(merge.RequestId, _slot, _settings.NodeName));
            AfterEvent();
            Persisted();
        });
    }

    private void HandlePurge(PurgeTombstones purge)
    {
        var replyTo = Sender;
        var purgeable = purge.Entries.Where(_state.IsPurgeable).ToList();
        if (purgeable.Count == 0 && purge.GcGeneration <= _state.GcGeneration)
        {
            replyTo.Tell(new TombstonesPurgedAck(purge.RequestId, _slot, 0));
            return;
        }
        // Persisted even when no listed key is purgeable here: the generation must be durable.
        _inFlightPersists++;
        PersistAsync(new TombstonesPurged(Math.Max(purge.GcGeneration, _state.GcGeneration), ValueList.From(purgeable)), e =>
        {
            Apply(e);
            replyTo.Tell(new TombstonesPurgedAck(purge.RequestId, _slot, purgeable.Count));
            AfterEvent();
            Persisted();
        });
    }

    private void AfterEvent()
    {
        if (++_eventsSinceSnapshot < _settings.SnapshotEvery) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_state.ToSnapshot());
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "replica {0}: journal write failed at seqNr {1}; the write was not acknowledged, the replica restarts from its journal", _slot, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }
}
