using AkkaKv.Hashes;
using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.Coordination;
using AkkaKv.HintedHandoff;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Serialization;
using AkkaKv.Sharding;
using AkkaKv.Transactions;
using AkkaKv.Versioning;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary>One ActorSystem with just the store's serializer bindings, shared by the serialization tests.</summary>
public sealed class SerializationSystemFixture : IDisposable
{
    public ActorSystem System { get; } = ActorSystem.Create("t", KvConfig.Serialization);
    public void Dispose() => System.Dispose();
}

public sealed class SerializationTests(SerializationSystemFixture fixture) : IClassFixture<SerializationSystemFixture>
{
    private static Bytes B(string s) => Bytes.FromUtf8(s);

    private static readonly SiblingSet Siblings = SiblingSet.Of(
    [
        new Sibling(new Dot("n1/0.0badf00d", 3), VersionVector.Empty.With(new Dot("n2/1.00000001", 2)), B("left"), 1_700_000_000_000),
        new Sibling(new Dot("n2/1.00000001", 4), VersionVector.Empty.With(new Dot("n2/1.00000001", 2)), null, 1_700_000_000_001),
        new Sibling(new Dot("n3/2.ffffffff", 1), VersionVector.Empty, Bytes.From([0, 0xFF, 0xC3]), -5),
        new Sibling(new Dot("n4/0.00000002", 9), VersionVector.Empty, B("expiring"), 1_700_000_000_002, ExpiresAtMs: 1_700_000_060_002),
        new Sibling(new Dot("n4/0.00000002", 10), VersionVector.Empty, Bytes.Empty, -1, ExpiresAtMs: 1),
        // A counter version (an increment with a base and a deadline), and a tombstone that reset counter versions.
        // A hash version with a deadline and a reset floor, and one without either.
        new Sibling(new Dot("n6/0.00000004", 3), VersionVector.Empty.With(new Dot("n6/0.00000004", 2)), Bytes.Empty, 1_700_000_000_004, 1_700_000_060_004,
            new CounterPart(Counter(("n5/0.00000003", 5, 1)), Counter(("n5/0.00000003", 5, 1)), null, IsIncrement: false),
            HashPart.Of([new HashField(B("data"), new Dot("n6/0.00000004", 3), 1_700_000_000_004, Bytes.From([0, 0xFF])),
                new HashField(B("absexp"), new Dot("n6/0.00000004", 2), 1_700_000_000_001, B("-1"))])),
        new Sibling(new Dot("n6/0.00000004", 4), VersionVector.Empty, Bytes.Empty, 5, Hash: HashPart.Of([new HashField(Bytes.Empty, new Dot("n6/0.00000004", 4), 5, Bytes.Empty)])),
        new Sibling(new Dot("n5/0.00000003", 2), VersionVector.Empty, B("12"), 1_700_000_000_003, 1_700_000_060_003,
            new CounterPart(Counter(("n5/0.00000003", 5, 1), ("n1/0.0badf00d", 9, 0)), Counter(("n1/0.0badf00d", 2, 0)),
                new CounterBase(new Dot("n9/0.00000001", 1), 1_600_000_000_000, -1), IsIncrement: true)),
        new Sibling(new Dot("n5/0.00000003", 3), VersionVector.Empty, null, 1_700_000_000_004, 0,
            new CounterPart(Counter(("n6/0.00000004", long.MaxValue, 3)), Counter(("n6/0.00000004", long.MaxValue, 3)), null, IsIncrement: false)),
    ]);

    private static PnCounter Counter(params (string Id, long Up, long Down)[] entries) =>
        PnCounter.Of(entries.Select(e => KeyValuePair.Create(e.Id, new CounterEntry(e.Up, e.Down))));

    private static readonly string Context = CausalContext.Development.Encode(Bytes.FromUtf8("k"), Siblings.Context);

    private static readonly ValueList<ReplicaReport> AllReportStates = ValueList.From(
        Enum.GetValues<ReplicaReadState>().Select((state, i) => new ReplicaReport(i, $"n{i}", state)));

    /// <summary>
    /// Hints for two targets (one merged, so its id is not the first), delivered and overflowed
    /// counters whose keys sort differently under ordinal and culture rules, and a NextId above
    /// every held id + 1 (the newest hint was delivered).
    /// </summary>
    private static readonly HintSnapshot SampleHintSnapshot = new[]
        {
            new HintAdded(1, new SlotId(12, 2), "n3", B("k"), SiblingSet.Of([Siblings.Siblings[0]])),
            new HintAdded(2, new SlotId(4, 0), "n10", Bytes.From([0]), Siblings),
            new HintAdded(3, new SlotId(12, 2), "n3", B("k"), Siblings),
            new HintAdded(4, new SlotId(5, 1), "N2", B("gone"), Siblings),
        }
        .Aggregate(HintStore.Empty, (store, e) => store.Apply(e))
        .Apply(new HintDelivered(4)).Apply(new HintOverflowed("n3")).Apply(new HintOverflowed("a")).Apply(new HintOverflowed("n3"))
        .ToSnapshot();

