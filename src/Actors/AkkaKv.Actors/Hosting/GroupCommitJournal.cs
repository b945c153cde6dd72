using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;

namespace AkkaKv.Hosting;

/// <summary>
/// Akka.Persistence.Sql's journal with group commit in front of it. A write goes to the plugin at
/// once when none of this journal's is being written and none waits; the writes of many
/// persistent actors (replica slots, hints) that arrive otherwise gather and go to the plugin as
/// one call <c>akka-kv.storage.group-commit.linger</c> after the first of them, or at
/// <c>max-rows</c>, so they land in one database transaction (one multi-row insert) instead of one each. Every write
/// is still acknowledged only after that transaction committed; a failed transaction fails every
/// write in it, as the plugin's own batching does. A linger of 0 passes every write straight on.
/// </summary>
public sealed class GroupCommitJournal : SqlWriteJournal
{
    private readonly GroupCommit _group;
    private readonly TimeSpan _linger;
    // The last combined write that holds each persistence id, until it finishes: the plugin keeps
    // this only for the first id of a call, and a recovering actor must not read its highest
    // sequence number while a write of its own is still going to the database.
    private readonly Dictionary<string, Task> _inFlight = new();
    private readonly Dictionary<string, List<WaitingRead>> _readsWaiting = new();
    private bool _flushScheduled;
    // Groups handed to the plugin whose write has not finished.
    private int _groupsWriting;

