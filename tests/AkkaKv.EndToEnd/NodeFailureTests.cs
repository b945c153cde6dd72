using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Sloppy quorum and hinted handoff under a node fault, end to end: three real nodes, a bounded
/// closed-loop load of concurrent writers, one node killed (-9) or frozen (SIGSTOP) on a fixed
/// schedule and brought back (killed, it may also lose its SQLite file meanwhile); once its hints
/// have drained and anti-entropy has found every replica pair in sync, every key is read back at
/// R=3 and the history checked by <see cref="FaultHistory"/>: no acknowledged write is lost.
///
/// The load: each writer owns its keys and writes unique values (key#seq, seq growing per writer).
/// A put carries the context of the writer's previous acknowledged put of that key
/// (<c>WriteSuccess.Context</c>, which covers exactly that version), so each value replaces the
/// writer's previous one and a key's sibling set stays small (under akka-kv.limits.max-siblings).
/// When a put answers with more than one sibling (a failed or unknown put, or a slow coordinating
/// replica's second version, left a concurrent one) the context is empty; the writer then gets the
/// key and passes that read's context, which covers exactly what it returned. Each put records
/// which values its context covered: that is what the checker may treat as superseded.
/// </summary>
public sealed class NodeFailureTests(ITestOutputHelper output)
{
    private const int Writers = 8;
    private const int KeysPerWriter = 25;
    /// <summary>The faulted node. The clients talk to n1 and n2 (failing over between them); n3 is not a seed.</summary>
    private const string Victim = "n3";
    private static readonly RequestOptions PutOptions = new(W: 2, Timeout: TimeSpan.FromSeconds(5));
    private static readonly RequestOptions ContextRead = new(R: 2, Timeout: TimeSpan.FromSeconds(5));
    private static readonly RequestOptions FinalRead = new(R: 3, Timeout: TimeSpan.FromSeconds(5));
    /// <summary>A put under this did not wait on the dead node as its coordinating replica (that costs coordinating-replica-timeout, 2 s).</summary>
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CoordinatingReplicaTimeout = TimeSpan.FromSeconds(2);
    /// <summary>Replay runs every 2 s, 64 hints in flight per holder, resent after 10 s: a few hundred hints take seconds once their targets are back.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);
    /// <summary>All final reads together.</summary>
    private static readonly TimeSpan ReadBackTimeout = TimeSpan.FromSeconds(90);
    /// <summary>
    /// Rounds every 3 s instead of 60 s, and exchanges 10 ms apart instead of 50 ms, so that the run
    /// can wait for whole rounds that began after the last write. A round is one exchange per
    /// replica pair (~256 per node): about 5-8 s at this pace (15-20 s as shipped).
    /// </summary>
    private const string FrequentAntiEntropy = "akka-kv.anti-entropy.round-interval = 3s\nakka-kv.anti-entropy.exchange-pause = 10ms";
    /// <summary>Two whole rounds per node after the hints drained, on a starved 2-core box.</summary>
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(90);
    /// <summary>How long the victim may take, after its restart, to be Up with its slots placed again.</summary>
    private static readonly TimeSpan BackTimeout = TimeSpan.FromSeconds(60);
    /// <summary>With 2 of 3 replicas up and W=2, puts must keep succeeding (a few may time out on a starved 2-core box).</summary>
    private const double MinFaultWindowAvailability = 0.9;

    /// <summary>
    /// Keys written once, at W=3 before the load, and never again. The load rewrites each of its
    /// keys every few seconds, which alone would refill a node that lost its storage; these only
    /// catch-up at slot start and anti-entropy can give back.
    /// </summary>
    private static readonly List<string> ColdKeys = Enumerable.Range(0, 200).Select(i => $"nf/cold/k{i:D3}").ToList();
    private static readonly RequestOptions ColdPut = new(W: 3, Timeout: TimeSpan.FromSeconds(10));
    /// <summary>From the victim's restart until its journal holds every cold key: past the load, the drain and anti-entropy's rounds.</summary>
    private static readonly TimeSpan RefillTimeout = TimeSpan.FromSeconds(180);

    private sealed record Schedule(TimeSpan FaultAt, TimeSpan HealAt, TimeSpan LoadFor);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Kill_9_and_restart_of_a_replica_node_under_load_loses_no_acknowledged_write_and_its_hints_drain(int clusterSize)
    {
        // The restarted node needs a few seconds to boot and rejoin: load on for 15 s after the restart.
        // On 5 nodes every partition has fallbacks: the victim's hints are held by them and count toward W.
        var schedule = new Schedule(FaultAt: TimeSpan.FromSeconds(5), HealAt: TimeSpan.FromSeconds(15), LoadFor: TimeSpan.FromSeconds(30));
        await RunAsync(clusterSize, schedule, "kill -9", cluster => { cluster.Kill(Victim); return Task.CompletedTask; },
            "restart", cluster => { cluster.Start(Victim); return Task.CompletedTask; });
    }