    /// <summary>Sample messages: at least one of every concrete <see cref="IKvMessage"/> type, with the optional parts both set and unset.</summary>
    private static readonly IReadOnlyDictionary<string, object> Samples = new Dictionary<string, object>
    {
        ["Get with default options"] = new Get(B("k"), RequestOptions.Default),
        ["Get with every option set"] = new Get(Bytes.From([0, 1, 255]), new RequestOptions(1, 3, TimeSpan.FromMilliseconds(1500.5), false)),
        ["Put blind"] = new Put(B("k"), B("v"), null, RequestOptions.Default),
        ["Put with context and empty value"] = new Put(B("k"), Bytes.Empty, Context, new RequestOptions(W: 3, Sloppy: true)),
        ["Put with a TTL"] = new Put(B("k"), B("v"), Context, RequestOptions.Default, TtlMs: 60_000),
        ["Put with the longest TTL"] = new Put(B("k"), B("v"), null, RequestOptions.Default, TtlMs: long.MaxValue),
        ["Delete blind"] = new Delete(B("k"), null, RequestOptions.Default),
        ["Delete with context"] = new Delete(B("k"), Context, new RequestOptions(Timeout: TimeSpan.FromSeconds(2))),
        ["GetSuccess with siblings"] = new GetSuccess(B("k"), ValueList.From([B("a"), Bytes.Empty, B("b")]), Context, AllReportStates),
        ["GetSuccess with no reports"] = new GetSuccess(B("k"), ValueList.From([B("a")]), "", ValueList<ReplicaReport>.Empty),
        ["GetSuccess with deadlines"] = new GetSuccess(B("k"), ValueList.From([B("a"), B("b")]), Context, AllReportStates, ValueList.From([0L, 1_800_000_000_000])),
        ["NotFound"] = new NotFound(B("k"), "", ValueList<ReplicaReport>.Empty),
        ["NotFound after a delete"] = new NotFound(B("k"), Context, AllReportStates),
        ["WriteSuccess"] = new WriteSuccess(B("k"), 2, Context, 1),
        ["Increment"] = new Increment(B("k"), -5, RequestOptions.Default),
        ["Increment by the smallest delta"] = new Increment(B("k"), long.MinValue, new RequestOptions(W: 3)),
        ["Increment that sets a TTL"] = new Increment(B("k"), 0, RequestOptions.Default, TtlMs: 60_000),
        ["Increment that removes the TTL"] = new Increment(B("k"), 0, RequestOptions.Default, TtlMs: 0),
        ["IncrementSuccess"] = new IncrementSuccess(B("k"), long.MaxValue, 2),
        ["HashWrite of every operation"] = new HashWrite(B("k"), ValueList.From([HashOp.Set((B("f"), B("v")), (Bytes.Empty, Bytes.From([0, 0xFF]))),
            HashOp.Delete(B("f"), B("g")), HashOp.Increment(B("n"), long.MinValue), HashOp.Expire(60_000), HashOp.Expire(0)]), new RequestOptions(W: 3)),
        ["HashWriteSuccess"] = new HashWriteSuccess(B("k"), ValueList.From([2L, 0, long.MinValue, 1]), 2),
        ["Transaction of every operation"] = new Transaction(B("k"), ValueList.From([KeyOp.Read(), KeyOp.Set(B("v")), KeyOp.Set(Bytes.Empty, KeyOp.KeepTtl),
            KeyOp.Set(B("v"), 60_000), KeyOp.Delete(), KeyOp.Increment(long.MinValue), KeyOp.Expire(-1), KeyOp.Expire(1000, Expiry.ExpireCondition.Xx | Expiry.ExpireCondition.Gt),
            KeyOp.Persist(), KeyOp.Of(HashOp.Set((B("f"), B("v")))), KeyOp.Of(HashOp.Delete(B("f"))), KeyOp.Of(HashOp.Increment(B("n"), 2))]), new RequestOptions(W: 3)),
        ["TransactionSuccess"] = new TransactionSuccess(B("k"), ValueList.From([new KeyOpResult(1), new KeyOpResult(0, "Operation against a key holding the wrong kind of value ✓"),
            new KeyOpResult(0, Read: KeyRead.Absent), new KeyOpResult(0, Read: new KeyRead(KeyType.String, Bytes.From([0, 0xFF]), ValueList<Bytes>.Empty, 1_800_000_000_000)),
            new KeyOpResult(long.MinValue, Read: new KeyRead(KeyType.Hash, Bytes.Empty, ValueList.From([B("f"), B("v")]), 0))]), 2),
        ["GetSuccess of a hash"] = new GetSuccess(B("k"), ValueList<Bytes>.Empty, Context, AllReportStates, ValueList.From([1_800_000_000_000L]),
            ValueList.From([B("absexp"), B("-1"), B("data"), Bytes.From([0, 0xFF])])),
        ["GetSuccess of a hash without a deadline"] = new GetSuccess(B("k"), ValueList<Bytes>.Empty, "", ValueList<ReplicaReport>.Empty, ValueList.From([0L]), ValueList<Bytes>.Empty),
        ["RequestFailed"] = new RequestFailed(B("k"), "timed out after 5000 ms with 1 of W=2 durable acks ✓", 1, 2),
        ["RequestFailed of a read with replica states"] = new RequestFailed(B("k"), "timed out", 1, 2, AllReportStates),
        ["GetStatus"] = GetStatus.Instance,
        ["NodeStatus"] = new NodeStatus("n1",
            ValueList.From([new MemberInfo("n1", "akka.tcp://akkakv@127.0.0.1:4053", "Up", true), new MemberInfo("n2", "akka.tcp://akkakv@127.0.0.1:4054", "Leaving", false)]),
            256, 3, 128, ValueList.From([KeyValuePair.Create("n1", 384), KeyValuePair.Create("n2", 384)]), 0, 0, 0, null),
        ["NodeStatus with warning"] = new NodeStatus("n1", ValueList<MemberInfo>.Empty, 16, 3, 8,
            ValueList<KeyValuePair<string, int>>.Empty, 48, 16, 5, "only 1 member: replicas share nodes", 16),
        ["NodeStatus with anti-entropy"] = new NodeStatus("n1", ValueList<MemberInfo>.Empty, 16, 3, 8,
            ValueList<KeyValuePair<string, int>>.Empty, 0, 0, 0, null, 16, ValueList<HintStats>.Empty,
            ValueList.From([new AntiEntropyStats("n1", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)])),
        ["NodeStatus with slot owners and moves"] = new NodeStatus("n1", ValueList<MemberInfo>.Empty, 2, 3, 8,
            ValueList<KeyValuePair<string, int>>.Empty, 1, 0, 1, null, 2, null, null,
            ValueList.From<string?>(["n1", "n2", "n3", "n2", null, "n10 ✓"]),
            ValueList.From([new SlotMove(new SlotId(1, 0), "n2", "n1"), new SlotMove(new SlotId(1, 2), "n10 ✓", "n3")])),
        ["NodeStatus with no slot owners collected"] = new NodeStatus("n1", ValueList<MemberInfo>.Empty, 2, 3, 8,
            ValueList<KeyValuePair<string, int>>.Empty, 6, 0, 0, "sharding stats did not arrive in time", 0, null, null, null, null),
        ["SlotEnvelope of ReplicaPut"] = new SlotEnvelope(new SlotId(12, 2), new ReplicaPut(42, B("k"), B("v"), Siblings.Context)),
        ["SlotEnvelope of blind delete"] = new SlotEnvelope(new SlotId(0, 0), new ReplicaPut(-1, B("k"), null, null)),
        ["SlotEnvelope of ReplicaMerge"] = new SlotEnvelope(new SlotId(255, 1), new ReplicaMerge(7, B("k"), Siblings, true)),
        ["SlotEnvelope of ReplicaRead"] = new SlotEnvelope(new SlotId(3, 0), new ReplicaRead(long.MaxValue, B("k"))),
        ["ReplicaPut"] = new ReplicaPut(long.MinValue, B("k"), B("v"), VersionVector.Empty, 1_796_000_000_123),
        ["ReplicaMerge"] = new ReplicaMerge(8, B("k"), SiblingSet.Empty, false),
        ["ReplicaPut that may be declined"] = new ReplicaPut(9, B("k"), null, null, 1, MayDecline: true),
        ["ReplicaPut with a deadline"] = new SlotEnvelope(new SlotId(2, 1), new ReplicaPut(9, B("k"), B("v"), null, 1, ExpiresAtMs: 1_800_000_000_000)),
        ["ReplicaNotReady"] = new ReplicaNotReady(9, new SlotId(3, 0), "n3"),
        ["ReplicaRead"] = new ReplicaRead(0, B("k")),
        ["ReplicaPutDone"] = new ReplicaPutDone(1, new SlotId(3, 0), "n2", Siblings, Siblings.Context),
        ["ReplicaPutDone of an increment"] = new ReplicaPutDone(1, new SlotId(3, 0), "n2", Siblings, VersionVector.Empty, Number: long.MinValue),
        ["ReplicaPut of an increment"] = new SlotEnvelope(new SlotId(2, 1), new ReplicaPut(9, B("k"), null, null, 1, MayDecline: true, IncrementBy: -3)),
        ["ReplicaPut of an increment that sets a deadline"] = new ReplicaPut(9, B("k"), null, null, 1, ExpiresAtMs: 1_800_000_000_000, IncrementBy: 0, SetsDeadline: true),
        ["ReplicaPut of an increment that removes the deadline"] = new ReplicaPut(9, B("k"), null, null, 1, IncrementBy: 0, SetsDeadline: true),
        ["ReplicaPut of hash operations"] = new SlotEnvelope(new SlotId(2, 1), new ReplicaPut(9, B("k"), null, null, 1, MayDecline: true,
            HashOps: ValueList.From([HashOp.Set((B("f"), B("v"))), HashOp.Increment(B("n"), 3), new HashOp(HashOpKind.Expire, ValueList<Bytes>.Empty, 1_800_000_000_000)]))),
        ["ReplicaPut of a transaction"] = new SlotEnvelope(new SlotId(2, 1), new ReplicaPut(9, B("k"), null, null, 1, MayDecline: true,
            Transaction: ValueList.From([KeyOp.Set(B("v"), 1_800_000_000_000), KeyOp.Increment(3), KeyOp.Read(), KeyOp.Expire(1_800_000_000_000, Expiry.ExpireCondition.Nx)]))),
        ["ReplicaPutDone of a transaction"] = new ReplicaPutDone(1, new SlotId(3, 0), "n2", Siblings, VersionVector.Empty,
            Outcomes: ValueList.From([new KeyOpResult(4), new KeyOpResult(0, Read: new KeyRead(KeyType.String, B("4"), ValueList<Bytes>.Empty, 0))])),
        ["ReplicaPutDone of a transaction that only read"] = new ReplicaPutDone(1, new SlotId(3, 0), "n2", SiblingSet.Empty, VersionVector.Empty,
            Outcomes: ValueList.From([new KeyOpResult(0, Read: KeyRead.Absent)])),
        ["ReplicaPutDone of hash operations"] = new ReplicaPutDone(1, new SlotId(3, 0), "n2", Siblings, VersionVector.Empty, Results: ValueList.From([1L, -7])),
        ["ReplicaPutDone of hash operations that changed nothing"] = new ReplicaPutDone(1, new SlotId(3, 0), "n2", SiblingSet.Empty, VersionVector.Empty, Results: ValueList.From([0L])),
        ["ReplicaPutRejected"] = new ReplicaPutRejected(1, new SlotId(3, 0), "n2", "the key would hold 65 concurrent versions"),
        ["ReplicaMergeDone"] = new ReplicaMergeDone(2, new SlotId(3, 1), "n3"),
        ["ReplicaReadResult"] = new ReplicaReadResult(3, new SlotId(3, 2), "n1", Siblings),
        ["ReplicaReadResult of nothing"] = new ReplicaReadResult(4, new SlotId(3, 2), "n1", SiblingSet.Empty),
        ["StopReplica"] = StopReplica.Instance,
        ["MerkleNodesRequest of the root"] = new SlotEnvelope(new SlotId(4, 1), new MerkleNodesRequest(5, 0, ValueList.From([0]))),
        ["MerkleNodesRequest"] = new MerkleNodesRequest(5, 2, ValueList.From([3, 17, 255])),
        ["MerkleNodes"] = new MerkleNodes(5, new SlotId(4, 1), "n2", ulong.MaxValue, 3, 16, 1, ValueList.From([2]),
            ValueList.From(Enumerable.Range(0, 16).Select(i => (ulong)i * 0x9E3779B97F4A7C15UL).ToArray())),
        ["MerkleNodes at a GC generation"] = new MerkleNodes(5, new SlotId(4, 1), "n2", 1, 3, 16, 0, ValueList.From([0]), ValueList<ulong>.Empty, 7),
        ["MerkleLeavesRequest"] = new SlotEnvelope(new SlotId(4, 0), new MerkleLeavesRequest(6, ValueList.From([4095, 0]))),
        ["MerkleLeaves"] = new MerkleLeaves(6, new SlotId(4, 0), ValueList.From([new MerkleEntry(B("a"), 1UL), new MerkleEntry(Bytes.From([0, 0xFF]), ulong.MaxValue)])),
        ["MerkleLeavesRequest alone"] = new MerkleLeavesRequest(6, ValueList<int>.Empty),
        ["MerkleLeavesRequest after a key"] = new MerkleLeavesRequest(6, ValueList.From([3]), Bytes.From([0, 0xFF, 7])),
        ["MerkleLeaves with more"] = new MerkleLeaves(6, new SlotId(4, 0), ValueList.From([new MerkleEntry(B("a"), 1UL)]), More: true),
        ["ReplicaFetch alone"] = new ReplicaFetch(7, ValueList.From([Bytes.From([0])])),
        ["ReplicaFetch"] = new SlotEnvelope(new SlotId(4, 2), new ReplicaFetch(7, ValueList.From([B("a"), B("b")]))),
        ["ReplicaFetched"] = new ReplicaFetched(7, new SlotId(4, 2), ValueList.From([KeyValuePair.Create(B("a"), Siblings), KeyValuePair.Create(B("b"), SiblingSet.Empty)])),
        ["GetAntiEntropyStats"] = GetAntiEntropyStats.Instance,
        ["LeaveNode"] = new LeaveNode("n4"),
        ["LeaveNode forced"] = new LeaveNode("n2 ✓", Force: true),
        ["DownNode"] = new DownNode("n3"),
        ["AdminReply accepted"] = new AdminReply(true, "n4", "n4 is leaving"),
        ["AdminReply refused"] = new AdminReply(false, "", "no member is named 'x'"),
        ["GetTransfers"] = GetTransfers.Instance,
        ["GetNodeTransfers"] = GetNodeTransfers.Instance,
        ["GetSlotSize"] = new SlotEnvelope(new SlotId(3, 1), new GetSlotSize(9)),
        ["SlotSize"] = new SlotSize(9, new SlotId(3, 1), 400, 52_000),
        ["ReplicaScan"] = new SlotEnvelope(new SlotId(3, 2), new ReplicaScan(11, 1L << 62, 250, B("user:*"))),
        ["ReplicaScan of all"] = new ReplicaScan(11, 0, 10, null),
        ["ReplicaScanned"] = new ReplicaScanned(11, new SlotId(3, 2), ValueList.From([KeyValuePair.Create(B("a"), Siblings), KeyValuePair.Create(B("b"), SiblingSet.Empty)]), long.MaxValue),
        ["ReplicaScanned to the end"] = new ReplicaScanned(11, new SlotId(3, 2), ValueList<KeyValuePair<Bytes, SiblingSet>>.Empty, null),
        ["Scan"] = new Scan(1L << 60, B("k[0-9]?"), 100, new RequestOptions(Timeout: TimeSpan.FromSeconds(2))),
        ["Scan from the start"] = new Scan(0, null, 10, RequestOptions.Default),
        ["ScanResult"] = new ScanResult(123_456_789, ValueList.From([B("a"), Bytes.From([0, 0xFF])])),
        ["ScanResult done"] = new ScanResult(0, ValueList<Bytes>.Empty),
        ["NodeTransfers idle"] = new AkkaKv.Placement.NodeTransfers("n1", ValueList<AkkaKv.Placement.SlotCatchUp>.Empty, 0, 0, 0, 0, 0, 0),
        ["TransferReport"] = new AkkaKv.Placement.TransferReport("n1", ValueList.From(["n4"]),
            ValueList.From([new AkkaKv.Placement.PendingMove("3/1", "n4", "n2", 400, 52_000), new AkkaKv.Placement.PendingMove("7/0", null, "n1", -1, -1)]),
            ValueList.From([new AkkaKv.Placement.NodeTransfers("n2", ValueList.From([new AkkaKv.Placement.SlotCatchUp("5/2", "n2", 1, 2, 120, 1L << 33, 900)]),
                12, 4000, 1L << 40, 300, 39_000, 60_000, ValueList.From([new AkkaKv.Placement.SlotSizeInfo("3/1", 400, 52_000)]))]),
            "the shard region of n3 did not answer"),
        ["TransferReport settled"] = new AkkaKv.Placement.TransferReport("n1", ValueList<string>.Empty, ValueList<AkkaKv.Placement.PendingMove>.Empty, ValueList<AkkaKv.Placement.NodeTransfers>.Empty),
        ["RepairSoon"] = new AkkaKv.AntiEntropy.RepairSoon("a hint for n3 overflowed"),
        ["ReadRepaired"] = new AkkaKv.AntiEntropy.ReadRepaired(2),
        ["AntiEntropyStats"] = new AntiEntropyStats("n2", 3, 1_796_000_000_000, 1_796_000_000_500, 900, 2, 256, 250, 200, 195, 1234, 99_000_000, 7, 12, 13),
        ["AntiEntropyStats with tombstone GC"] = new AntiEntropyStats("n2", 3, 1, 1, 900, 2, 256, 250, 200, 195, 1234, 99_000_000, 7, 12, 13,
            TombstonesPurged: 1L << 40, TombstonesPending: 17, LastGcSkipped: "n3 holds 2 hint(s) ✓", SlotCatchUps: 5, SlotsCatchingUp: 3, SlotCatchUpsIncomplete: 4),
        ["TombstonesPurged"] = new TombstonesPurged(3, ValueList.From([new MerkleEntry(B("gone"), 0xDEADBEEFUL)])),
        ["TombstonesPurged of nothing (a generation only)"] = new TombstonesPurged(long.MaxValue, ValueList<MerkleEntry>.Empty),
        ["ReplicaReset"] = new ReplicaReset(4),
        ["ListTombstones"] = new SlotEnvelope(new SlotId(9, 0), new ListTombstones(21, 10_000)),
        ["TombstoneList"] = new TombstoneList(21, new SlotId(9, 0), 2, ValueList.From([new MerkleEntry(B("a"), ulong.MaxValue)])),
        ["PurgeTombstones"] = new SlotEnvelope(new SlotId(9, 2), new PurgeTombstones(21, 3, ValueList.From([new MerkleEntry(B("a"), 5UL)]))),
        ["TombstonesPurgedAck"] = new TombstonesPurgedAck(21, new SlotId(9, 2), 1),
        ["GcGenerationSeen"] = new SlotEnvelope(new SlotId(9, 1), new GcGenerationSeen(22, 3)),
        ["SlotBatch"] = new SlotBatch(ValueList.From([
            new BatchedRequest(1, new SlotEnvelope(new SlotId(3, 0), new ReplicaRead(40, B("k")))),
            new BatchedRequest(long.MaxValue, new SlotEnvelope(new SlotId(12, 2), new ReplicaPut(41, B("k"), B("v"), Siblings.Context, 1, ExpiresAtMs: 5))),
            new BatchedRequest(0, new SlotEnvelope(new SlotId(255, 1), new ReplicaMerge(42, B("k"), Siblings, false)))])),
        ["SlotBatch, empty"] = new SlotBatch(ValueList<BatchedRequest>.Empty),
        ["ReplyBatch"] = new ReplyBatch(ValueList.From([
            new BatchedReply(1, new ReplicaReadResult(40, new SlotId(3, 0), "n2", Siblings)),
            new BatchedReply(2, new ReplicaPutDone(41, new SlotId(12, 2), "n2", Siblings, Siblings.Context)),
            new BatchedReply(3, new ReplicaPutDone(43, new SlotId(12, 2), "n2", Siblings, VersionVector.Empty, Number: -7)),
            new BatchedReply(4, new ReplicaMergeDone(42, new SlotId(255, 1), "n3")),
            new BatchedReply(5, new ReplicaNotReady(44, new SlotId(1, 1), "n3")),
            new BatchedReply(long.MaxValue, new ReplicaPutRejected(45, new SlotId(1, 0), "n2", "too many siblings"))])),
        ["ListTombstones alone"] = new ListTombstones(21, 1),
        ["PurgeTombstones alone"] = new PurgeTombstones(21, 3, ValueList<MerkleEntry>.Empty),
        ["GcGenerationSeen alone"] = new GcGenerationSeen(22, long.MaxValue),
        ["ReplicaIncarnated"] = new ReplicaIncarnated("n1/0.0badf00d"),
        ["SiblingsMerged"] = new SiblingsMerged(B("k"), Siblings),
        ["ReplicaSnapshot"] = new ReplicaSnapshot("n1/0.0badf00d", 17,
            ImmutableSortedDictionary<Bytes, SiblingSet>.Empty.Add(B("k"), Siblings).Add(Bytes.From([0]), SiblingSet.Empty)),
        ["ReplicaSnapshot of an empty replica"] = new ReplicaSnapshot("", 0, ImmutableSortedDictionary<Bytes, SiblingSet>.Empty),
        ["ReplicaSnapshot after tombstone GC"] = new ReplicaSnapshot("n1/0.0badf00d", 17, ImmutableSortedDictionary<Bytes, SiblingSet>.Empty.Add(B("k"), Siblings), 9),
        ["StoreHint"] = new StoreHint(11, new SlotId(12, 2), "n3", B("k"), Siblings),
        ["StoreHint of an empty set for a binary key"] = new StoreHint(long.MaxValue, new SlotId(0, 0), "n10", Bytes.From([0, 0xFF]), SiblingSet.Empty),
        ["HintStored"] = new HintStored(11, new SlotId(12, 2), "n1"),
        ["HintRefused"] = new HintRefused(12, new SlotId(255, 1), "n1", "n1 holds 100000 hints for n3 (hints.max-per-target) ✓"),
        ["GetHintStats"] = GetHintStats.Instance,
        ["HintStats"] = new HintStats("n1", ValueList.From([new HintTargetStats("n2", 3, 10, 0), new HintTargetStats("n3", 0, long.MaxValue, 7)])),
        ["HintStats of a node that never held a hint"] = new HintStats("n1", ValueList<HintTargetStats>.Empty),
        ["HintAdded"] = new HintAdded(1, new SlotId(12, 2), "n3", B("k"), Siblings),
        ["HintAdded with a large id"] = new HintAdded(1L << 40, new SlotId(3, 0), "n2", Bytes.Empty, SiblingSet.Empty),
        ["HintDelivered"] = new HintDelivered(42),
        ["HintOverflowed"] = new HintOverflowed("n3"),
        ["HintSnapshot"] = SampleHintSnapshot,
        ["HintSnapshot of an empty store"] = HintStore.Empty.ToSnapshot(),
    };

