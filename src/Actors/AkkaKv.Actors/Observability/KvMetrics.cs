using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AkkaKv.Observability;

/// <summary>
/// The node's meters (<see cref="System.Diagnostics.Metrics"/>), exported by OpenTelemetry on the
/// HTTP port's <c>/metrics</c>. Names follow OpenTelemetry's conventions: lower-case dotted
/// namespaces under <c>akkakv.</c>, units in UCUM (<c>s</c>, <c>By</c>, <c>{request}</c>), and
/// attributes for the dimensions (<c>akkakv.operation</c>, <c>akkakv.outcome</c>). The Prometheus
/// exporter turns them into e.g. <c>akkakv_request_duration_seconds_bucket</c>. One process is one
/// node, so they are process-wide; recording costs a few atomic adds when nothing listens.
/// </summary>
public static class KvMetrics
{
    public const string MeterName = "AkkaKv";

    /// <summary>Latency buckets in seconds, 0.5 ms to 10 s (a journal write uses them up to 2.5 s).</summary>
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly Meter Meter = new(MeterName, typeof(KvMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Client requests (get, put, delete) from arrival at the gateway to the reply, by operation and outcome.</summary>
    private static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("akkakv.request.duration", "s",
        "Duration of client requests (get, put, delete) coordinated by this node, from arrival to reply",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    private static readonly Histogram<int> ReadSiblings = Meter.CreateHistogram<int>("akkakv.read.siblings", "{sibling}",
        "Concurrent versions a successful read returned (1: no conflict)",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 3, 5, 10, 64] });

    private static readonly Counter<long> ReadRepairs = Meter.CreateCounter<long>("akkakv.read_repair.replicas", "{replica}",
        "Stale replicas a read sent the merged versions to");

    private static readonly Counter<long> HintsStored = Meter.CreateCounter<long>("akkakv.hints.stored", "{hint}",
        "Writes this node took as hints for an unreachable replica");

    private static readonly Counter<long> HintsReplayed = Meter.CreateCounter<long>("akkakv.hints.replayed", "{hint}",
        "Hints this node delivered to their replica once it was back");

    private static readonly Counter<long> HintsOverflowed = Meter.CreateCounter<long>("akkakv.hints.overflowed", "{hint}",
        "Writes this node could not hold as hints (its bound was full; the target needs repair)");

    private static readonly Counter<long> BatchMessages = Meter.CreateCounter<long>("akkakv.batch.messages", "{message}",
        "Remote messages the courier sent to other nodes, each carrying a batch of requests to replica slots or of their replies (kind: request, reply)");

    private static readonly Counter<long> BatchItems = Meter.CreateCounter<long>("akkakv.batch.items", "{item}",
        "Requests to replica slots and replies the courier carried in those messages (kind: request, reply); items / messages is the mean batch");

    private static readonly Counter<long> AntiEntropyKeys = Meter.CreateCounter<long>("akkakv.anti_entropy.keys_repaired", "{key}",
        "Keys Merkle exchanges (anti-entropy rounds and slot catch-ups) run by this node merged into a replica");

    private static readonly Counter<long> AntiEntropyBytes = Meter.CreateCounter<long>("akkakv.anti_entropy.bytes", "By",
        "Payload bytes of the Merkle exchanges run by this node (hashes, leaf entries, fetched versions)");

    private static readonly Histogram<double> JournalWrite = Meter.CreateHistogram<double>("akkakv.journal.write.duration", "s",
        "Time from a replica's persist to the journal's acknowledgement",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets[..^2] });

    private static long _hintsHeld;
    private static volatile FrozenDictionary<string, int> _slotsPerNode = FrozenDictionary<string, int>.Empty;

    static KvMetrics()
    {
        Meter.CreateObservableGauge("akkakv.hints.held", () => Interlocked.Read(ref _hintsHeld), "{hint}",
            "Hints this node holds for unreachable replicas");
        Meter.CreateObservableGauge("akkakv.slots", () => _slotsPerNode.Select(kv => new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("akkakv.node", kv.Key))),
            "{slot}", "Replica slots per node, as this node's view of the ring places them");
    }

    /// <summary>What became of a client request.</summary>
    public static class Outcome
    {
        public const string Ok = "ok";
        public const string QuorumNotMet = "quorum_not_met";
        public const string Timeout = "timeout";
        public const string Invalid = "invalid";
        public const string Overloaded = "overloaded";
    }

    /// <summary>The <c>akkakv.operation</c> of a request: get, put or delete.</summary>
    public static string OperationOf(Protocol.IKvRequest request) => request switch
    {
        Protocol.Get => "get",
        Protocol.Delete => "delete",
        Protocol.Increment => "incr",
        Protocol.HashWrite => "hash",
        Protocol.Transaction => "transaction",
        _ => "put",
    };

    public static void Request(string operation, string outcome, long startTimestamp) =>
        RequestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("akkakv.operation", operation), new KeyValuePair<string, object?>("akkakv.outcome", outcome));

    public static void Siblings(int count) => ReadSiblings.Record(count);

    public static void ReadRepaired(int replicas) => ReadRepairs.Add(replicas);

    /// <summary>The courier sent a batch of <paramref name="items"/> requests (or replies, <paramref name="replies"/>).</summary>
    public static void BatchSent(int items, bool replies)
    {
        var kind = new KeyValuePair<string, object?>("kind", replies ? "reply" : "request");
        BatchMessages.Add(1, kind);
        BatchItems.Add(items, kind);
    }

    public static void HintStored() => HintsStored.Add(1);

    public static void HintsReplayedAdd(long count) => HintsReplayed.Add(count);

    public static void HintOverflowed() => HintsOverflowed.Add(1);

    public static void HintsHeld(long held) => Interlocked.Exchange(ref _hintsHeld, held);

    public static void Exchanged(long keysRepaired, long bytes)
    {
        if (keysRepaired > 0) AntiEntropyKeys.Add(keysRepaired);
        if (bytes > 0) AntiEntropyBytes.Add(bytes);
    }

    public static void JournalWritten(long startTimestamp) => JournalWrite.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);

    public static void SlotsPerNode(IEnumerable<KeyValuePair<string, int>> slots) => _slotsPerNode = slots.ToFrozenDictionary();
}