    public GroupCommitJournal(Akka.Configuration.Config journalConfig) : base(journalConfig)
    {
        var settings = Context.System.Settings.Config;
        _linger = settings.GetTimeSpan("akka-kv.storage.group-commit.linger", TimeSpan.Zero);
        _group = new GroupCommit(settings.GetInt("akka-kv.storage.group-commit.max-rows", 100));
        Context.GetLogger().Info("journal group commit: linger {0} ms, at most {1} rows per transaction", _linger.TotalMilliseconds, _group.MaxRows);
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        if (_linger <= TimeSpan.Zero) return base.WriteMessagesAsync(messages, cancellationToken);
        // Nothing of ours in the database and no group waiting: this write goes at once (a lone
        // write waits for no linger). Otherwise there is load: it joins the waiting group, which
        // goes when the linger has passed since its first write, or at max-rows.
        var alone = _groupsWriting == 0 && _group.IsEmpty;
        var task = _group.Add(messages as IReadOnlyList<AtomicWrite> ?? messages.ToList());
        if (alone || _group.Full) Flush();
        else if (!_flushScheduled)
        {
            _flushScheduled = true;
            var self = Self;
            // The .NET timer, not Akka's scheduler: its 10 ms tick is longer than any useful linger.
            Task.Delay(_linger).ContinueWith(_ => self.Tell(FlushGroup.Instance), TaskScheduler.Default);
        }
        return task;
    }

    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case FlushGroup:
                _flushScheduled = false;
                Flush();
                return true;
            case GroupWritten written:
                _groupsWriting--;
                foreach (var id in written.PersistenceIds)
                {
                    if (!_inFlight.TryGetValue(id, out var latest) || latest != written.Write) continue;
                    _inFlight.Remove(id);
                    if (_readsWaiting.Remove(id, out var reads))
                        foreach (var read in reads) read.Start();
                }
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    /// <summary>
    /// A recovering actor reads its highest sequence number only after its own writes have finished
    /// (else it could reuse a number one of them takes; an earlier incarnation's write can still be
    /// waiting for its group or going to the database). The plugin waits only for the first id of a
    /// call; this sends the waiting group at once when it holds the id, waits for every id of a
    /// combined write, and starts the plugin's read on this actor's thread when the last one ended.
    /// </summary>
    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        if (_group.Holds(persistenceId)) Flush();
        if (!_inFlight.ContainsKey(persistenceId)) return base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken);
        var read = new WaitingRead(() => base.ReadHighestSequenceNrAsync(persistenceId, fromSequenceNr, cancellationToken));
        if (!_readsWaiting.TryGetValue(persistenceId, out var waiting)) _readsWaiting[persistenceId] = waiting = [];
        waiting.Add(read);
        return read.Answer;
    }

    protected override void PostStop()
    {
        // Writes still waiting for their group never reached the database: they fail, unacknowledged.
        var stopped = new InvalidOperationException("the journal stopped before this write's group commit");
        if (!_group.IsEmpty) _group.Take().Complete(Task.FromException<IImmutableList<Exception>>(stopped));
        foreach (var read in _readsWaiting.Values.SelectMany(r => r)) read.Fail(stopped);
        _readsWaiting.Clear();
        base.PostStop();
    }

    /// <summary>A highest-sequence-number read held until a write of its persistence id has finished.</summary>
    private sealed class WaitingRead(Func<Task<long>> read)
    {
        private readonly TaskCompletionSource<long> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<long> Answer => _done.Task;

        public void Start() => read().ContinueWith(t => _done.TrySetFromTask(t), TaskContinuationOptions.ExecuteSynchronously);

        public void Fail(Exception e) => _done.TrySetException(e);
    }

    private void Flush()
    {
        if (_group.IsEmpty) return;
        var batch = _group.Take();
        // Not any one caller's token: the combined write is every caller's. A caller whose own
        // deadline passes is failed by Akka.Persistence's circuit breaker, as for any slow write.
        Task<IImmutableList<Exception>> write;
        try { write = base.WriteMessagesAsync(batch.Writes, CancellationToken.None); }
        catch (Exception e) { write = Task.FromException<IImmutableList<Exception>>(e); } // every write of the group learns it, not just the one that filled it
        var ids = batch.PersistenceIds;
        _groupsWriting++;
        foreach (var id in ids) _inFlight[id] = write;
        var self = Self;
        write.ContinueWith(t =>
        {
            batch.Complete(t);
            self.Tell(new GroupWritten(write, ids));
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    private sealed class FlushGroup
    {
        public static readonly FlushGroup Instance = new();
    }

    private sealed record GroupWritten(Task Write, IReadOnlyCollection<string> PersistenceIds);
}

/// <summary>
/// The writes waiting for the next group commit, and how one combined write's outcome goes back to
/// each of them: its rejections (one per atomic write, null for a written one) split in order, or
/// its failure to every one. No actor in here: unit-tested on its own.
/// </summary>
public sealed class GroupCommit(int maxRows)
{
    private List<(IReadOnlyList<AtomicWrite> Writes, TaskCompletionSource<IImmutableList<Exception>> Done)> _waiting = [];
    private HashSet<string> _ids = [];
    private int _rows;

    public int MaxRows { get; } = maxRows >= 1 ? maxRows : throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "group commit needs at least 1 row per transaction");

    public bool IsEmpty => _waiting.Count == 0;

    /// <summary>True when a waiting write is of <paramref name="persistenceId"/>.</summary>
    public bool Holds(string persistenceId) => _ids.Contains(persistenceId);

    /// <summary>True once the waiting writes hold at least <see cref="MaxRows"/> events.</summary>
    public bool Full => _rows >= MaxRows;

    /// <summary>Queues one call's atomic writes; the task ends when the combined write they go out in does.</summary>
    public Task<IImmutableList<Exception>> Add(IReadOnlyList<AtomicWrite> writes)
    {
        var rows = writes.Sum(w => ((IImmutableList<IPersistentRepresentation>)w.Payload).Count);
        var done = new TaskCompletionSource<IImmutableList<Exception>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting.Add((writes, done));
        _rows += rows;
        foreach (var w in writes) _ids.Add(w.PersistenceId);
        return done.Task;
    }

    /// <summary>Everything waiting, as one combined write; the group starts empty again.</summary>
    public Batch Take()
    {
        var batch = new Batch(_waiting, _ids);
        _waiting = [];
        _ids = [];
        _rows = 0;
        return batch;
    }

    public sealed class Batch
    {
        private readonly List<(IReadOnlyList<AtomicWrite> Writes, TaskCompletionSource<IImmutableList<Exception>> Done)> _calls;

        internal Batch(List<(IReadOnlyList<AtomicWrite> Writes, TaskCompletionSource<IImmutableList<Exception>> Done)> calls, HashSet<string> ids)
        {
            _calls = calls;
            var writes = new List<AtomicWrite>();
            foreach (var (w, _) in calls) writes.AddRange(w);
            Writes = writes;
            PersistenceIds = ids;
        }

        /// <summary>The atomic writes of every call, in the order the calls came.</summary>
        public IReadOnlyList<AtomicWrite> Writes { get; }

        public IReadOnlyCollection<string> PersistenceIds { get; }

        /// <summary>Hands the combined write's outcome to each call.</summary>
        public void Complete(Task<IImmutableList<Exception>> combined)
        {
            if (combined.IsFaulted || combined.IsCanceled)
            {
                var error = combined.Exception?.InnerException ?? new TaskCanceledException("the journal write was cancelled");
                foreach (var (_, done) in _calls) done.TrySetException(error);
                return;
            }
            var results = combined.Result;
            // Akka.Persistence's contract: null means every write went in; otherwise one entry per
            // atomic write, null for a written one and the rejection for one that was not.
            if (results is not null && results.Count != Writes.Count)
            {
                var mismatch = new InvalidOperationException($"the journal answered {results.Count} results for {Writes.Count} atomic writes");
                foreach (var (_, done) in _calls) done.TrySetException(mismatch);
                return;
            }
            var offset = 0;
            foreach (var (writes, done) in _calls)
            {
                done.TrySetResult(results is null ? null! : results.Skip(offset).Take(writes.Count).ToImmutableList());
                offset += writes.Count;
            }
        }
    }
}