    public static TheoryData<string> SampleNames => new(Samples.Keys);

    private static void AssertSameMessage(object expected, object actual)
    {
        Assert.IsType(expected.GetType(), actual);
        if (expected is ReplicaSnapshot s)
        {
            // ReplicaSnapshot's Keys is an ImmutableSortedDictionary, which compares by reference: compare its content.
            var a = (ReplicaSnapshot)actual;
            Assert.Equal(s.ActorId, a.ActorId);
            Assert.Equal(s.Counter, a.Counter);
            Assert.Equal(s.GcGeneration, a.GcGeneration);
            Assert.Equal(s.Keys.Keys, a.Keys.Keys);
            foreach (var (k, v) in s.Keys) Assert.Equal(v, a.Keys[k]);
        }
        else if (expected is HintSnapshot h) AssertSameHintSnapshot(h, (HintSnapshot)actual);
        else Assert.Equal(expected, actual);
    }

    /// <summary>HintSnapshot holds ImmutableSortedDictionary, which compares by reference: compare its fields.</summary>
    private static void AssertSameHintSnapshot(HintSnapshot expected, HintSnapshot actual)
    {
        Assert.Equal(expected.NextId, actual.NextId);
        Assert.Equal(expected.Hints.ToArray(), actual.Hints.ToArray());
        Assert.Equal(expected.Replayed.ToArray(), actual.Replayed.ToArray());
        Assert.Equal(expected.Overflowed.ToArray(), actual.Overflowed.ToArray());
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Every_store_message_is_carried_by_KvSerializer_and_comes_back_equal(string name)
    {
        var message = Samples[name];
        var serializer = fixture.System.Serialization.FindSerializerFor(message);
        var kv = Assert.IsType<KvSerializer>(serializer);
        Assert.Equal(KvSerializer.Id, kv.Identifier);

        var manifest = kv.Manifest(message);
        var bytes = kv.ToBinary(message);
        AssertSameMessage(message, kv.FromBinary(bytes, manifest));
        // The same through Akka's own lookup by serializer id, as remoting and persistence do it.
        AssertSameMessage(message, fixture.System.Serialization.Deserialize(bytes, kv.Identifier, manifest));
    }

    [Fact]
    public void Every_message_type_of_the_store_has_a_roundtrip_sample()
    {
        var types = typeof(IKvMessage).Assembly.GetTypes()
            .Where(t => typeof(IKvMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToList();
        Assert.NotEmpty(types);
        var sampled = Samples.Values.Select(m => m.GetType()).ToHashSet();
        Assert.All(types, t => Assert.True(sampled.Contains(t), $"{t.FullName} has no serialization sample"));
        Assert.All(types.Where(t => t.Namespace is "AkkaKv.Protocol" or "AkkaKv.Replica" or "AkkaKv.HintedHandoff"), t => Assert.Contains(t, sampled));
    }

    [Fact]
    public void A_replica_snapshot_stored_before_tombstone_GC_reads_back_at_generation_0()
    {
        var kv = (KvSerializer)fixture.System.Serialization.FindSerializerFor(GetStatus.Instance);
        var snapshot = new ReplicaSnapshot("n1/0.0badf00d", 17, ImmutableSortedDictionary<Bytes, SiblingSet>.Empty.Add(B("k"), Siblings));
        var current = kv.ToBinary(snapshot);
        Assert.Equal("S2", kv.Manifest(snapshot));
        // The old "SS" layout is the same fields without the trailing generation (a one-byte 0 here).
        Assert.Equal(0, current[^1]);
        var old = (ReplicaSnapshot)kv.FromBinary(current[..^1], "SS");
        AssertSameMessage(snapshot, old);
        Assert.Equal(0, old.GcGeneration);
    }

    [Fact]
    public void A_node_status_in_the_layout_before_slot_owners_reads_back_without_them()
    {
        var kv = (KvSerializer)fixture.System.Serialization.FindSerializerFor(GetStatus.Instance);
        var status = (NodeStatus)Samples["NodeStatus with anti-entropy"];
        var current = kv.ToBinary(status);
        Assert.Equal("N2", kv.Manifest(status));
        // The old "NS" layout is the same fields without the two trailing "absent" flags.
        Assert.Equal([0, 0], current[^2..]);
        var old = (NodeStatus)kv.FromBinary(current[..^2], "NS");
        AssertSameMessage(status, old);
        Assert.Null(old.SlotOwners);
    }

    [Fact]
    public void Manifests_are_distinct_per_message_type()
    {
        var byType = Samples.Values.GroupBy(m => m.GetType()).ToDictionary(g => g.Key, g => KvSerializer.ManifestOf(g.First()));
        Assert.Equal(byType.Count, byType.Values.Distinct().Count());
    }

    [Fact]
    public void Messages_of_other_types_are_not_handed_to_KvSerializer()
    {
        Assert.IsNotType<KvSerializer>(fixture.System.Serialization.FindSerializerFor("just a string"));
        Assert.Throws<ArgumentException>(() => KvSerializer.ManifestOf("just a string"));
    }

    [Fact]
    public void A_frame_with_an_unknown_manifest_is_refused()
    {
        var kv = (KvSerializer)fixture.System.Serialization.FindSerializerFor(GetStatus.Instance);
        var e = Assert.Throws<FormatException>(() => kv.FromBinary([], "??"));
        Assert.Contains("??", e.Message);
    }

    [Fact]
    public void A_reply_batch_carrying_anything_but_a_replica_reply_is_refused()
    {
        var kv = (KvSerializer)fixture.System.Serialization.FindSerializerFor(GetStatus.Instance);
        // A request where a reply belongs (a peer's bug or a forged frame): refused, not decoded.
        var forged = kv.ToBinary(new ReplyBatch(ValueList.From([new BatchedReply(1, new ReplicaRead(40, B("k")))])));
        var e = Assert.Throws<FormatException>(() => kv.FromBinary(forged, "CR"));
        Assert.Contains("'RR'", e.Message);
    }

    [Fact]
    public void A_truncated_frame_is_refused_with_FormatException()
    {
        var kv = (KvSerializer)fixture.System.Serialization.FindSerializerFor(GetStatus.Instance);
        foreach (var (name, message) in Samples)
        {
            var manifest = kv.Manifest(message);
            var bytes = kv.ToBinary(message);
            for (var len = 0; len < bytes.Length; len++)
            {
                var prefix = bytes[..len];
                var ex = Record.Exception(() => kv.FromBinary(prefix, manifest));
                Assert.True(ex is FormatException, $"{name}: a frame cut to {len} of {bytes.Length} bytes gave {ex?.GetType().Name ?? "no exception"}");
            }
        }
    }
    [Fact]
    public void A_hint_snapshot_comes_back_with_every_hint_both_counters_and_its_next_id_and_restores_the_same_store()
    {
        var kv = (KvSerializer)fixture.System.Serialization.FindSerializerFor(SampleHintSnapshot);
        Assert.Equal("HN", kv.Manifest(SampleHintSnapshot));

        var back = Assert.IsType<HintSnapshot>(kv.FromBinary(kv.ToBinary(SampleHintSnapshot), "HN"));

        Assert.Equal(5, back.NextId);
        Assert.Equal(new long[] { 2, 3 }, back.Hints.Keys);
        Assert.Equal(new Hint(2, new SlotId(4, 0), "n10", Bytes.From([0]), Siblings), back.Hints[2]);
        Assert.Equal(new Hint(3, new SlotId(12, 2), "n3", B("k"), Siblings), back.Hints[3]);
        Assert.Equal([KeyValuePair.Create("N2", 1L)], back.Replayed);
        // Counters come back in ordinal order, as the store keeps them: "N2" < "a" < "n3".
        Assert.Equal([KeyValuePair.Create("a", 1L), KeyValuePair.Create("n3", 2L)], back.Overflowed);
        Assert.Equal(["N2", "a", "n3"], back.Replayed.Keys.Concat(back.Overflowed.Keys));

        var restored = HintStore.FromSnapshot(back);
        var original = HintStore.FromSnapshot(SampleHintSnapshot);
        Assert.Equal(original.Stats(), restored.Stats());
        Assert.Equal(
        [
            new HintTargetStats("N2", 0, 1, 0),
            new HintTargetStats("a", 0, 0, 1),
            new HintTargetStats("n10", 1, 0, 0),
            new HintTargetStats("n3", 1, 0, 2),
        ], restored.Stats());
        // The next hint gets the snapshot's NextId, not one past the highest held id.
        Assert.Equal(5, restored.Store(new SlotId(1, 1), "n3", B("new"), Siblings).Id);
    }
}
