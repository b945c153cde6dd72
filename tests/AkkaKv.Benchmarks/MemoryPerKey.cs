using System.Collections.Immutable;
using AkkaKv.Codec;
using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Versioning;

namespace AkkaKv.Benchmarks;

/// <summary>
/// Managed bytes a node holds per key-replica beyond the value, measured in-process (no cluster,
/// deterministic): 256 replica slots, as one node of a 3-node cluster holds, each with its state
/// and Merkle tree, take <c>keys</c> distinct keys of 100 B as <c>akkakv fill</c> writes them (blind
/// puts, each decoded from the wire format a replica receives), then again overwritten once.
///   dotnet run -c Release --project tests/AkkaKv.Benchmarks -- memory [keys, default 100000]
/// </summary>
public static class MemoryPerKey
{
    public static void Run(int keys)
    {
        const int slots = 256, valueSize = 100;
        var shape = MerkleShape.ForPartitions(slots);
        var states = new ReplicaState[slots];
        var trees = new MerkleTree[slots];
        for (var s = 0; s < slots; s++)
        {
            states[s] = ReplicaState.Empty.Apply(new ReplicaIncarnated(ReplicaState.NewActorId("n2", s, new Random(s))));
            trees[s] = new MerkleTree(shape);
        }
        var minters = Enumerable.Range(0, slots).Select(s => ReplicaState.NewActorId("n1", s, new Random(1000 + s))).ToArray();
        long Live() { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); return GC.GetTotalMemory(true); }

        var before = Live();
        Write(states, trees, minters, keys, valueSize, round: 1);
        var afterFill = Live();
        Write(states, trees, minters, keys, valueSize, round: 2);
        var afterOverwrite = Live();
        GC.KeepAlive(states); GC.KeepAlive(trees);

        // How the in-memory cost of a write changes with the data held: 60,000 overwrites of random
        // keys (as many replica events as 20,000 SETs bring a node of three), timed, with the GCs they cause.
        const int updates = 60_000;
        var random = new Random(42);
        var value = new byte[valueSize];
        var (gen0, gen1, gen2, pause) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (var u = 0; u < updates; u++)
        {
            var i = random.Next(keys);
            var s = i % slots;
            var key = Bytes.FromUtf8($"load-{i}");
            var set = SiblingSet.Of([new Sibling(new Dot(minters[s], 3L * keys + u), states[s].Get(key).Context, Bytes.From(value), 1_800_000_000_000 + u)]);
            states[s] = states[s].Apply(new SiblingsMerged(key, set));
            trees[s].Set(key, states[s].Get(key));
        }
        sw.Stop();

        Console.WriteLine($"keys: {keys:N0} in {slots} slots, values {valueSize} B");
        Console.WriteLine($"{updates:N0} overwrites of random keys: {sw.Elapsed.TotalMilliseconds * 1000 / updates:F2} µs each; GCs gen0/gen1/gen2 {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}, pause {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:F0} ms");
        // What one snapshot of a slot costs at this size: the node's snapshot format (as KvSerializer
        // writes a ReplicaSnapshot) written, then read back and its Merkle tree rebuilt, as at recovery.
        var snap = System.Diagnostics.Stopwatch.StartNew();
        long snapshotBytes = 0;
        var written = new byte[slots][];
        for (var s = 0; s < slots; s++)
        {
            var w = new KvWriter();
            w.WriteString(states[s].ActorId ?? ""); w.WriteVarLong(states[s].Counter);
            w.WriteVarULong((ulong)states[s].Keys.Count);
            foreach (var (k, v) in states[s].Keys) { w.WriteBytes(k); w.WriteSiblings(v); }
            w.WriteVarLong(states[s].GcGeneration);
            written[s] = w.ToArray();
            snapshotBytes += written[s].Length;
        }
        var writeMs = snap.Elapsed.TotalMilliseconds;
        snap.Restart();
        for (var s = 0; s < slots; s++)
        {
            var r = new KvReader(written[s]);
            r.ReadString(); r.ReadVarLong();
            var map = r.ReadKeyMap();
            GC.KeepAlive(MerkleTree.Build(shape, map));
        }
        var readMs = snap.Elapsed.TotalMilliseconds;
        Console.WriteLine($"snapshots of all {slots} slots: {snapshotBytes / slots / 1024.0:F0} KB each; written in {writeMs / slots:F2} ms each ({writeMs:F0} ms for all), read back with the Merkle tree rebuilt in {readMs / slots:F2} ms each ({readMs:F0} ms for all)");
        Console.WriteLine($"after fill (one version each):        {(afterFill - before) / (double)keys:F0} B per key-replica, {(afterFill - before) / (double)keys - valueSize:F0} B beyond the value");
        Console.WriteLine($"after one overwrite (past = 1 actor): {(afterOverwrite - before) / (double)keys:F0} B per key-replica, {(afterOverwrite - before) / (double)keys - valueSize:F0} B beyond the value");
    }

    private static void Write(ReplicaState[] states, MerkleTree[] trees, string[] minters, int keys, int valueSize, int round)
    {
        var value = new byte[valueSize];
        for (var i = 0; i < keys; i++)
        {
            var s = i % states.Length;
            var key = Bytes.FromUtf8($"load-{i}");
            var minted = new Dot(minters[s], round * (long)keys + i);
            var past = round == 1 ? VersionVector.Empty : VersionVector.Empty.With(new Dot(minters[s], (round - 1) * (long)keys + i));
            value[0] = (byte)i;
            var set = SiblingSet.Of([new Sibling(minted, past, Bytes.From(value), 1_700_000_000_000 + i)]);
            // As a replica receives it: encoded by the coordinating replica, decoded here.
            var w = new KvWriter();
            w.WriteBytes(key);
            w.WriteSiblings(set);
            var r = new KvReader(w.ToArray());
            var evt = new SiblingsMerged(r.ReadBytes(), r.ReadSiblings());
            states[s] = states[s].Apply(evt);
            trees[s].Set(evt.Key, states[s].Get(evt.Key));
        }
    }
}
