using System.Collections.Immutable;
using System.Globalization;
using AkkaKv.Client;

namespace AkkaKv.EndToEnd;

/// <summary>What a client can say about one put once it returned.</summary>
public enum PutOutcome
{
    /// <summary>WriteSuccess: durable on W replicas.</summary>
    Acked,
    /// <summary>The store answered no (<see cref="KvRequestException"/> other than a timeout). It may still be stored on fewer than W replicas.</summary>
    Failed,
    /// <summary>Timed out, or no node answered: stored or not, nobody knows.</summary>
    Unknown,
}

/// <summary>
/// One put of <see cref="Key"/> by <see cref="Writer"/>, writing the unique value
/// <see cref="FaultHistory.ValueOf"/>(Key, Seq). <see cref="Covers"/>: the sequence numbers of the
/// values (of the same key) that the put's context covers, as the writer knew them: the value of
/// its previous acknowledged put (whose <c>WriteSuccess.Context</c> it passed back) or the values a
/// get returned (whose context it passed back); empty for a put without context.
/// Times are offsets from the start of the run.
/// </summary>
public sealed record PutAttempt(int Writer, string Key, long Seq, ImmutableSortedSet<long> Covers,
    TimeSpan Start, TimeSpan End, PutOutcome Outcome, string? Reason = null)
{
    public string Value => FaultHistory.ValueOf(Key, Seq);
    public TimeSpan Latency => End - Start;
}

/// <summary>A put the checker could not account for, and why.</summary>
public sealed record LostWrite(PutAttempt Attempt, string Why);

/// <summary>The verdict on a history against the values read back at the end.</summary>
/// <param name="Lost">Acknowledged puts neither read back nor superseded by a put that was.</param>
/// <param name="Phantoms">Values read back that no put of that key ever wrote (key, value).</param>
/// <param name="Unread">Keys written (acknowledged at least once) that have no final read.</param>
/// <param name="Acked">Acknowledged puts in the history; <see cref="Superseded"/> of them are accounted for through a later put.</param>
/// <param name="ExtraSiblings">Keys read back with more than one value (concurrent versions left, e.g. a slow coordinating replica's second version of a write).</param>
public sealed record HistoryCheck(ImmutableList<LostWrite> Lost, ImmutableList<(string Key, string Value)> Phantoms,
    ImmutableList<string> Unread, int Acked, int Superseded, int ExtraSiblings)
{
    public bool Ok => Lost.IsEmpty && Phantoms.IsEmpty && Unread.IsEmpty;

    public override string ToString() =>
        $"{Acked} acknowledged puts, {Superseded} of them superseded by a later put that is accounted for; " +
        $"lost {Lost.Count}, phantom values {Phantoms.Count}, unread keys {Unread.Count}, keys with siblings {ExtraSiblings}" +
        string.Concat(Lost.Take(20).Select(l => $"\n  LOST {l.Attempt.Value} (writer {l.Attempt.Writer}, acked at {l.Attempt.End.TotalSeconds:0.000} s): {l.Why}")) +
        string.Concat(Phantoms.Take(20).Select(p => $"\n  PHANTOM {p.Key}: {p.Value}")) +
        string.Concat(Unread.Take(20).Select(k => $"\n  UNREAD {k}"));
}

/// <summary>Puts that started in a time window, by outcome.</summary>
public sealed record WindowSummary(TimeSpan From, TimeSpan To, int Attempted, int Acked, int Failed, int Unknown)
{
    /// <summary>Acknowledged / attempted (1 when nothing was attempted).</summary>
    public double Availability => Attempted == 0 ? 1 : (double)Acked / Attempted;

    public override string ToString() =>
        $"[{From.TotalSeconds:0.0} s, {To.TotalSeconds:0.0} s): {Attempted} puts, {Acked} acked, {Failed} failed, {Unknown} unknown, availability {Availability:P1}";
}

/// <summary>
/// A recorder of concurrent puts (each writer owns its keys and writes unique values) and the
/// checker of what must be readable afterwards. Pure: no clock, no I/O; callers pass the times.
/// Thread-safe for recording.
///
/// The rule. Let <c>present(v)</c> mean the final read of v's key returned v (as the value or
/// among siblings). A value is accounted for when
/// <code>
///   accounted(v) = present(v)  or  some put u of the same key has v in Covers(u) and accounted(u)
/// </code>
/// and the history passes when every acknowledged value is accounted for, every value read back
/// was written by some put of that key (no phantoms), and every acknowledged key was read back.
/// Failed and unknown puts may or may not be present; they only matter as a possible superseder:
/// a put that reached one replica with a context covering v legitimately replaces v even if the
/// client never heard back. Covers come only from the writer's own knowledge (its last acked put,
/// or a get it made), so a store that drops a version the writer never covered, e.g. a concurrent
/// sibling lost in a merge or a hint replay, is caught even when a later value of the key survives.
/// </summary>
public sealed class FaultHistory
{
    private readonly object _gate = new();
    private readonly List<PutAttempt> _attempts = [];
    private readonly List<(string Name, TimeSpan At)> _marks = [];