    [Fact]
    public async Task A_node_frozen_for_10_s_under_load_loses_no_acknowledged_write_and_its_hints_drain()
    {
        // SIGSTOP stands in for a partition: unreachable from the others' view after ~4-5 s, and
        // back after 10 s, well before the split-brain resolver's stable-after (20 s) would down it.
        var schedule = new Schedule(FaultAt: TimeSpan.FromSeconds(5), HealAt: TimeSpan.FromSeconds(15), LoadFor: TimeSpan.FromSeconds(25));
        await RunAsync(3, schedule, "SIGSTOP", cluster => cluster.FreezeAsync(Victim), "SIGCONT", cluster => cluster.ThawAsync(Victim));
    }

    [Theory]
    [InlineData(CatchUp.AsShipped)]
    [InlineData(CatchUp.CutShort)]
    public async Task A_node_whose_storage_is_deleted_while_down_is_refilled_under_load_and_no_acknowledged_write_is_lost(CatchUp catchUp)
    {
        // The kill test's schedule, but n3 comes back with an empty data dir, and writers keep writing
        // throughout. Every write n3 acknowledged before the kill was also acknowledged by another
        // replica (W=2), so none may be lost. AsShipped: each of n3's empty slots, as it starts, runs
        // Merkle exchanges with its peers before it serves reads and puts. CutShort: catch-up-timeout 1 ms,
        // so a catch-up exchange whose peer does not answer a step by the next scheduler tick is
        // abandoned: slots serve with part of their data or none, and anti-entropy refills the rest.
        var extraHocon = catchUp == CatchUp.CutShort ? "akka-kv.replica.catch-up-timeout = 1ms" : null;
        var schedule = new Schedule(FaultAt: TimeSpan.FromSeconds(5), HealAt: TimeSpan.FromSeconds(15), LoadFor: TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource();
        Task<TimeSpan?>? watch = null;
        RunResult result;
        try
        {
            result = await RunAsync(3, schedule, "kill -9 and delete the SQLite files of", cluster =>
                {
                    cluster.Kill(Victim);
                    DeleteStorage(cluster, Victim);
                    return Task.CompletedTask;
                },
                "restart", cluster =>
                {
                    cluster.Start(Victim);
                    watch = WaitForColdKeysInJournalAsync(cluster.DataDir(Victim), RefillTimeout, stop.Token);
                    return Task.CompletedTask;
                }, extraHocon);
        }
        catch
        {
            // No watch outlives the test (or its cluster).
            await stop.CancelAsync();
            if (watch is not null) await watch;
            throw;
        }
        // RunAsync passed: every replica is current, so the watch sees every cold key at its next look.
        Assert.True(await watch! is not null, $"{Victim}'s journal did not get every cold key back within {RefillTimeout.TotalSeconds:0} s of the restart");
        // Nothing reads or writes a cold key until the read-back, so each one n3 lost came back by a
        // repair (a slot catch-up or an anti-entropy exchange), and the status counts every repair.
        Assert.True(result.KeysRepairedSinceHeal >= ColdKeys.Count,
            $"{Victim} lost {ColdKeys.Count} cold keys and got them back, but the status counts only {result.KeysRepairedSinceHeal} keys repaired since the restart");
        if (catchUp == CatchUp.CutShort)
            Assert.True(result.ExchangeRepairedSinceHeal > 0, $"catch-up was cut short, yet no anti-entropy exchange logged a repair after the restart ({result.CatchUpRepairedSinceHeal} keys logged as repaired by catch-ups)");
    }

    public enum CatchUp
    {
        /// <summary>replica.catch-up-timeout as shipped (3 s).</summary>
        AsShipped,
        /// <summary>replica.catch-up-timeout = 1 ms: a starting slot's catch-up exchange is abandoned unless its peer answers every step by the next scheduler tick.</summary>
        CutShort,
    }

    /// <summary>
    /// What a run leaves for a test's own assertions, from the heal until anti-entropy converged:
    /// keys repaired over all nodes as the status counts them (slot catch-ups and anti-entropy
    /// exchanges), and as the logs split them (exchanges that gave up log no count: a lower bound).
    /// </summary>
    private sealed record RunResult(long KeysRepairedSinceHeal, long CatchUpRepairedSinceHeal, long ExchangeRepairedSinceHeal);

    /// <summary>
    /// Reads the (restarted, emptied) victim's journal file every second until it mentions every
    /// cold key: how long the refill took, without a read (whose read repair would do it). Prints
    /// the count whenever it changes; null if cancelled or timed out first.
    /// </summary>
    private async Task<TimeSpan?> WaitForColdKeysInJournalAsync(string dataDir, TimeSpan timeout, CancellationToken cancel)
    {
        var since = Stopwatch.StartNew();
        var printed = -1;
        while (since.Elapsed < timeout && !cancel.IsCancellationRequested)
        {
            try
            {
                var blobs = ClusterTestContext.JournalBlobs(dataDir);
                var held = ColdKeys.Count(k => blobs.Any(b => ClusterTestContext.MentionsKey(b, k)));
                if (held != printed) output.WriteLine($"  restart + {since.Elapsed.TotalSeconds:0.0} s: {Victim}'s journal mentions {printed = held} of the {ColdKeys.Count} cold keys");
                if (held == ColdKeys.Count) return since.Elapsed;
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                // Not created yet, or its tables not yet: the node is still starting.
            }
            try { await Task.Delay(TimeSpan.FromSeconds(1), cancel); }
            catch (OperationCanceledException) { }
        }
        return null;
    }

    /// <summary>ReplicaActor, when a starting slot's catch-up repaired keys: "replica 12/2: caught up in 0.4 s, 3 key(s) repaired, ...".</summary>
    private static readonly Regex CaughtUp = new(@"replica \d+/\d+: caught up in \S+ s, (\d+) key\(s\) repaired", RegexOptions.Compiled);
    /// <summary>AntiEntropyActor, when an exchange of a round repaired keys: "anti-entropy: 12/0 &lt;-&gt; 12/2 repaired 3 key(s), ...".</summary>
    private static readonly Regex ExchangeRepaired = new(@"anti-entropy: \S+ <-> \S+ repaired (\d+) key\(s\)", RegexOptions.Compiled);

    /// <summary>
    /// Deletes the node's SQLite journal (<c>akkakv.db</c> and its <c>-wal</c>, <c>-shm</c>,
    /// <c>-journal</c> companions), after checking that it held this run's keys: a test that
    /// deletes nothing cannot pass.
    /// </summary>
    private void DeleteStorage(ClusterTestContext cluster, string node)
    {
        var dir = cluster.DataDir(node);
        var files = Directory.GetFiles(dir).Select(f => new FileInfo(f)).OrderBy(f => f.Name).ToList();
        output.WriteLine($"{node}'s data dir after kill -9: {string.Join(", ", files.Select(f => $"{f.Name} ({f.Length} bytes)"))}");
        Assert.Contains(files, f => f.Name == "akkakv.db");
        var blobs = ClusterTestContext.JournalBlobs(dir);
        var keys = AllKeys.Count(k => blobs.Any(b => ClusterTestContext.MentionsKey(b, k)));
        var cold = ColdKeys.Count(k => blobs.Any(b => ClusterTestContext.MentionsKey(b, k)));
        output.WriteLine($"{node}'s journal held {blobs.Count} events and snapshots, mentioning {keys} of the {AllKeys.Count} keys under load and {cold} of the {ColdKeys.Count} cold keys");
        // Acknowledged at W=3, so durable on every replica before the kill, and on three nodes every
        // node is a replica of every key: what deleting the file takes away.
        Assert.True(cold == ColdKeys.Count, $"{node}'s journal lacks {ColdKeys.Count - cold} cold keys that every replica acknowledged before the kill");
        Assert.True(keys > 0, $"{node}'s journal held none of the keys under load before it was deleted: the test would prove nothing");
        foreach (var f in Directory.GetFiles(dir, "akkakv.db*")) File.Delete(f);
        var left = Directory.GetFiles(dir);
        Assert.DoesNotContain(left, f => Path.GetFileName(f).StartsWith("akkakv.db", StringComparison.Ordinal));
        output.WriteLine($"deleted {node}'s SQLite files; left in its data dir: {(left.Length == 0 ? "nothing" : string.Join(", ", left.Select(Path.GetFileName)))}");
    }

    private async Task<RunResult> RunAsync(int clusterSize, Schedule schedule, string faultName, Func<ClusterTestContext, Task> fault, string healName, Func<ClusterTestContext, Task> heal,
        string? extraHocon = null)
    {
        var run = Stopwatch.StartNew();
        await using var cluster = new ClusterTestContext(output, clusterSize, FrequentAntiEntropy + "\n" + extraHocon);
        cluster.StartAll();
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        output.WriteLine($"cluster up and settled after {run.Elapsed.TotalSeconds:0.0} s");

        await using var viaN1 = cluster.Client("n1", "n2");
        await using var viaN2 = cluster.Client("n2", "n1");
        var keys = AllKeys;
        var victimSlots = SlotsOf(await viaN1.StatusAsync(), Victim);

        // Where each key's replica slot 0 lives: its first-choice coordinating replica. A put of a
        // key whose slot 0 is on the victim waits coordinating-replica-timeout until the failure
        // detector marks the victim unreachable; after that it must be fast.
        var slot0 = new Dictionary<string, string>();
        foreach (var key in keys)
        {
            var r = await viaN1.GetAsync(Bytes.FromUtf8(key), FinalRead);
            slot0[key] = r.Replicas.Single(x => x.Slot == 0).Node;
        }
        output.WriteLine($"{keys.Count} keys, {slot0.Values.Count(n => n == Victim)} of them with replica slot 0 on {Victim}");
        var coldWrite = Stopwatch.StartNew();
        foreach (var chunk in ColdKeys.Chunk(20))
            await Task.WhenAll(chunk.Select(k => viaN1.PutAsync(Bytes.FromUtf8(k), Bytes.FromUtf8(FaultHistory.ValueOf(k, 1)), null, ColdPut)));
        output.WriteLine($"{ColdKeys.Count} cold keys written at W=3 (on every replica) in {coldWrite.Elapsed.TotalSeconds:0.0} s; the load does not touch them");

        var history = new FaultHistory();
        var clock = Stopwatch.StartNew();
        Task<(TimeSpan? BackAt, NodeStatus? AtHeal)>? back = null;
        Task<(List<string> Keys, TimeSpan Took)>? listing = null;
        var logAtHeal = new Dictionary<string, int>();
        var writers = Enumerable.Range(0, Writers)
            .Select(w => Task.Run(() => WriteAsync(w, w % 2 == 0 ? viaN1 : viaN2, history, clock, schedule.LoadFor)))
            .ToList();
        try
        {
            // The experiment's schedule, not synchronization: the fault happens at fixed offsets.
            // Each mark is taken once the action is done: the process is gone, frozen, started or running.
            await Task.Delay(Remaining(clock, schedule.FaultAt));
            await fault(cluster);
            history.Mark("fault", clock.Elapsed);
            // A key listing (SCAN, page by page) while the victim is down and under load: every
            // cold key (on every replica) must be listed, as Redis promises for a key present
            // throughout, though one replica of every partition does not answer.
            listing = ListAsync(viaN2, "nf/cold/*");
            await Task.Delay(Remaining(clock, schedule.HealAt));
            logAtHeal = cluster.Names.ToDictionary(n => n, n => LogLines(cluster, n).Count);
            await heal(cluster);
            history.Mark("heal", clock.Elapsed);
            back = WaitForVictimBackAsync(viaN1, victimSlots, clock, BackTimeout);
        }
        finally
        {
            // Bounded: each writer stops at LoadFor, its last request within the client's timeout.
            // (A node left frozen by a failed schedule is SIGKILLed with the others on dispose.)
            var contextReads = await Task.WhenAll(writers);
            output.WriteLine($"load stopped at {clock.Elapsed.TotalSeconds:0.0} s; the writers also made {contextReads.Sum()} gets for a context");
        }
        var loadEnd = clock.Elapsed;
        var faultAt = history.MarkOf("fault");
        var healAt = history.MarkOf("heal");
        var (backAt, atHeal) = await back!;
        var (listed, listedIn) = await listing!;

        // Settle: every member Up and reachable, every slot placed; then every hint replayed.
        await cluster.WaitForMembersAsync("n1", cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        var settled = clock.Elapsed;
        var (drainedAt, status) = await WaitForHintsDrainedAsync(viaN1, cluster.Names, clock, DrainTimeout);

        // Converge: no write is in flight any more (load stopped, hints replayed), so a whole
        // anti-entropy round begun after this point that finds every pair in sync means every
        // replica of every partition holds the same. Reading first would make them so by read repair.
        var quietSince = DateTimeOffset.UtcNow;
        var (convergedAt, aeStatus) = await WaitForAntiEntropyConvergedAsync(viaN1, cluster.Names, status, quietSince, clock, ConvergeTimeout);

        var finalValues = new Dictionary<string, IReadOnlyCollection<string>>();
        var coldWrong = new List<string>();
        var unreadable = new List<string>();
        var readAtR2 = 0;
        // After anti-entropy every replica holds the same: the first read's per-replica report
        // (taken before that read's own repair) must say every replica is current, the victim's
        // included (it holds every acknowledged write: from hints, its slots' catch-up, or repair).
        var notCurrent = new List<string>();
        // The keys with a replica slot on the victim (all of them on three nodes), as the read-back reports them.
        var replicatedOnVictim = new List<string>();
        var readBack = Stopwatch.StartNew();
        foreach (var key in keys.Concat(ColdKeys))
        {
            var (values, r, replicas) = await ReadBackAsync(viaN1, key, ReadBackTimeout - readBack.Elapsed);
            if (values is null) unreadable.Add(key);
            else if (!ColdKeys.Contains(key)) finalValues[key] = values;
            else if (values.Count != 1 || values.Single() != FaultHistory.ValueOf(key, 1)) coldWrong.Add($"{key}: [{string.Join(", ", values)}]");
            if (r == 2) readAtR2++;
            if (replicas is not null && replicas.Any(x => x.Node == Victim)) replicatedOnVictim.Add(key);
            if (replicas is not null && replicas.Any(x => x.State != ReplicaReadState.Current))
                notCurrent.Add($"{key}: {string.Join(", ", replicas.Select(x => $"{x.Slot}@{x.Node} {x.State}"))}");
        }
        var victimJournal = ClusterTestContext.JournalBlobs(cluster.DataDir(Victim));
        var victimKeys = replicatedOnVictim.Count(k => victimJournal.Any(b => ClusterTestContext.MentionsKey(b, k)));
        // From the nodes' logs: what catch-ups and anti-entropy exchanges repaired since the heal.
        var logs = cluster.Names.ToDictionary(n => n, n => LogLines(cluster, n));
        var sinceHeal = logs.ToDictionary(kv => kv.Key, kv => kv.Value.Skip(logAtHeal.GetValueOrDefault(kv.Key)).ToList());
        var catchUpRepaired = sinceHeal.Sum(kv => SumOf(kv.Value, CaughtUp));
        var exchangeRepaired = sinceHeal.Sum(kv => SumOf(kv.Value, ExchangeRepaired));
        var check = history.Check(finalValues);
        var faultWindow = history.Window(faultAt, healAt);

        var attempts = history.Attempts;
        var onVictim = (Func<PutAttempt, bool>)(a => slot0[a.Key] == Victim);
        var firstFast = history.FirstFast(faultAt, Fast, onVictim);
        var lastSlow = history.LastSlow(faultAt, healAt, CoordinatingReplicaTimeout, onVictim);
        output.WriteLine($"--- {faultName} {Victim} at {faultAt.TotalSeconds:0.0} s, {healName} at {healAt.TotalSeconds:0.0} s, load until {loadEnd.TotalSeconds:0.0} s");
        output.WriteLine($"whole run:     {history.Window(TimeSpan.Zero, loadEnd)}");
        output.WriteLine($"before fault:  {history.Window(TimeSpan.Zero, faultAt)}");
        output.WriteLine($"fault window:  {faultWindow}");
        output.WriteLine($"after heal:    {history.Window(healAt, loadEnd)}");
        output.WriteLine($"unknown puts: {attempts.Count(a => a.Outcome == PutOutcome.Unknown)}; failed puts: {attempts.Count(a => a.Outcome == PutOutcome.Failed)}");
        foreach (var g in attempts.Where(a => a.Outcome != PutOutcome.Acked).GroupBy(a => Shape(a.Reason)).OrderByDescending(g => g.Count()).Take(6))
            output.WriteLine($"  {g.Count()} x {g.First().Outcome}: {g.First().Reason}");
        output.WriteLine($"puts of keys with slot 0 on {Victim}: first fast (< {Fast.TotalSeconds:0} s) one after the fault completed at fault + " +
            (firstFast is null ? "(none)" : $"{(firstFast.End - faultAt).TotalSeconds:0.00} s (started at fault + {(firstFast.Start - faultAt).TotalSeconds:0.00} s, took {firstFast.Latency.TotalMilliseconds:0} ms)"));
        output.WriteLine($"  last one that waited >= {CoordinatingReplicaTimeout.TotalSeconds:0} s started at fault + " +
            (lastSlow is null ? "(none)" : $"{(lastSlow.Start - faultAt).TotalSeconds:0.00} s (took {lastSlow.Latency.TotalMilliseconds:0} ms, {lastSlow.Outcome})"));
        output.WriteLine($"put latency in the fault window: p50 {Percentile(attempts, faultAt, healAt, 0.5):0} ms, p99 {Percentile(attempts, faultAt, healAt, 0.99):0} ms, max {Percentile(attempts, faultAt, healAt, 1):0} ms");
        output.WriteLine($"settled (all Up, slots placed) at {settled.TotalSeconds:0.0} s; hints drained " +
            (drainedAt is { } d ? $"at {d.TotalSeconds:0.0} s: {(d - healAt).TotalSeconds:0.0} s after {healName}, {(d - loadEnd).TotalSeconds:0.0} s after the load stopped" : $"NEVER (within {DrainTimeout.TotalSeconds:0} s of settling)"));
        if (status?.Hints is { } hints)
            foreach (var h in hints)
                output.WriteLine($"  {h.Node} hints: " + (h.Targets.Count == 0 ? "none ever" : string.Join("; ", h.Targets.Select(t => $"for {t.Target} {t.Held} held, {t.Replayed} replayed, {t.Overflowed} not held"))));
        output.WriteLine($"read back {finalValues.Count} keys under load and {ColdKeys.Count - coldWrong.Count - unreadable.Count(ColdKeys.Contains)} cold ones intact in {readBack.Elapsed.TotalSeconds:0.0} s ({readAtR2} only at R=2), {unreadable.Count} unreadable");
        output.WriteLine($"{Victim} back (Up, reachable, its {victimSlots} slots placed) " +
            (backAt is { } b ? $"at {b.TotalSeconds:0.0} s, {(b - healAt).TotalSeconds:0.0} s after {healName}" : $"NOT within {BackTimeout.TotalSeconds:0} s of {healName}") +
            $"; slot catch-ups that served before every peer answered (catch-up-timeout; status, whole run): " +
            string.Join(", ", aeStatus?.AntiEntropy?.Select(a => $"{a.Node} {a.SlotCatchUpsIncomplete} of {a.SlotCatchUps}") ?? ["not reported"]));
        output.WriteLine($"anti-entropy " + (convergedAt is { } c
            ? $"converged at {c.TotalSeconds:0.0} s, {(c - (drainedAt ?? settled)).TotalSeconds:0.0} s after the hints drained: every node's last round began after that and found all its pairs in sync"
            : $"did NOT converge within {ConvergeTimeout.TotalSeconds:0} s"));
        if (aeStatus?.AntiEntropy is { } ae)
        {
            foreach (var a in ae.OrderBy(a => a.Node))
                output.WriteLine($"  {a.Node}: {a.RoundsCompleted} rounds, last {a.PairsInSync}/{a.PairsChecked} pairs in sync; {a.Exchanges} exchanges ({a.ExchangesFailed} abandoned), {a.SlotCatchUps} slot catch-ups; " +
                    $"{a.KeysRepaired} keys repaired ({Since(a, atHeal, x => x.KeysRepaired)} since {healName}, {Since(a, status, x => x.KeysRepaired)} since the hints drained), " +
                    $"{a.BytesExchanged} bytes exchanged ({Since(a, atHeal, x => x.BytesExchanged)} since {healName}); read repair {a.ReadRepairedKeys} keys");
            output.WriteLine($"  refill: {ae.Sum(a => Since(a, atHeal, x => x.KeysRepaired))} keys repaired after {healName} by slot catch-ups and anti-entropy " +
                $"(a node absent from the status at {healName} counted from its start); logged: {catchUpRepaired} by catch-ups, {exchangeRepaired} by anti-entropy exchanges; " +
                $"{Victim}'s journal now mentions {victimKeys} of the {replicatedOnVictim.Count} keys it is a replica of");
        }
        output.WriteLine($"key listing begun at the fault ({faultName} {Victim}): {listed.Count} keys listed (of {ColdKeys.Count} cold ones) in {listedIn.TotalSeconds:0.0} s");
        output.WriteLine($"first read-back: {keys.Count + ColdKeys.Count - notCurrent.Count} keys with every replica current, {notCurrent.Count} with one not current");
        output.WriteLine($"check: {check}");
        output.WriteLine($"run took {run.Elapsed.TotalSeconds:0} s");

        // Every expectation is checked and reported together: one run shows every way it went wrong.
        var violations = new List<string>();
        if (unreadable.Count > 0)
            violations.Add($"{unreadable.Count} keys could not be read (R=3, then R=2) after the cluster settled: {string.Join(", ", unreadable.Take(10))}");
        if (convergedAt is null)
            violations.Add($"anti-entropy did not converge within {ConvergeTimeout.TotalSeconds:0} s of the hints draining (every node a whole round in sync, {ExpectedPairs(aeStatus)} pairs); last status:\n{(aeStatus is null ? "(none)" : StatusText.Render(aeStatus))}");
        if (notCurrent.Count > 0)
            violations.Add($"{notCurrent.Count} keys have a replica that is not current after anti-entropy converged: {string.Join("; ", notCurrent.Take(5))}");
        if (backAt is null)
            violations.Add($"{Victim} was not Up with its {victimSlots} slots within {BackTimeout.TotalSeconds:0} s of {healName}");
        if (victimKeys < replicatedOnVictim.Count)
            violations.Add($"{Victim}'s journal mentions only {victimKeys} of the {replicatedOnVictim.Count} keys it is a replica of after anti-entropy converged");
        if (ColdKeys.Except(listed).ToList() is { Count: > 0 } unlisted)
            violations.Add($"{unlisted.Count} cold keys (on every replica throughout) were not listed by the scan begun at the fault: {string.Join(", ", unlisted.Take(5))}");
        if (listed.Except(ColdKeys).FirstOrDefault() is { } stranger)
            violations.Add($"the scan for nf/cold/* listed '{stranger}', which is not a cold key");
        if (coldWrong.Count > 0)
            violations.Add($"{coldWrong.Count} cold keys (one put each, acknowledged by every replica) read back otherwise than as that one value: {string.Join("; ", coldWrong.Take(5))}");
        if (!check.Ok)
            violations.Add($"acknowledged writes lost, or values read back that were never written to that key: {check}");
        var refused = attempts.Where(a => a.Outcome == PutOutcome.Failed).ToList();
        if (refused.Count > 0)
            violations.Add($"{refused.Count} puts were refused although at most one node was ever down, so W=2 was always possible; " +
                $"first at {refused[0].Start.TotalSeconds:0.0} s: {refused[0].Reason}");
        if (faultWindow.Availability < MinFaultWindowAvailability)
            violations.Add($"availability while {Victim} was down is under {MinFaultWindowAvailability:P0}: {faultWindow}");
        if (firstFast is null || firstFast.Start >= healAt)
            violations.Add($"no put of a key whose coordinating replica is on {Victim} completed in under {Fast.TotalSeconds:0} s while {Victim} was down: the data path never routed around it");
        if (drainedAt is null)
            violations.Add($"hints did not drain within {DrainTimeout.TotalSeconds:0} s after the cluster settled; last status:\n{(status is null ? "(none)" : StatusText.Render(status))}\n" +
                $"the nodes' log lines about hints:\n{string.Join("\n", cluster.Names.SelectMany(n => LogLines(cluster, n).Where(l => l.Contains("hints:", StringComparison.Ordinal)).TakeLast(10).Select(l => $"{n}: {l}")))}");
        if (status?.Hints?.SelectMany(h => h.Targets).Any(t => t.Overflowed > 0) == true)
            violations.Add("some writes were not held as hints (hints.max-per-target overflowed)");
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        return new RunResult(aeStatus?.AntiEntropy?.Sum(a => Since(a, atHeal, x => x.KeysRepaired)) ?? 0, catchUpRepaired, exchangeRepaired);
    }

    /// <summary>Every key that matches, through <see cref="KvClient.KeysAsync"/> (SCAN pages), and how long the walk took.</summary>
    private static async Task<(List<string> Keys, TimeSpan Took)> ListAsync(KvClient client, string match)
    {
        var took = Stopwatch.StartNew();
        var keys = new List<string>();
        await foreach (var key in client.KeysAsync(match)) keys.Add(key.ToUtf8());
        return (keys, took.Elapsed);
    }

    private static List<string> KeysOf(int writer) => Enumerable.Range(0, KeysPerWriter).Select(i => $"nf/w{writer}/k{i:D2}").ToList();

    private static readonly List<string> AllKeys = Enumerable.Range(0, Writers).SelectMany(KeysOf).ToList();

    private static int SlotsOf(NodeStatus status, string node) => status.SlotsPerNode.FirstOrDefault(kv => kv.Key == node).Value;

    /// <summary>Every partition's N slots form N(N-1)/2 pairs, each checked by the node holding its lower slot.</summary>
    private static int ExpectedPairs(NodeStatus? status) => status is null ? 0 : status.Partitions * status.ReplicationFactor * (status.ReplicationFactor - 1) / 2;

    /// <summary>A counter's growth since <paramref name="before"/>; all of it if the node was not in that status (down, or restarted since).</summary>
    private static long Since(AntiEntropyStats now, NodeStatus? before, Func<AntiEntropyStats, long> counter)
    {
        var then = before?.AntiEntropy?.FirstOrDefault(a => a.Node == now.Node);
        return then is null || counter(then) > counter(now) ? counter(now) : counter(now) - counter(then);
    }

    /// <summary>The sum of the first group of every line that <paramref name="pattern"/> matches.</summary>
    private static long SumOf(IEnumerable<string> lines, Regex pattern) =>
        lines.Select(l => pattern.Match(l)).Where(m => m.Success).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    /// <summary>The node's log (both incarnations' output) so far.</summary>
    private static List<string> LogLines(ClusterTestContext cluster, string node)
    {
        var log = Path.Combine(cluster.Root, node + ".log");
        // The context appends to the logs under this lock.
        lock (cluster) return File.Exists(log) ? File.ReadLines(log).ToList() : [];
    }

    private static TimeSpan Remaining(Stopwatch clock, TimeSpan at) => at > clock.Elapsed ? at - clock.Elapsed : TimeSpan.Zero;

    /// <summary>A failure reason without its numbers, to group alike ones.</summary>
    private static string Shape(string? reason) => new((reason ?? "").Select(c => char.IsDigit(c) ? '#' : c).ToArray());

    private static double Percentile(IEnumerable<PutAttempt> attempts, TimeSpan from, TimeSpan to, double q)
    {
        var sorted = attempts.Where(a => a.Start >= from && a.Start < to).Select(a => a.Latency.TotalMilliseconds).Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private sealed record KeyState(string? Context, ImmutableSortedSet<long> Covers, bool NeedsRead);

    /// <summary>One writer's closed loop over its own keys until <paramref name="until"/>; returns how many gets it made for a context.</summary>
    private static async Task<int> WriteAsync(int writer, IKvClient client, FaultHistory history, Stopwatch clock, TimeSpan until)
    {
        var keys = KeysOf(writer);
        var states = keys.ToDictionary(k => k, _ => new KeyState(null, ImmutableSortedSet<long>.Empty, NeedsRead: false));
        var written = keys.ToDictionary(k => k, _ => new HashSet<long>());
        var seq = 0L;
        var reads = 0;
        for (var i = 0; clock.Elapsed < until; i++)
        {
            var key = keys[i % keys.Count];
            var state = states[key];
            if (state.NeedsRead)
            {
                reads++;
                try
                {
                    var read = await client.GetAsync(Bytes.FromUtf8(key), ContextRead);
                    var seen = read.Values.Select(v => FaultHistory.Parse(v.ToUtf8())).OfType<(string Key, long Seq)>()
                        .Where(p => p.Key == key && written[key].Contains(p.Seq)).Select(p => p.Seq);
                    state = states[key] = new KeyState(read.Context, [.. seen], NeedsRead: false);
                }
                catch (Exception e) when (e is KvRequestException or KvUnavailableException)
                {
                    // No context to be had now: this put goes with the old one (and covers what it covers).
                }
            }
            seq++;
            written[key].Add(seq);
            var start = clock.Elapsed;
            try
            {
                var ok = await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8(FaultHistory.ValueOf(key, seq)), state.Context, PutOptions);
                history.Record(new PutAttempt(writer, key, seq, state.Covers, start, clock.Elapsed, PutOutcome.Acked));
                states[key] = ok.Siblings == 1 && ok.Context.Length > 0
                    ? new KeyState(ok.Context, [seq], NeedsRead: false)
                    : state with { NeedsRead = true };
            }
            catch (Exception e) when (e is KvRequestException or KvUnavailableException)
            {
                // The context stays: the next put covers what this one would have, and this value,
                // if it got anywhere, is left concurrent with it (its ack then shows two siblings).
                history.Record(new PutAttempt(writer, key, seq, state.Covers, start, clock.Elapsed, FaultHistory.Classify(e), e.Message));
            }
        }
        return reads;
    }

    /// <summary>
    /// Every value of the key, read at R=3 (all replicas, merged); after three failed tries at
    /// R=2 (still a quorum that meets every W=2 write). Null if nothing answered within <paramref name="budget"/>.
    /// </summary>
    private static async Task<(IReadOnlyCollection<string>? Values, int R, IReadOnlyList<ReplicaReport>? Replicas)> ReadBackAsync(IKvClient client, string key, TimeSpan budget)
    {
        var deadline = Stopwatch.StartNew();
        for (var attempt = 0; attempt < 5 && deadline.Elapsed < budget; attempt++)
        {
            var options = attempt < 3 ? FinalRead : FinalRead with { R = 2 };
            try
            {
                var r = await client.GetAsync(Bytes.FromUtf8(key), options);
                return (r.Values.Select(v => v.ToUtf8()).ToList(), options.R!.Value, r.Replicas);
            }
            catch (Exception e) when (e is KvRequestException or KvUnavailableException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
        return (null, 0, null);
    }

    /// <summary>
    /// Polls status until every member's hint actor reports and none holds a hint; returns when
    /// (on <paramref name="clock"/>) and the last status. Prints the hints held whenever that changes.
    /// </summary>
    private async Task<(TimeSpan? DrainedAt, NodeStatus? Status)> WaitForHintsDrainedAsync(IKvClient client, IReadOnlyList<string> nodes, Stopwatch clock, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        NodeStatus? last = null;
        var printed = "";
        while (deadline.Elapsed < timeout)
        {
            try
            {
                last = await client.StatusAsync();
                var held = last.Hints is { } h ? string.Join(", ", h.Select(x => $"{x.Node} {x.Targets.Sum(t => t.Held)}")) : "not collected";
                if (held != printed) output.WriteLine($"  at {clock.Elapsed.TotalSeconds:0.0} s hints held: {printed = held}");
                if (last.Hints is { } hints && nodes.All(n => hints.Any(x => x.Node == n)) && hints.Sum(x => x.Targets.Sum(t => t.Held)) == 0)
                    return (clock.Elapsed, last);
            }
            catch (KvUnavailableException)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        return (null, last);
    }

    /// <summary>
    /// Polls status, from the heal on, until the victim is Up and reachable with its
    /// <paramref name="slots"/> replica slots placed and none unallocated; returns when (on
    /// <paramref name="clock"/>), and the first status taken (the anti-entropy counters at the heal).
    /// </summary>
    private static async Task<(TimeSpan? BackAt, NodeStatus? AtHeal)> WaitForVictimBackAsync(IKvClient client, int slots, Stopwatch clock, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        NodeStatus? first = null;
        while (deadline.Elapsed < timeout)
        {
            try
            {
                var status = await client.StatusAsync();
                first ??= status;
                if (status.Members.Any(m => m.Node == Victim && m.Status == "Up" && m.Reachable)
                    && SlotsOf(status, Victim) == slots && status.UnallocatedSlots == 0) return (clock.Elapsed, first);
            }
            catch (KvUnavailableException)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        return (null, first);
    }

    /// <summary>
    /// Polls status until every node has completed two anti-entropy rounds since
    /// <paramref name="baseline"/> (so its last one began after it), ended after
    /// <paramref name="since"/>, whose pairs were all in sync, and the nodes together checked every
    /// pair of every partition. Returns when (on <paramref name="clock"/>) and the last status;
    /// prints the rounds' progress whenever it changes.
    /// </summary>
    private async Task<(TimeSpan? ConvergedAt, NodeStatus? Status)> WaitForAntiEntropyConvergedAsync(IKvClient client, IReadOnlyList<string> nodes,
        NodeStatus? baseline, DateTimeOffset since, Stopwatch clock, TimeSpan timeout)
    {
        // Rounds completed at the baseline; a node it lacks is counted from the first status that has it.
        var before = new Dictionary<string, long>();
        foreach (var a in (IEnumerable<AntiEntropyStats>?)baseline?.AntiEntropy ?? []) before[a.Node] = a.RoundsCompleted;
        var deadline = Stopwatch.StartNew();
        NodeStatus? last = null;
        var printed = "";
        while (deadline.Elapsed < timeout)
        {
            try
            {
                last = await client.StatusAsync();
                if (last.AntiEntropy is { } ae && nodes.All(n => ae.Any(a => a.Node == n)))
                {
                    foreach (var a in ae) before.TryAdd(a.Node, a.RoundsCompleted);
                    var progress = string.Join(", ", ae.OrderBy(a => a.Node).Select(a =>
                        $"{a.Node} {a.RoundsCompleted - before[a.Node]} rounds since, last {a.PairsInSync}/{a.PairsChecked} in sync"));
                    if (progress != printed) output.WriteLine($"  at {clock.Elapsed.TotalSeconds:0.0} s anti-entropy: {printed = progress}");
                    var fresh = ae.All(a => a.RoundsCompleted >= before[a.Node] + 2 && a.LastRoundCompletedAtMs > since.ToUnixTimeMilliseconds());
                    if (fresh && ae.All(a => a.PairsChecked > 0 && a.PairsInSync == a.PairsChecked) && ae.Sum(a => a.PairsChecked) == ExpectedPairs(last))
                        return (clock.Elapsed, last);
                }
            }
            catch (KvUnavailableException)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        return (null, last);
    }
}
