using Akka.Actor;
using Akka.Serialization;
using System.Collections.Immutable;
using AkkaKv.HintedHandoff;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Versioning;

namespace AkkaKv.Serialization;

/// <summary>
/// The store's one serializer, for every <see cref="IKvMessage"/>: client protocol, replica
/// protocol, persisted events and snapshots. Hand-written binary with a one- or two-letter
/// manifest per type. Manifests and field order are a storage format: never change or reuse
/// one; add new ones.
/// </summary>
public sealed class KvSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4711;
    public override int Identifier => Id;

    public override string Manifest(object o) => ManifestOf(o);

    /// <summary>The manifest of any store message.</summary>
    public static string ManifestOf(object o) => o switch
    {
        Get => "G",
        Put => "P",
        Delete => "D",
        GetSuccess => "GS",
        NotFound => "NF",
        WriteSuccess => "WS",
        RequestFailed => "RF",
        GetStatus => "ST",
        NodeStatus => "NS",
        SlotEnvelope => "E",
        ReplicaPut => "RP",
        ReplicaMerge => "RM",
        ReplicaRead => "RR",
        ReplicaPutDone => "PD",
        ReplicaPutRejected => "PX",
        ReplicaNotReady => "PN",
        ReplicaMergeDone => "MD",
        ReplicaReadResult => "RD",
        StopReplica => "SR",
        // "SQ" and "SP" were the page-by-page catch-up before issue 5 (now a Merkle exchange): never reuse them.
        ReplicaIncarnated => "I",
        SiblingsMerged => "M",
        // "SS" was the snapshot before tombstone GC (no generation): still read, no longer written.
        ReplicaSnapshot => "S2",
        StoreHint => "HS",
        HintStored => "HO",
        HintRefused => "HR",
        GetHintStats => "HG",
        HintStats => "HT",
        HintAdded => "HA",
        HintDelivered => "HX",
        HintOverflowed => "HV",
        HintSnapshot => "HN",
        MerkleNodesRequest => "AQ",
        MerkleNodes => "AN",
        MerkleLeavesRequest => "AL",
        MerkleLeaves => "AE",
        ReplicaFetch => "AF",
        ReplicaFetched => "AD",
        AntiEntropy.GetAntiEntropyStats => "AG",
        AntiEntropy.RepairSoon => "AR",
        AntiEntropy.AntiEntropyStats => "AS",
        AntiEntropy.ReadRepaired => "AX",
        TombstonesPurged => "TP",
        ReplicaReset => "TR",
        ListTombstones => "TL",
        TombstoneList => "TS",
        PurgeTombstones => "TG",
        TombstonesPurgedAck => "TA",
        GcGenerationSeen => "TN",
        _ => throw new ArgumentException($"KvSerializer cannot serialize {o.GetType().FullName}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        var w = new KvWriter();
        Write(w, obj);
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var r = new KvReader(bytes);
        return Read(r, manifest);
    }

    private static void WriteAntiEntropyStats(KvWriter w, AntiEntropy.AntiEntropyStats m)
    {
        w.WriteString(m.Node);
        foreach (var v in new[] { m.RoundsCompleted, m.LastRoundCompletedAtMs, m.LastExchangeAtMs, m.Exchanges, m.ExchangesFailed }) w.WriteVarLong(v);
        foreach (var v in new[] { m.PairsChecked, m.PairsInSync, m.PartitionsChecked, m.PartitionsInSync }) w.WriteInt(v);
        w.WriteVarLong(m.KeysRepaired); w.WriteVarLong(m.BytesExchanged); w.WriteInt(m.PairsLeftInRound);
        w.WriteVarLong(m.ReadRepairedKeys); w.WriteVarLong(m.ReadRepairedReplicas);
        w.WriteVarLong(m.TombstonesPurged); w.WriteInt(m.TombstonesPending); w.WriteNullableString(m.LastGcSkipped); w.WriteVarLong(m.SlotCatchUps);
    }

    private static AntiEntropy.AntiEntropyStats ReadAntiEntropyStats(KvReader r) => new(r.ReadString(),
        r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(),
        r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong(),
        r.ReadVarLong(), r.ReadInt(), r.ReadNullableString(), r.ReadVarLong());

    private static ValueList<AntiEntropy.AntiEntropyStats>? ReadAntiEntropyList(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var list = new AntiEntropy.AntiEntropyStats[Count(r)];
        for (var i = 0; i < list.Length; i++) list[i] = ReadAntiEntropyStats(r);
        return ValueList.From(list);
    }

    private static void WriteEntries(KvWriter w, ValueList<AntiEntropy.MerkleEntry> entries)
    {
        w.WriteInt(entries.Count);
        foreach (var e in entries) { w.WriteBytes(e.Key); w.WriteFixedLong((long)e.Digest); }
    }

    private static ValueList<AntiEntropy.MerkleEntry> ReadEntries(KvReader r)
    {
        var entries = new AntiEntropy.MerkleEntry[Count(r)];
        for (var i = 0; i < entries.Length; i++) entries[i] = new AntiEntropy.MerkleEntry(r.ReadBytes(), (ulong)r.ReadFixedLong());
        return ValueList.From(entries);
    }

    private static void WriteInts(KvWriter w, ValueList<int> values)
    {
        w.WriteInt(values.Count);
        foreach (var v in values) w.WriteInt(v);
    }

    /// <summary>A count prefix, checked against what is left of the frame before anything is allocated for it.</summary>
    private static int Count(KvReader r)
    {
        var n = r.ReadInt();
        return n < 0 || n > r.Remaining ? throw new FormatException($"count {n} does not fit in the frame") : n;
    }

    private static ValueList<int> ReadInts(KvReader r)
    {
        var values = new int[Count(r)];
        for (var i = 0; i < values.Length; i++) values[i] = r.ReadInt();
        return ValueList.From(values);
    }

    private static void WriteReports(KvWriter w, ValueList<ReplicaReport> reports)
    {
        w.WriteInt(reports.Count);
        foreach (var rep in reports) { w.WriteInt(rep.Slot); w.WriteString(rep.Node); w.WriteByte((byte)rep.State); }
    }

    private static ValueList<ReplicaReport> ReadReports(KvReader r)
    {
        var n = r.ReadInt();
        var list = new List<ReplicaReport>();
        for (var i = 0; i < n; i++) list.Add(new ReplicaReport(r.ReadInt(), r.ReadString(), (ReplicaReadState)r.ReadByte()));
        return ValueList.From(list);
    }

    private static void Write(KvWriter w, object obj)
    {
        switch (obj)
        {
            case Get m: w.WriteBytes(m.Key); w.WriteOptions(m.Options); break;
            case Put m: w.WriteBytes(m.Key); w.WriteBytes(m.Value); w.WriteNullableString(m.Context); w.WriteOptions(m.Options); break;
            case Delete m: w.WriteBytes(m.Key); w.WriteNullableString(m.Context); w.WriteOptions(m.Options); break;
            case GetSuccess m:
                w.WriteBytes(m.Key);
                w.WriteInt(m.Values.Count);
                foreach (var v in m.Values) w.WriteBytes(v);
                w.WriteString(m.Context);
                WriteReports(w, m.Replicas);
                break;
            case NotFound m: w.WriteBytes(m.Key); w.WriteString(m.Context); WriteReports(w, m.Replicas); break;
            case WriteSuccess m: w.WriteBytes(m.Key); w.WriteInt(m.Acks); w.WriteString(m.Context); w.WriteInt(m.Siblings); break;
            case RequestFailed m:
                w.WriteBytes(m.Key); w.WriteString(m.Reason); w.WriteInt(m.Acks); w.WriteInt(m.Required);
                w.WriteBool(m.Replicas is not null);
                if (m.Replicas is not null) WriteReports(w, m.Replicas);
                break;
            case GetStatus: break;
            case NodeStatus m:
                w.WriteString(m.Node);
                w.WriteInt(m.Members.Count);
                foreach (var mi in m.Members) { w.WriteString(mi.Node); w.WriteString(mi.Address); w.WriteString(mi.Status); w.WriteBool(mi.Reachable); }
                w.WriteInt(m.Partitions); w.WriteInt(m.ReplicationFactor); w.WriteInt(m.VirtualNodes);
                w.WriteInt(m.SlotsPerNode.Count);
                foreach (var (node, count) in m.SlotsPerNode) { w.WriteString(node); w.WriteInt(count); }
                w.WriteInt(m.UnallocatedSlots); w.WriteInt(m.CoLocatedPartitions); w.WriteInt(m.MisplacedSlots); w.WriteNullableString(m.Warning);
                w.WriteInt(m.PartitionsHeld);
                w.WriteBool(m.Hints is not null);
                if (m.Hints is not null)
                {
                    w.WriteInt(m.Hints.Count);
                    foreach (var h in m.Hints) Write(w, h);
                }
                w.WriteBool(m.AntiEntropy is not null);
                if (m.AntiEntropy is not null)
                {
                    w.WriteInt(m.AntiEntropy.Count);
                    foreach (var a in m.AntiEntropy) WriteAntiEntropyStats(w, a);
                }
                break;
            case SlotEnvelope m:
                w.WriteSlot(m.Slot);
                var inner = (IKvMessage)m.Command;
                w.WriteString(ManifestOf(inner));
                Write(w, inner);
                break;
            case ReplicaPut m:
                w.WriteVarLong(m.RequestId); w.WriteBytes(m.Key); w.WriteNullableBytes(m.Value);
                w.WriteBool(m.Context is not null);
                if (m.Context is not null) w.WriteVector(m.Context);
                w.WriteVarLong(m.SentAtMs);
                w.WriteBool(m.MayDecline);
                break;
            case ReplicaNotReady m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); break;
            case ReplicaMerge m: w.WriteVarLong(m.RequestId); w.WriteBytes(m.Key); w.WriteSiblings(m.Siblings); w.WriteBool(m.AckWanted); break;
            case ReplicaRead m: w.WriteVarLong(m.RequestId); w.WriteBytes(m.Key); break;
            case ReplicaPutRejected m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteString(m.Reason); break;
            case ReplicaPutDone m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteSiblings(m.Siblings); w.WriteVector(m.Written); break;
            case ReplicaMergeDone m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); break;
            case ReplicaReadResult m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteSiblings(m.Siblings); break;
            case StopReplica: break;
            case AntiEntropy.GetAntiEntropyStats: break;
            case AntiEntropy.RepairSoon m: w.WriteString(m.Reason); break;
            case AntiEntropy.ReadRepaired m: w.WriteInt(m.Replicas); break;
            case AntiEntropy.AntiEntropyStats m: WriteAntiEntropyStats(w, m); break;
            case MerkleNodesRequest m: w.WriteVarLong(m.RequestId); w.WriteInt(m.Level); WriteInts(w, m.Indexes); break;
            case MerkleNodes m:
                w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteFixedLong((long)m.Root);
                w.WriteInt(m.Depth); w.WriteInt(m.Fanout); w.WriteInt(m.Level); WriteInts(w, m.Indexes);
                w.WriteInt(m.ChildHashes.Count);
                foreach (var h in m.ChildHashes) w.WriteFixedLong((long)h);
                w.WriteVarLong(m.GcGeneration);
                break;
            case MerkleLeavesRequest m: w.WriteVarLong(m.RequestId); WriteInts(w, m.Leaves); break;
            case MerkleLeaves m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); WriteEntries(w, m.Entries); break;
            case ReplicaFetch m:
                w.WriteVarLong(m.RequestId); w.WriteInt(m.Keys.Count);
                foreach (var k in m.Keys) w.WriteBytes(k);
                break;
            case ReplicaFetched m:
                w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteInt(m.Entries.Count);
                foreach (var (k, v) in m.Entries) { w.WriteBytes(k); w.WriteSiblings(v); }
                break;
            case ReplicaIncarnated m: w.WriteString(m.ActorId); break;
            case SiblingsMerged m: w.WriteBytes(m.Key); w.WriteSiblings(m.Siblings); break;
            case ReplicaSnapshot m:
                w.WriteString(m.ActorId); w.WriteVarLong(m.Counter);
                w.WriteVarULong((ulong)m.Keys.Count);
                foreach (var (k, v) in m.Keys) { w.WriteBytes(k); w.WriteSiblings(v); }
                w.WriteVarLong(m.GcGeneration);
                break;
            case TombstonesPurged m: w.WriteVarLong(m.GcGeneration); WriteEntries(w, m.Entries); break;
            case ReplicaReset m: w.WriteVarLong(m.GcGeneration); break;
            case ListTombstones m: w.WriteVarLong(m.RequestId); w.WriteInt(m.Max); break;
            case TombstoneList m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteVarLong(m.GcGeneration); WriteEntries(w, m.Entries); break;
            case PurgeTombstones m: w.WriteVarLong(m.RequestId); w.WriteVarLong(m.GcGeneration); WriteEntries(w, m.Entries); break;
            case TombstonesPurgedAck m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteInt(m.Purged); break;
            case GcGenerationSeen m: w.WriteVarLong(m.RequestId); w.WriteVarLong(m.GcGeneration); break;
            case StoreHint m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Target); w.WriteString(m.TargetNode); w.WriteBytes(m.Key); w.WriteSiblings(m.Siblings); break;
            case HintStored m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Target); w.WriteString(m.Holder); break;
            case HintRefused m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Target); w.WriteString(m.Holder); w.WriteString(m.Reason); break;
            case GetHintStats: break;
            case HintStats m:
                w.WriteString(m.Node);
                w.WriteInt(m.Targets.Count);
                foreach (var t in m.Targets) { w.WriteString(t.Target); w.WriteInt(t.Held); w.WriteVarLong(t.Replayed); w.WriteVarLong(t.Overflowed); }
                break;
            case HintAdded m: w.WriteVarLong(m.Id); w.WriteSlot(m.Target); w.WriteString(m.TargetNode); w.WriteBytes(m.Key); w.WriteSiblings(m.Siblings); break;
            case HintDelivered m: w.WriteVarLong(m.Id); break;
            case HintOverflowed m: w.WriteString(m.TargetNode); break;
            case HintSnapshot m:
                w.WriteVarLong(m.NextId);
                w.WriteInt(m.Hints.Count);
                foreach (var h in m.Hints.Values) { w.WriteVarLong(h.Id); w.WriteSlot(h.Target); w.WriteString(h.TargetNode); w.WriteBytes(h.Key); w.WriteSiblings(h.Siblings); }
                WriteCounters(w, m.Replayed);
                WriteCounters(w, m.Overflowed);
                break;
            default: throw new ArgumentException($"KvSerializer cannot serialize {obj.GetType().FullName}", nameof(obj));
        }
    }

    private static ValueList<HintStats>? ReadHintStatsList(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var n = r.ReadInt();
        var list = new List<HintStats>();
        for (var i = 0; i < n; i++) list.Add((HintStats)Read(r, "HT"));
        return ValueList.From(list);
    }

    private static void WriteCounters(KvWriter w, ImmutableSortedDictionary<string, long> counters)
    {
        w.WriteInt(counters.Count);
        foreach (var (k, v) in counters) { w.WriteString(k); w.WriteVarLong(v); }
    }

    private static ImmutableSortedDictionary<string, long> ReadCounters(KvReader r)
    {
        var n = r.ReadInt();
        var b = ImmutableSortedDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++) b[r.ReadString()] = r.ReadVarLong();
        return b.ToImmutable();
    }

    private static object Read(KvReader r, string manifest)
    {
        switch (manifest)
        {
            case "HS": return new StoreHint(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadBytes(), r.ReadSiblings());
            case "HO": return new HintStored(r.ReadVarLong(), r.ReadSlot(), r.ReadString());
            case "HR": return new HintRefused(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadString());
            case "HG": return GetHintStats.Instance;
            case "HT":
            {
                var node = r.ReadString();
                var n = r.ReadInt();
                var targets = new List<HintTargetStats>();
                for (var i = 0; i < n; i++) targets.Add(new HintTargetStats(r.ReadString(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong()));
                return new HintStats(node, ValueList.From(targets));
            }
            case "HA": return new HintAdded(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadBytes(), r.ReadSiblings());
            case "HX": return new HintDelivered(r.ReadVarLong());
            case "HV": return new HintOverflowed(r.ReadString());
            case "HN":
            {
                var nextId = r.ReadVarLong();
                var n = r.ReadInt();
                var hints = ImmutableSortedDictionary.CreateBuilder<long, Hint>();
                for (var i = 0; i < n; i++)
                {
                    var h = new Hint(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadBytes(), r.ReadSiblings());
                    hints[h.Id] = h;
                }
                return new HintSnapshot(nextId, hints.ToImmutable(), ReadCounters(r), ReadCounters(r));
            }
            case "G": return new Get(r.ReadBytes(), r.ReadOptions());
            case "P": return new Put(r.ReadBytes(), r.ReadBytes(), r.ReadNullableString(), r.ReadOptions());
            case "D": return new Delete(r.ReadBytes(), r.ReadNullableString(), r.ReadOptions());
            case "GS":
            {
                var key = r.ReadBytes();
                var n = r.ReadInt();
                var values = new List<Bytes>();
                for (var i = 0; i < n; i++) values.Add(r.ReadBytes());
                return new GetSuccess(key, ValueList.From(values), r.ReadString(), ReadReports(r));
            }
            case "NF": return new NotFound(r.ReadBytes(), r.ReadString(), ReadReports(r));
            case "WS": return new WriteSuccess(r.ReadBytes(), r.ReadInt(), r.ReadString(), r.ReadInt());
            case "RF": return new RequestFailed(r.ReadBytes(), r.ReadString(), r.ReadInt(), r.ReadInt(), r.ReadBool() ? ReadReports(r) : null);
            case "ST": return GetStatus.Instance;
            case "NS":
            {
                var node = r.ReadString();
                var mc = r.ReadInt();
                var members = new List<MemberInfo>();
                for (var i = 0; i < mc; i++) members.Add(new MemberInfo(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadBool()));
                int q = r.ReadInt(), n = r.ReadInt(), v = r.ReadInt();
                var sc = r.ReadInt();
                var slots = new List<KeyValuePair<string, int>>();
                for (var i = 0; i < sc; i++) slots.Add(KeyValuePair.Create(r.ReadString(), r.ReadInt()));
                return new NodeStatus(node, ValueList.From(members), q, n, v, ValueList.From(slots), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadNullableString(), r.ReadInt(), ReadHintStatsList(r), ReadAntiEntropyList(r));
            }
            case "E":
            {
                var slot = r.ReadSlot();
                var inner = Read(r, r.ReadString()) as IReplicaCommand ?? throw new FormatException("a slot envelope must carry a replica command");
                return new SlotEnvelope(slot, inner);
            }
            case "RP":
            {
                var id = r.ReadVarLong();
                var key = r.ReadBytes();
                var value = r.ReadNullableBytes();
                var context = r.ReadBool() ? r.ReadVector() : null;
                var sentAt = r.ReadVarLong();
                return new ReplicaPut(id, key, value, context, sentAt, r.ReadBool());
            }
            case "PN": return new ReplicaNotReady(r.ReadVarLong(), r.ReadSlot(), r.ReadString());
            case "RM": return new ReplicaMerge(r.ReadVarLong(), r.ReadBytes(), r.ReadSiblings(), r.ReadBool());
            case "RR": return new ReplicaRead(r.ReadVarLong(), r.ReadBytes());
            case "PX": return new ReplicaPutRejected(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadString());
            case "PD": return new ReplicaPutDone(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadSiblings(), r.ReadVector());
            case "MD": return new ReplicaMergeDone(r.ReadVarLong(), r.ReadSlot(), r.ReadString());
            case "RD": return new ReplicaReadResult(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadSiblings());
            case "SR": return StopReplica.Instance;
            case "AG": return AntiEntropy.GetAntiEntropyStats.Instance;
            case "AR": return new AntiEntropy.RepairSoon(r.ReadString());
            case "AX": return new AntiEntropy.ReadRepaired(r.ReadInt());
            case "AS": return ReadAntiEntropyStats(r);
            case "AQ": return new MerkleNodesRequest(r.ReadVarLong(), r.ReadInt(), ReadInts(r));
            case "AN":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot(); var node = r.ReadString(); var root = (ulong)r.ReadFixedLong();
                var depth = r.ReadInt(); var fanout = r.ReadInt(); var level = r.ReadInt(); var indexes = ReadInts(r);
                var hashes = new ulong[Count(r)];
                for (var i = 0; i < hashes.Length; i++) hashes[i] = (ulong)r.ReadFixedLong();
                return new MerkleNodes(id, slot, node, root, depth, fanout, level, indexes, ValueList.From(hashes), r.ReadVarLong());
            }
            case "AL": return new MerkleLeavesRequest(r.ReadVarLong(), ReadInts(r));
            case "AE":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot();
                return new MerkleLeaves(id, slot, ReadEntries(r));
            }
            case "AF":
            {
                var id = r.ReadVarLong();
                var keys = new Bytes[Count(r)];
                for (var i = 0; i < keys.Length; i++) keys[i] = r.ReadBytes();
                return new ReplicaFetch(id, ValueList.From(keys));
            }
            case "AD":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot();
                var entries = new KeyValuePair<Bytes, SiblingSet>[Count(r)];
                for (var i = 0; i < entries.Length; i++) entries[i] = KeyValuePair.Create(r.ReadBytes(), r.ReadSiblings());
                return new ReplicaFetched(id, slot, ValueList.From(entries));
            }
            case "I": return new ReplicaIncarnated(r.ReadString());
            case "M": return new SiblingsMerged(r.ReadBytes(), r.ReadSiblings());
            // Snapshots written before tombstone GC: generation 0.
            case "SS": return new ReplicaSnapshot(r.ReadString(), r.ReadVarLong(), r.ReadKeyMap());
            case "S2": return new ReplicaSnapshot(r.ReadString(), r.ReadVarLong(), r.ReadKeyMap(), r.ReadVarLong());
            case "TP": return new TombstonesPurged(r.ReadVarLong(), ReadEntries(r));
            case "TR": return new ReplicaReset(r.ReadVarLong());
            case "TL": return new ListTombstones(r.ReadVarLong(), r.ReadInt());
            case "TS":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot(); var generation = r.ReadVarLong();
                return new TombstoneList(id, slot, generation, ReadEntries(r));
            }
            case "TG":
            {
                var id = r.ReadVarLong(); var generation = r.ReadVarLong();
                return new PurgeTombstones(id, generation, ReadEntries(r));
            }
            case "TA": return new TombstonesPurgedAck(r.ReadVarLong(), r.ReadSlot(), r.ReadInt());
            case "TN": return new GcGenerationSeen(r.ReadVarLong(), r.ReadVarLong());
            default: throw new FormatException($"KvSerializer: unknown manifest '{manifest}'");
        }
    }
}