    public static string ValueOf(string key, long seq) => $"{key}#{seq.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The (key, seq) a value was written as, or null when it is not one of ours.</summary>
    public static (string Key, long Seq)? Parse(string value)
    {
        var hash = value.LastIndexOf('#');
        return hash > 0 && long.TryParse(value.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
            ? (value[..hash], seq)
            : null;
    }

    /// <summary>
    /// How a put that threw ended: the store's timeout reply ("timed out ...: the value may be
    /// stored on fewer than W replicas") and no node answering are <see cref="PutOutcome.Unknown"/>;
    /// any other refusal by the store is <see cref="PutOutcome.Failed"/>.
    /// </summary>
    public static PutOutcome Classify(Exception error) => error switch
    {
        KvRequestException e when e.Message.Contains("timed out", StringComparison.Ordinal) => PutOutcome.Unknown,
        KvRequestException => PutOutcome.Failed,
        KvUnavailableException or TimeoutException or OperationCanceledException => PutOutcome.Unknown,
        _ => throw new ArgumentException($"not a put outcome: {error.GetType().Name}: {error.Message}", nameof(error)),
    };

    public void Record(PutAttempt attempt)
    {
        if (attempt.End < attempt.Start) throw new ArgumentException($"put {attempt.Value} ends before it starts", nameof(attempt));
        lock (_gate) _attempts.Add(attempt);
    }

    /// <summary>Notes a fault-schedule event (kill, restart...) at <paramref name="at"/>.</summary>
    public void Mark(string name, TimeSpan at)
    {
        lock (_gate) _marks.Add((name, at));
    }

    public ImmutableList<PutAttempt> Attempts
    {
        get { lock (_gate) return [.. _attempts.OrderBy(a => a.Start).ThenBy(a => a.Writer).ThenBy(a => a.Seq)]; }
    }

    public TimeSpan MarkOf(string name)
    {
        lock (_gate) return _marks.First(m => m.Name == name).At;
    }

    /// <summary>Puts that started in [from, to).</summary>
    public WindowSummary Window(TimeSpan from, TimeSpan to)
    {
        var started = Attempts.Where(a => a.Start >= from && a.Start < to).ToList();
        return new WindowSummary(from, to, started.Count,
            started.Count(a => a.Outcome == PutOutcome.Acked),
            started.Count(a => a.Outcome == PutOutcome.Failed),
            started.Count(a => a.Outcome == PutOutcome.Unknown));
    }

    /// <summary>The first acknowledged put that started at or after <paramref name="after"/>, matching <paramref name="which"/>, and took less than <paramref name="fast"/>; null if none.</summary>
    public PutAttempt? FirstFast(TimeSpan after, TimeSpan fast, Func<PutAttempt, bool> which) =>
        Attempts.Where(a => a.Start >= after && a.Outcome == PutOutcome.Acked && a.Latency < fast && which(a))
            .OrderBy(a => a.End).FirstOrDefault();

    /// <summary>The last put that started in [from, to), matching <paramref name="which"/>, and took at least <paramref name="slow"/>; null if none.</summary>
    public PutAttempt? LastSlow(TimeSpan from, TimeSpan to, TimeSpan slow, Func<PutAttempt, bool> which) =>
        Attempts.Where(a => a.Start >= from && a.Start < to && a.Latency >= slow && which(a))
            .OrderBy(a => a.Start).LastOrDefault();

    /// <summary>Checks the history against <paramref name="finalValues"/>: every value each key read back as at the end.</summary>
    public HistoryCheck Check(IReadOnlyDictionary<string, IReadOnlyCollection<string>> finalValues)
    {
        var byKey = Attempts.GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.ToDictionary(a => a.Seq));
        foreach (var (key, puts) in byKey)
            foreach (var put in puts.Values)
                foreach (var covered in put.Covers)
                    if (covered >= put.Seq || !puts.ContainsKey(covered))
                        throw new ArgumentException($"put {put.Value} covers #{covered}, which is not an earlier put of {key}");

        var lost = ImmutableList.CreateBuilder<LostWrite>();
        var phantoms = ImmutableList.CreateBuilder<(string, string)>();
        var unread = ImmutableList.CreateBuilder<string>();
        var acked = 0;
        var superseded = 0;
        foreach (var (key, values) in finalValues)
            foreach (var value in values)
                if (Parse(value) is not { } parsed || parsed.Key != key || !byKey.TryGetValue(key, out var puts) || !puts.ContainsKey(parsed.Seq))
                    phantoms.Add((key, value));

        foreach (var (key, puts) in byKey.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var keyAcked = puts.Values.Where(p => p.Outcome == PutOutcome.Acked).OrderBy(p => p.Seq).ToList();
            acked += keyAcked.Count;
            if (keyAcked.Count == 0) continue;
            if (!finalValues.TryGetValue(key, out var values))
            {
                unread.Add(key);
                continue;
            }
            var present = values.Select(Parse).OfType<(string Key, long Seq)>().Where(p => p.Key == key).Select(p => p.Seq).ToHashSet();
            // Covers point only to earlier puts, so one pass from the newest put down settles every value.
            var accounted = new HashSet<long>(present);
            foreach (var put in puts.Values.OrderByDescending(p => p.Seq))
                if (accounted.Contains(put.Seq))
                    foreach (var covered in put.Covers)
                        accounted.Add(covered);
            foreach (var put in keyAcked)
            {
                if (present.Contains(put.Seq)) continue;
                if (accounted.Contains(put.Seq))
                {
                    superseded++;
                    continue;
                }
                var coveredBy = puts.Values.Where(p => p.Covers.Contains(put.Seq)).Select(p => $"#{p.Seq} ({p.Outcome})").ToList();
                lost.Add(new LostWrite(put, $"read back [{string.Join(", ", values)}]; " +
                    (coveredBy.Count == 0 ? "no later put covered it" : $"covered only by {string.Join(", ", coveredBy)}, none of them read back or superseded in turn")));
            }
        }
        return new HistoryCheck(lost.ToImmutable(), phantoms.ToImmutable(), unread.ToImmutable(), acked, superseded,
            finalValues.Count(kv => kv.Value.Count > 1));
    }
}
