using Akka.Actor;
using BenchmarkDotNet.Attributes;
using AkkaKv.Hosting;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Serialization;
using AkkaKv.Placement;
using AkkaKv.Versioning;

namespace AkkaKv.Benchmarks;

/// <summary>The pure core on the hot path of every request: placement, sibling merge, wire format.</summary>
[MemoryDiagnoser]
public class CoreBenchmarks
{
    private readonly Partitioner _partitioner = new(256);
    private HashRing _ring = null!;
    private Bytes _key = null!;
    private SiblingSet _three = null!;
    private SiblingSet _incoming = null!;
    private SiblingSet _one = null!;
    private SiblingSet _overwrite = null!;
    private ReplicaMerge _merge = null!;
    private byte[] _mergeBytes = null!;
    private ActorSystem _system = null!;
    private KvSerializer _serializer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ring = new HashRing(["n1", "n2", "n3", "n4", "n5"], 128);
        _key = Bytes.FromUtf8("user:12345:cart");
        var value = Bytes.From(new byte[100]);
        var s1 = new Sibling(new Dot("n1/0.aaaaaaaa", 10), VersionVector.Empty, value, 1);
        var s2 = new Sibling(new Dot("n2/1.bbbbbbbb", 4), VersionVector.Empty, value, 2);
        var s3 = new Sibling(new Dot("n3/2.cccccccc", 7), VersionVector.Empty, value, 3);
        _three = SiblingSet.Of([s1, s2, s3]);
        _incoming = SiblingSet.Of([new Sibling(new Dot("n1/0.aaaaaaaa", 11), _three.Context, value, 4)]);
        // The common write: one held version, replaced by a put that saw it.
        _one = SiblingSet.Of([s1]);
        _overwrite = SiblingSet.Of([new Sibling(new Dot("n1/0.aaaaaaaa", 11), _one.Context, value, 4)]);
        _merge = new ReplicaMerge(42, _key, _three, true);
        _system = ActorSystem.Create("bench", KvConfig.Serialization);
        _serializer = (KvSerializer)_system.Serialization.FindSerializerFor(_merge);
        _mergeBytes = _serializer.ToBinary(_merge);
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark]
    public int PartitionOfKey() => _partitioner.PartitionOf(_key);

    [Benchmark]
    public PreferenceList PreferenceListForPartition() => PreferenceList.For(77, 3, _ring, _partitioner);

    [Benchmark]
    public SiblingSet MergeConcurrentSiblings() => _three.Merge(_incoming);

    [Benchmark]
    public SiblingSet MergeSupersedingWrite() => _one.Merge(_overwrite);

    [Benchmark]
    public byte[] SerializeReplicaMerge() => _serializer.ToBinary(_merge);

    [Benchmark]
    public object DeserializeReplicaMerge() => _serializer.FromBinary(_mergeBytes, "RM");

    [Benchmark]
    public int PlanAllSlotsFor4Nodes() => SlotPlacement.Plan(new HashRing(["n1", "n2", "n3", "n4"], 128), _partitioner, 3, new Dictionary<SlotId, string>()).Count;
}
