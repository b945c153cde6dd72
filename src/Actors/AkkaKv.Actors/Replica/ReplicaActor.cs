using AkkaKv.Listing;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AkkaKv.AntiEntropy;
using AkkaKv.Configuration;
using AkkaKv.Observability;
using AkkaKv.Merkle;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>
/// One replica slot of one partition (sharded entity <c>"{p}/{i}"</c>), persistent in this node's
/// journal. It acknowledges a write only from the persist handler, i.e. after the event is in the
/// journal. Versions are minted only here: the counter advances in memory at once, so concurrent
/// puts never share a dot, while reads see only durable state.
/// <code>
///   recovering ──journal replayed──▶ catching up ──every peer in sync, or abandoned──▶ serving
///                                     │ a Merkle exchange (MerkleExchange) with each of the
///                                     │ N-1 peers, again until nothing is left to repair:
///                                     │ only differing keys move, both ways, merged by clock
///                                     │ reads, puts and tombstone GC wait (stashed); merges and
///                                     │ peers' anti-entropy questions are served
/// </code>
/// The catch-up is what makes a slot that starts on a node with an empty or old journal for it
/// (a node that joined, a slot moved after a membership change, a restarted node, a lost SQLite
/// file) hold every
/// acknowledged write of its peers before it answers a read or coordinates a put.
///
/// Tombstone GC (see <see cref="TombstonesPurged"/>): a replica purges only tombstones that
/// anti-entropy confirmed on every replica, and counts purges in its GC generation. A replica
/// that learns of a later generation than its own (from a catch-up exchange, or from an
/// anti-entropy exchange) has a journal that missed a purge, so it may hold values whose
/// tombstones are gone: it drops its keys (<see cref="ReplicaReset"/>) and catches up again rather
/// than resurrect them. An exchange copies nothing between two replicas at different generations,
/// for the same reason.
/// </summary>
internal sealed class ReplicaActor : UntypedPersistentActor, IWithTimers
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
    // Catch-up: the plan (pure: which peer next, when to go again, reset or serve) and the running exchange.
    private CatchUpPlan? _catchUp;
    /// <summary>Peers the current catch-up gave up on (they did not answer in time).</summary>
    private int _catchUpPeersAbandoned;
    private IActorRef? _catchUpExchange;
    private long _catchUpStarted;
    private (long Keys, long Bytes) _catchUpCarried;
    private int _catchUpExchanges;
    private bool _resetting;
    // Events handed to the journal whose handler has not run yet. DeferAsync is not used to wait
    // for them: when no event is persisted in the same command, Akka.Persistence sends the journal
    // an empty write, which Akka.Persistence.Sql fails on ("Sequence contains no elements"), and
    // repeated failures open the journal's circuit breaker for every replica of the node.
    private int _inFlightPersists;

    /// <summary>
    /// Per key, what this replica holds with the versions it has minted but not yet persisted, and
    /// how many those are: the next put or increment of the key mints from it, so an increment
    /// pipelined behind another counts from it (instead of both counting from the same state and one
    /// being lost), and pipelined blind writes supersede each other.
    /// </summary>
    private readonly Dictionary<Bytes, (SiblingSet Held, int Pending)> _unpersisted = new();
    private bool _stopWhenPersisted;
    // The request id of the last question to the peers about their GC generation (0: none).
    private long _generationCheck;
    private readonly Dictionary<int, long> _peerGenerations = [];

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="peerRouter">Resolves the shard region that reaches this slot's peers; null: no catch-up (single-replica specs).</param>
    public ReplicaActor(KvSettings settings, SlotId slot, TimeProvider time, Random random, Func<IActorRef?>? peerRouter = null)
    {
        _settings = settings;
        _slot = slot;
        _time = time;
        _random = random;
        _peerRouter = peerRouter;
        _tree = new MerkleTree(MerkleShape.Of(settings));
        // A snapshot offered at recovery resets this; without one, the first snapshot comes early
        // by the slot's stagger, so a node's slots do not all snapshot at the same moment.
        _eventsSinceSnapshot = SnapshotSchedule.InitialCount(slot, settings.SnapshotEvery);
    }

    public static Props PropsFor(KvSettings settings, string entityId, TimeProvider time, Func<IActorRef?>? peerRouter = null) =>
        Props.Create(() => new ReplicaActor(settings, SlotId.Parse(entityId), time, new Random(), peerRouter));

    public static string PersistenceIdOf(SlotId slot) => $"replica-{slot.Partition}-{slot.Index}";

    public override string PersistenceId => PersistenceIdOf(_slot);

    protected override void PreStart()
    {
        base.PreStart();
        TellCatchUpState(true); // recovering: not serving until recovered and caught up
    }

    protected override void PostStop()
    {
        TellCatchUpState(false);
        base.PostStop();
    }

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: ReplicaSnapshot s }:
                _state = ReplicaState.FromSnapshot(s);
                _eventsSinceSnapshot = 0;
                break;
            case RecoveryCompleted:
                _tree = MerkleTree.Build(MerkleShape.Of(_settings), _state.Keys);
                // A new incarnation at every start, a fresh journal's first included: nothing in a
                // journal proves it is the newest copy of itself (see ReplicaState).
                Incarnate();
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

    /// <summary>
    /// Starts minting under a fresh id. Persist (not PersistAsync): commands wait until the id is
    /// durable, so no version is minted under an id a restart would not know.
    /// </summary>
    private void Incarnate()
    {
        var incarnation = _state.NextIncarnation(_settings.NodeName, _slot.Index, _random);
        Persist(incarnation, e =>
        {
            _state = _state.Apply(e);
            _minted = _state.Counter;
        });
    }

    /// <summary>
    /// Catch-up: a Merkle exchange (<see cref="MerkleExchange"/>, this slot against a peer slot)
    /// with each of the N-1 peers in turn, as <see cref="CatchUpPlan"/> decides. Only the keys that
    /// differ move, both ways: what the peers acknowledged while this journal was away (or all of
    /// it, for an empty journal), and what only this journal has.
    /// </summary>
    private void StartCatchUp()
    {
        if (_peerRouter?.Invoke() is null) { TellCatchUpState(false); return; }
        _catchUpStarted = _time.GetTimestamp();
        _catchUpExchanges = 0;
        var (plan, first) = CatchUpPlan.Start(_settings.ReplicationFactor, _slot.Index).First();
        // A catch-up that restarts after a reset reports what the first attempt repaired too.
        plan = plan with { KeysRepaired = _catchUpCarried.Keys, BytesExchanged = _catchUpCarried.Bytes };
        _catchUpCarried = (0, 0);
        if (first.Step == CatchUpStep.Serve) { TellCatchUpState(false); return; } // no peer (N = 1): nothing to catch up with
        TellCatchUpState(true);
        _catchUp = plan;
        Follow(first);
    }

    private bool CatchingUp => _catchUp is not null;

    private void OnCatchUpExchange(ExchangeResult result)
    {
        if (_catchUp is null || _catchUpExchange is null || !_catchUpExchange.Equals(Sender)) return;
        _catchUpExchange = null;
        var outcome = new CatchUpOutcome(result.B.Index, result.InSync, result.KeysRepaired, result.BytesExchanged, result.Error, result.GenerationAhead);
        var (plan, next) = _catchUp.After(outcome, _state.GcGeneration);
        _catchUp = plan;
        _catchUpExchanges++;
        if (next.Step == CatchUpStep.Exchange) TellCatchUpState(true);
        if (next.Abandoned is { } why)
        {
            // Not a warning: at a cluster's start every slot's peers are still starting, and a
            // slot serving before every peer answered is counted in the status (anti-entropy
            // repairs the difference); an unreachable peer shows there as such.
            _catchUpPeersAbandoned++;
            _log.Debug("replica {0}: catch-up with peer replica {1} abandoned ({2}); serving without it (anti-entropy retries)", _slot, result.B.Index, why);
        }
        Follow(next);
    }

    private void Follow(CatchUpDecision decision)
    {
        switch (decision.Step)
        {
            case CatchUpStep.Exchange when _peerRouter?.Invoke() is { } router:
                _catchUpExchange = Context.ActorOf(MerkleExchange.PropsFor(_random.NextInt64(), _slot, new SlotId(_slot.Partition, decision.Peer),
                    _settings, router, Self, _settings.CatchUpTimeout, _settings.CatchUpMaxKeys));
                break;
            case CatchUpStep.Reset:
                // This journal missed a purge: reset now, before anything is served from it.
                Reset(decision.Generation, "a majority of the partition's replicas");
                break;
            default:
                FinishCatchUp();
                break;
        }
    }

    private void FinishCatchUp()
    {
        var plan = _catchUp;
        _catchUp = null;
        Stash.UnstashAll();
        TellCatchUpState(false);
        if (plan is null) return;
        var took = _time.GetElapsedTime(_catchUpStarted);
        if (plan.KeysRepaired > 0)
            _log.Info("replica {0}: caught up in {1:0.0} s, {2} key(s) repaired, {3} bytes exchanged", _slot, took.TotalSeconds, plan.KeysRepaired, plan.BytesExchanged);
        Context.ActorSelection(NodeActors.LocalPath(NodeActors.AntiEntropy)).Tell(new CatchUpDone(_slot, plan.KeysRepaired, plan.BytesExchanged, _catchUpPeersAbandoned));
        _catchUpPeersAbandoned = 0;
    }

    /// <summary>Tells the node's anti-entropy actor whether this slot is still recovering or catching up (the status counts them).</summary>
    private void TellCatchUpState(bool catchingUp) =>
        Context.ActorSelection(NodeActors.LocalPath(NodeActors.AntiEntropy)).Tell(catchingUp && _catchUp is { } plan
            ? new SlotCatchUpState(_slot, true, _catchUpExchanges, plan.KeysRepaired, plan.BytesExchanged)
            : new SlotCatchUpState(_slot, catchingUp));

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
                _tree = new MerkleTree(MerkleShape.Of(_settings));
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
        if (_catchUpExchange is not null) Context.Stop(_catchUpExchange);
        _catchUpExchange = null;
        if (_catchUp is not null) _catchUpCarried = (_catchUp.KeysRepaired, _catchUp.BytesExchanged);
        _catchUp = null;
        // Commands wait from now until the new catch-up is done; the persist handler starts it.
        _resetting = true;
        _inFlightPersists++;
        Persist(new ReplicaReset(generation), e =>
        {
            Apply(e);
            // A new id too: the keys dropped may have held this id's counter entries above what the
            // peers hold, and an entry restarted lower under the same id would be hidden under them.
            Incarnate();
            _resetting = false;
            AfterEvent();
            StartCatchUp();
            if (!CatchingUp) Stash.UnstashAll();
            Persisted();
        });
    }

    private void Persisted()
    {
        _inFlightPersists--;
        if (_stopWhenPersisted && _inFlightPersists == 0) Context.Stop(Self);
    }

    protected override void OnCommand(object message)
    {
        // While catching up, reads, puts and tombstone GC wait; merges and anti-entropy questions
        // are served (merging commutes, and an exchange only ever adds what a side lacks).
        if ((CatchingUp || _resetting) && message is ReplicaPut { MayDecline: true } decline)
        {
            // The coordinator has another replica to try: better than waiting for this catch-up.
            Sender.Tell(new ReplicaNotReady(decline.RequestId, _slot, _settings.NodeName));
            return;
        }
        if ((CatchingUp || _resetting) && message is ReplicaPut or ReplicaRead or ListTombstones or PurgeTombstones)
        {
            Stash.Stash();
            return;
        }
        switch (message)
        {
            case ExchangeResult result:
                OnCatchUpExchange(result);
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
            case ReplicaScan scan:
                var match = scan.Match is { } pattern && !KeyPattern.MatchesAll(pattern.Span) ? pattern : null;
                var slice = KeyScan.Slice(_state.Keys, scan.From, KeyScan.PageSize(scan.Count), key => match is null || KeyPattern.Matches(match.Span, key.Span));
                Sender.Tell(new ReplicaScanned(scan.RequestId, _slot, ValueList.From(slice.Entries), slice.Bound));
                break;
            case GetSlotSize size:
                Sender.Tell(new SlotSize(size.RequestId, _slot, _state.Keys.Count, _state.Keys.Sum(kv => FetchPage.SizeOf(kv.Key, kv.Value))));
                break;
            case MerkleNodesRequest request:
                Sender.Tell(MerkleReplies.Nodes(request, _tree, _slot, _settings.NodeName, _state.GcGeneration));
                break;
            case GcGenerationSeen seen when seen.GcGeneration > _state.GcGeneration && !_resetting:
                CheckGenerationWithPeers(seen.GcGeneration);
                break;
            case GcGenerationSeen:
                break;
            case TombstoneList peer when peer.RequestId == _generationCheck && peer.RequestId != 0:
                OnPeerGeneration(peer);
                break;
            case ListTombstones list:
                Sender.Tell(new TombstoneList(list.RequestId, _slot, _state.GcGeneration, ValueList.From(_state.Tombstones(list.Max, _time.GetUtcNow().ToUnixTimeMilliseconds()))));
                break;
            case PurgeTombstones purge:
                HandlePurge(purge);
                break;
            case MerkleLeavesRequest request:
                Sender.Tell(MerkleReplies.Leaves(request, _tree, _slot, _settings.MaxRepairReplyBytes));
                break;
            case ReplicaFetch fetch:
                // Paged by bytes (limits.max-repair-reply-bytes): a prefix of the keys asked, at
                // least the first, so the reply fits a remoting frame whatever the value sizes.
                var reply = FetchPage.Page(fetch.Keys.Select(k => KeyValuePair.Create(k, _state.Get(k))), _settings.MaxRepairReplyBytes,
                    fetch.Except?.ToHashSet());
                Sender.Tell(new ReplicaFetched(fetch.RequestId, _slot, ValueList.From(reply.Entries), reply.Truncated));
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

    /// <summary>
    /// A notice that a peer is ahead in tombstone-GC generation is a reason to ask, not to reset:
    /// resetting drops every key, so the replica asks its own peer slots (through the shard region)
    /// for their generation and resets only to one a majority of the partition's replicas reports
    /// (<see cref="PeerInput.ConfirmedGeneration"/>). A forged notice with a huge generation costs a
    /// question to each peer; one peer with a generation raised by forged purges is not enough.
    /// </summary>
    private void CheckGenerationWithPeers(long noticed)
    {
        if (_peerRouter?.Invoke() is not { } router) return;
        _generationCheck = _random.NextInt64(1, long.MaxValue);
        _peerGenerations.Clear();
        _log.Info("replica {0}: told a peer is at tombstone-GC generation {1} (this replica: {2}); asking the peers", _slot, noticed, _state.GcGeneration);
        for (var i = 0; i < _settings.ReplicationFactor; i++)
            if (i != _slot.Index) router.Tell(new SlotEnvelope(new SlotId(_slot.Partition, i), new ListTombstones(_generationCheck, 0)));
    }

    private void OnPeerGeneration(TombstoneList peer)
    {
        var isPeer = peer.Slot.Partition == _slot.Partition && peer.Slot.Index != _slot.Index
            && PeerInput.CheckSlot(peer.Slot, _settings.PartitionCount, _settings.ReplicationFactor) is null;
        if (!isPeer || _resetting) return;
        _peerGenerations[peer.Slot.Index] = peer.GcGeneration;
        if (PeerInput.ConfirmedGeneration(_peerGenerations.Values, _state.GcGeneration, _settings.ReplicationFactor) is not { } confirmed) return;
        _generationCheck = 0;
        Reset(confirmed, $"a majority of the partition's replicas ({string.Join(", ", _peerGenerations.Select(g => $"replica {g.Key} at {g.Value}"))})");
    }

    private void HandlePut(ReplicaPut put)
    {
        if ((PeerInput.CheckPut(put.Key, put.Value, put.Context, _settings)
             ?? (put.HashOps is { } hashOps ? Configuration.Limits.CheckHashOps(hashOps, _settings) : null)
             ?? (put.Transaction is { } txn ? Configuration.Limits.CheckKeyOps(txn, _settings, fromClient: false) : null)) is { } invalid)
        {
            _log.Warning("replica {0}: refused an invalid put from {1}: {2}", _slot, Sender.Path.Address, invalid);
            Sender.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, "invalid put: " + invalid));
            return;
        }
        var actorId = _state.ActorId!;
        if (_state.CheckContextClaims(put.Context, _minted) is { } claim)
        {
            _log.Warning("replica {0}: refused a put of a key whose context claims more than this replica minted: {1}", _slot, claim);
            Sender.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, claim));
            return;
        }
        if (_state.NextCounter(_minted) is not { } counter)
        {
            const string exhausted = "this replica's version counter is exhausted; it is starting a new incarnation: retry the write";
            _log.Warning("replica {0}: {1}", _slot, exhausted);
            Sender.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, exhausted));
            Incarnate();
            return;
        }
        var dot = new Dot(actorId, counter);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var held = _unpersisted.TryGetValue(put.Key, out var pending) ? _state.Get(put.Key).Merge(pending.Held) : _state.Get(put.Key);
        SiblingsMerged? evt;
        long? number = null;
        ValueList<long>? results = null;
        ValueList<Transactions.KeyOpResult>? outcomes = null;
        var replyTo = Sender;
        if (put.Transaction is { } txnOps)
        {
            var minted = _state.TransactionEvent(put.Key, held, dot, txnOps, now, out var made);
            if (Configuration.Limits.CheckResults(made, _settings) is { } tooLarge)
            {
                replyTo.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, tooLarge));
                return;
            }
            outcomes = ValueList.From(made);
            evt = minted;
        }
        else if (put.HashOps is { } ops)
        {
            if (ReplicaState.HashEvent(put.Key, held, dot, ops, now, out var minted, out var made) is { } refused)
            {
                replyTo.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, refused));
                return;
            }
            results = ValueList.From(made);
            evt = minted;
        }
        else if (put.IncrementBy is { } delta)
        {
            if (_state.IncrementEvent(put.Key, held, dot, delta, now, out var minted, out var made, put.SetsDeadline ? put.ExpiresAtMs : null) is { } refused)
            {
                // Nothing minted (not an integer, or an overflow): Redis's error, and the key is unchanged.
                replyTo.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, refused));
                return;
            }
            evt = minted!;
            number = made;
        }
        else evt = _state.PutEvent(put.Key, dot, put.Value, put.Context, now, put.ExpiresAtMs, held);
        if (evt is null)
        {
            // Operations that changed nothing (only reads, HDEL of absent fields, EXPIRE of a key gone meanwhile): nothing to mint or persist.
            replyTo.Tell(new ReplicaPutDone(put.RequestId, _slot, _settings.NodeName, _state.Get(put.Key), VersionVector.Empty, Results: results, Outcomes: outcomes));
            return;
        }
        if (_state.CheckPutLimits(evt, _settings.MaxSiblings, _settings.MaxBytesPerKey, held) is { } reason)
        {
            // The dot was never handed out or persisted; skipping its counter is harmless.
            replyTo.Tell(new ReplicaPutRejected(put.RequestId, _slot, _settings.NodeName, reason));
            return;
        }
        _minted = counter;
        _unpersisted[put.Key] = (held.Merge(evt.Siblings), pending.Pending + 1);
        _inFlightPersists++;
        var persistStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAsync(evt, e =>
        {
            KvMetrics.JournalWritten(persistStarted);
            Apply(e);
            if (_unpersisted.TryGetValue(e.Key, out var left))
            {
                if (left.Pending <= 1) _unpersisted.Remove(e.Key);
                else _unpersisted[e.Key] = left with { Pending = left.Pending - 1 };
            }
            var result = _state.Get(e.Key);
            var written = result.Count == 1 ? result.Context : VersionVector.Empty;
            replyTo.Tell(new ReplicaPutDone(put.RequestId, _slot, _settings.NodeName, result, written, number, results, outcomes));
            if (IsLate(put)) ReplicateLatePut(put, result);
            AfterEvent();
            Persisted();
        });
    }

    /// <summary>
    /// The journal refused an event (it could not serialize it): nothing was stored and the write's
    /// coordinator times out. The key's versions minted but not persisted are forgotten, so no later
    /// write counts from the refused one.
    /// </summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        if (@event is SiblingsMerged merged) _unpersisted.Remove(merged.Key);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    /// <summary>See <see cref="LatePut.IsLate"/>.</summary>
    private bool IsLate(ReplicaPut put) =>
        LatePut.IsLate(put.SentAtMs, _time.GetUtcNow().ToUnixTimeMilliseconds(), _settings.CoordinatingReplicaTimeout);

    /// <summary>Sends a late-minted version to the partition's other slots, so that it is not left on this replica alone.</summary>
    private void ReplicateLatePut(ReplicaPut put, SiblingSet written)
    {
        if (_peerRouter?.Invoke() is not { } router) return;
        foreach (var peer in LatePut.Peers(_settings.ReplicationFactor, _slot.Index))
            router.Tell(new SlotEnvelope(new SlotId(_slot.Partition, peer), new ReplicaMerge(put.RequestId, put.Key, written, AckWanted: false)));
    }

    private void HandleMerge(ReplicaMerge merge)
    {
        if (PeerInput.CheckVersions(merge.Key, merge.Siblings) is { } invalid)
        {
            // Dropped unacknowledged: no honest node of this configuration sends it.
            _log.Warning("replica {0}: dropped invalid versions from {1}: {2}", _slot, Sender.Path.Address, invalid);
            return;
        }
        var current = _state.Get(merge.Key);
        var replyTo = Sender;
        if (current.Merge(merge.Siblings).Equals(current))
        {
            // Nothing new: already durable here, no event needed.
            if (merge.AckWanted) replyTo.Tell(new ReplicaMergeDone(merge.RequestId, _slot, _settings.NodeName));
            return;
        }
        _inFlightPersists++;
        var persistStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        PersistAsync(new SiblingsMerged(merge.Key, merge.Siblings), e =>
        {
            KvMetrics.JournalWritten(persistStarted);
            Apply(e);
            if (merge.AckWanted) replyTo.Tell(new ReplicaMergeDone(merge.RequestId, _slot, _settings.NodeName));
            AfterEvent();
            Persisted();
        });
    }

    private void HandlePurge(PurgeTombstones purge)
    {
        var replyTo = Sender;
        if (PeerInput.CheckPurgeGeneration(purge.GcGeneration, _state.GcGeneration) is { } jump)
        {
            // Not acknowledged: the GC pass fails and runs again; a replica honestly behind is
            // reset by its peers' generations instead.
            _log.Warning("replica {0}: refused a tombstone purge from {1}: {2}", _slot, Sender.Path.Address, jump);
            return;
        }
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var purgeable = purge.Entries.Where(e => _state.IsPurgeable(e, now)).ToList();
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
        if (!SnapshotSchedule.Due(++_eventsSinceSnapshot, _settings.SnapshotEvery)) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(_state.ToSnapshot());
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "replica {0}: journal write failed at seqNr {1}; the write was not acknowledged, the replica restarts from its journal", _slot, sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }
}
