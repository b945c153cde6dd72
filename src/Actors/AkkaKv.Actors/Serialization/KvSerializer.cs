using AkkaKv.Hashes;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Serialization;
using AkkaKv.AntiEntropy;
using AkkaKv.Codec;
using AkkaKv.Coordination;
using AkkaKv.HintedHandoff;
using AkkaKv.Merkle;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Transactions;
using AkkaKv.Versioning;
namespace AkkaKv.Serialization;

/// <summary>
/// A node's serializer, for every <see cref="IKvMessage"/>: the client protocol and status family
/// (delegated to <see cref="ProtocolCodec"/>, byte for byte what a client's
/// <see cref="ProtocolSerializer"/> writes, under the same id), the node-to-node protocols
/// (replica, hints, anti-entropy), persisted events and snapshots. Hand-written binary with a one-
/// or two-letter manifest per type. Manifests and field order are a storage format: never change
/// or reuse one; add new ones.
/// </summary>
internal sealed class KvSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = ProtocolSerializer.Id;
    public override int Identifier => Id;

    public override string Manifest(object o) => ManifestOf(o);

    /// <summary>The manifest of any store message.</summary>
    public static string ManifestOf(object o) => ProtocolCodec.ManifestOf(o) ?? o switch
    {
        SlotEnvelope => "E",
        // A courier's batch of slot requests ("CB": count, then each one's reply id and envelope, as "E")
        // and of replies ("CR": count, then each one's reply id, manifest and fields).
        SlotBatch => "CB",
        ReplyBatch => "CR",
        // A put with a deadline: "RP" and then the deadline (a put without one keeps "RP").
        // An increment ("RI"), a put with a deadline ("RT"): the fields of "RP", then the delta or the deadline.
        // An increment that sets the deadline ("RK"): the fields of "RI", then the deadline (0: none).
        // Hash operations ("RH"): the fields of "RP", then the operations (an Expire's number is its deadline).
        ReplicaPut { HashOps: not null } => "RH",
        // A transaction's operations ("RX"): the fields of "RP", then the operations (TTLs are deadlines).
        ReplicaPut { Transaction: not null } => "RX",
        ReplicaPut { IncrementBy: not null, SetsDeadline: true } => "RK",
        ReplicaPut { IncrementBy: not null } => "RI",
        ReplicaPut { ExpiresAtMs: > 0 } => "RT",
        ReplicaPut => "RP",
        ReplicaMerge => "RM",
        ReplicaRead => "RR",
        // The results of hash operations ("PH"): the fields of "PD", then the results.
        ReplicaPutDone { Results: not null } => "PH",
        // The results of a transaction ("PO"): the fields of "PD", then the results.
        ReplicaPutDone { Outcomes: not null } => "PO",
        ReplicaPutDone { Number: not null } => "PI",
        ReplicaPutDone => "PD",
        ReplicaPutRejected => "PX",
        ReplicaNotReady => "PN",
        ReplicaMergeDone => "MD",
        ReplicaReadResult => "RD",
        StopReplica => "SR",
        // "SQ" and "SP" were the retired page-by-page catch-up (catch-up is a Merkle exchange now): never reuse them.
        ReplicaIncarnated => "I",
        SiblingsMerged => "M",
        // "SS" was the snapshot before tombstone GC (no generation): still read, no longer written.
        ReplicaSnapshot => "S2",
        StoreHint => "HS",
        HintStored => "HO",
        HintRefused => "HR",
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
        RepairSoon => "AR",
        ReadRepaired => "AX",
        TombstonesPurged => "TP",
        ReplicaReset => "TR",
        ListTombstones => "TL",
        TombstoneList => "TS",
        PurgeTombstones => "TG",
        TombstonesPurgedAck => "TA",
        GcGenerationSeen => "TN",
        GetSlotSize => "ZQ",
        SlotSize => "ZS",
        ReplicaScan => "KS",
        ReplicaScanned => "KR",
        _ => throw new ArgumentException($"KvSerializer cannot serialize {o.GetType().FullName}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        var w = new KvWriter();
        if (!ProtocolCodec.TryWrite(w, obj)) Write(w, obj);
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var r = new KvReader(bytes);
        return ProtocolCodec.TryRead(r, manifest) ?? Read(r, manifest);
    }

    private static SlotEnvelope ReadEnvelope(KvReader r)
    {
        var slot = r.ReadSlot();
        var inner = Read(r, r.ReadString()) as IReplicaCommand ?? throw new FormatException("a slot envelope must carry a replica command");
        return new SlotEnvelope(slot, inner);
    }

    private static void WriteEntries(KvWriter w, ValueList<MerkleEntry> entries)
    {
        w.WriteInt(entries.Count);
        foreach (var e in entries) { w.WriteBytes(e.Key); w.WriteFixedLong((long)e.Digest); }
    }

    private static ValueList<MerkleEntry> ReadEntries(KvReader r)
    {
        var entries = new MerkleEntry[r.ReadCount()];
        for (var i = 0; i < entries.Length; i++) entries[i] = new MerkleEntry(r.ReadBytes(), (ulong)r.ReadFixedLong());
        return ValueList.From(entries);
    }

    /// <summary>A nullable list of dots: a presence flag, then the count and each dot's actor and counter.</summary>
    private static void WriteDots(KvWriter w, ValueList<Dot>? dots)
    {
        w.WriteBool(dots is not null);
        if (dots is null) return;
        w.WriteInt(dots.Count);
        foreach (var d in dots) { w.WriteString(d.Actor); w.WriteVarLong(d.Counter); }
    }

    private static ValueList<Dot>? ReadDots(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var dots = new Dot[r.ReadCount()];
        for (var i = 0; i < dots.Length; i++) dots[i] = new Dot(r.ReadString(), r.ReadVarLong());
        return ValueList.From(dots);
    }

    private static void WriteInts(KvWriter w, ValueList<int> values)
    {
        w.WriteInt(values.Count);
        foreach (var v in values) w.WriteInt(v);
    }

    private static ValueList<int> ReadInts(KvReader r)
    {
        var values = new int[r.ReadCount()];
        for (var i = 0; i < values.Length; i++) values[i] = r.ReadInt();
        return ValueList.From(values);
    }

    private static void Write(KvWriter w, object obj)
    {
        switch (obj)
        {
            case SlotEnvelope m:
                w.WriteSlot(m.Slot);
                var inner = (IKvMessage)m.Command;
                w.WriteString(ManifestOf(inner));
                Write(w, inner);
                break;
            case SlotBatch m:
                w.WriteInt(m.Items.Count);
                foreach (var item in m.Items) { w.WriteVarLong(item.ReplyId); Write(w, item.Envelope); }
                break;
            case ReplyBatch m:
                w.WriteInt(m.Items.Count);
                foreach (var item in m.Items) { w.WriteVarLong(item.ReplyId); w.WriteString(ManifestOf(item.Reply)); Write(w, item.Reply); }
                break;
            case ReplicaPut m:
                w.WriteVarLong(m.RequestId); w.WriteBytes(m.Key); w.WriteNullableBytes(m.Value);
                w.WriteBool(m.Context is not null);
                if (m.Context is not null) w.WriteVector(m.Context);
                w.WriteVarLong(m.SentAtMs);
                w.WriteBool(m.MayDecline);
                if (m.HashOps is { } ops) w.WriteHashOps(ops);
                else if (m.Transaction is { } txn) w.WriteKeyOps(txn);
                else if (m.IncrementBy is { } delta) { w.WriteVarLong(delta); if (m.SetsDeadline) w.WriteVarLong(m.ExpiresAtMs); }
                else if (m.ExpiresAtMs > 0) w.WriteVarLong(m.ExpiresAtMs);
                break;
            case ReplicaNotReady m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); break;
            case ReplicaMerge m: w.WriteVarLong(m.RequestId); w.WriteBytes(m.Key); w.WriteSiblings(m.Siblings); w.WriteBool(m.AckWanted); break;
            case ReplicaRead m: w.WriteVarLong(m.RequestId); w.WriteBytes(m.Key); break;
            case ReplicaPutRejected m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteString(m.Reason); break;
            case ReplicaPutDone m:
                w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteSiblings(m.Siblings); w.WriteVector(m.Written);
                if (m.Results is { } results)
                {
                    w.WriteInt(results.Count);
                    foreach (var v in results) w.WriteVarLong(v);
                }
                else if (m.Outcomes is { } outcomes) w.WriteKeyOpResults(outcomes);
                else if (m.Number is { } number) w.WriteVarLong(number);
                break;
            case ReplicaMergeDone m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); break;
            case ReplicaReadResult m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteSiblings(m.Siblings); break;
            case StopReplica: break;
            case RepairSoon m: w.WriteString(m.Reason); break;
            case ReadRepaired m: w.WriteInt(m.Replicas); break;
            case MerkleNodesRequest m: w.WriteVarLong(m.RequestId); w.WriteInt(m.Level); WriteInts(w, m.Indexes); break;
            case MerkleNodes m:
                w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteString(m.Node); w.WriteFixedLong((long)m.Root);
                w.WriteInt(m.Depth); w.WriteInt(m.Fanout); w.WriteInt(m.Level); WriteInts(w, m.Indexes);
                w.WriteInt(m.ChildHashes.Count);
                foreach (var h in m.ChildHashes) w.WriteFixedLong((long)h);
                w.WriteVarLong(m.GcGeneration);
                break;
            case MerkleLeavesRequest m: w.WriteVarLong(m.RequestId); WriteInts(w, m.Leaves); w.WriteNullableBytes(m.After); break;
            case MerkleLeaves m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); WriteEntries(w, m.Entries); w.WriteBool(m.More); break;
            case ReplicaFetch m:
                w.WriteVarLong(m.RequestId); w.WriteInt(m.Keys.Count);
                foreach (var k in m.Keys) w.WriteBytes(k);
                WriteDots(w, m.Except);
                break;
            case ReplicaFetched m:
                w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteInt(m.Entries.Count);
                foreach (var (k, v) in m.Entries) { w.WriteBytes(k); w.WriteSiblings(v); }
                WriteDots(w, m.Truncated);
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
            case GetSlotSize m: w.WriteVarLong(m.RequestId); break;
            case SlotSize m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteVarLong(m.Keys); w.WriteVarLong(m.Bytes); break;
            case ReplicaScan m: w.WriteVarLong(m.RequestId); w.WriteVarLong(m.From); w.WriteInt(m.Count); w.WriteNullableBytes(m.Match); break;
            case ReplicaScanned m:
                w.WriteVarLong(m.RequestId); w.WriteSlot(m.Slot); w.WriteInt(m.Entries.Count);
                foreach (var (k, v) in m.Entries) { w.WriteBytes(k); w.WriteSiblings(v); }
                w.WriteBool(m.Bound is not null);
                if (m.Bound is { } bound) w.WriteVarLong(bound);
                break;
            case StoreHint m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Target); w.WriteString(m.TargetNode); w.WriteBytes(m.Key); w.WriteSiblings(m.Siblings); break;
            case HintStored m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Target); w.WriteString(m.Holder); break;
            case HintRefused m: w.WriteVarLong(m.RequestId); w.WriteSlot(m.Target); w.WriteString(m.Holder); w.WriteString(m.Reason); break;
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
            case "E":
                return ReadEnvelope(r);
            case "CB":
            {
                var items = new BatchedRequest[r.ReadCount()];
                for (var i = 0; i < items.Length; i++) items[i] = new BatchedRequest(r.ReadVarLong(), ReadEnvelope(r));
                return new SlotBatch(ValueList.From(items));
            }
            case "CR":
            {
                var items = new BatchedReply[r.ReadCount()];
                for (var i = 0; i < items.Length; i++)
                {
                    var id = r.ReadVarLong();
                    var kind = r.ReadString();
                    // Only what a replica answers a batched request with: nothing else is decoded here.
                    if (kind is not ("PD" or "PI" or "PH" or "PO" or "PX" or "PN" or "MD" or "RD")) throw new FormatException($"a reply batch cannot carry '{kind}'");
                    items[i] = new BatchedReply(id, (IKvMessage)Read(r, kind));
                }
                return new ReplyBatch(ValueList.From(items));
            }
            case "RP" or "RT" or "RI" or "RK" or "RH" or "RX":
            {
                var id = r.ReadVarLong();
                var key = r.ReadBytes();
                var value = r.ReadNullableBytes();
                var context = r.ReadBool() ? r.ReadVector() : null;
                var sentAt = r.ReadVarLong();
                var mayDecline = r.ReadBool();
                if (manifest == "RH") return new ReplicaPut(id, key, value, context, sentAt, mayDecline, HashOps: r.ReadHashOps());
                if (manifest == "RX") return new ReplicaPut(id, key, value, context, sentAt, mayDecline, Transaction: r.ReadKeyOps());
                if (manifest == "RI") return new ReplicaPut(id, key, value, context, sentAt, mayDecline, 0, r.ReadVarLong());
                if (manifest == "RK")
                {
                    var delta = r.ReadVarLong();
                    var deadline = r.ReadVarLong();
                    if (deadline < 0) throw new FormatException("an increment whose deadline is negative");
                    return new ReplicaPut(id, key, value, context, sentAt, mayDecline, deadline, delta, SetsDeadline: true);
                }
                var expiresAt = manifest == "RT" ? r.ReadVarLong() : 0;
                if (manifest == "RT" && expiresAt <= 0) throw new FormatException("a put whose deadline is not positive");
                return new ReplicaPut(id, key, value, context, sentAt, mayDecline, expiresAt);
            }
            case "PN": return new ReplicaNotReady(r.ReadVarLong(), r.ReadSlot(), r.ReadString());
            case "RM": return new ReplicaMerge(r.ReadVarLong(), r.ReadBytes(), r.ReadSiblings(), r.ReadBool());
            case "RR": return new ReplicaRead(r.ReadVarLong(), r.ReadBytes());
            case "PX": return new ReplicaPutRejected(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadString());
            case "PD" or "PI" or "PH" or "PO":
            {
                var done = new ReplicaPutDone(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadSiblings(), r.ReadVector());
                if (manifest == "PH")
                {
                    var results = new long[r.ReadCount()];
                    for (var i = 0; i < results.Length; i++) results[i] = r.ReadVarLong();
                    return done with { Results = ValueList.From(results) };
                }
                if (manifest == "PO") return done with { Outcomes = r.ReadKeyOpResults() };
                return manifest == "PI" ? done with { Number = r.ReadVarLong() } : done;
            }
            case "MD": return new ReplicaMergeDone(r.ReadVarLong(), r.ReadSlot(), r.ReadString());
            case "RD": return new ReplicaReadResult(r.ReadVarLong(), r.ReadSlot(), r.ReadString(), r.ReadSiblings());
            case "SR": return StopReplica.Instance;
            case "AR": return new RepairSoon(r.ReadString());
            case "AX": return new ReadRepaired(r.ReadInt());
            case "AQ": return new MerkleNodesRequest(r.ReadVarLong(), r.ReadInt(), ReadInts(r));
            case "AN":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot(); var node = r.ReadString(); var root = (ulong)r.ReadFixedLong();
                var depth = r.ReadInt(); var fanout = r.ReadInt(); var level = r.ReadInt(); var indexes = ReadInts(r);
                var hashes = new ulong[r.ReadCount()];
                for (var i = 0; i < hashes.Length; i++) hashes[i] = (ulong)r.ReadFixedLong();
                return new MerkleNodes(id, slot, node, root, depth, fanout, level, indexes, ValueList.From(hashes), r.ReadVarLong());
            }
            case "AL": return new MerkleLeavesRequest(r.ReadVarLong(), ReadInts(r), r.ReadNullableBytes());
            case "AE":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot();
                return new MerkleLeaves(id, slot, ReadEntries(r), r.ReadBool());
            }
            case "AF":
            {
                var id = r.ReadVarLong();
                var keys = new Bytes[r.ReadCount()];
                for (var i = 0; i < keys.Length; i++) keys[i] = r.ReadBytes();
                return new ReplicaFetch(id, ValueList.From(keys), ReadDots(r));
            }
            case "AD":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot();
                var entries = new KeyValuePair<Bytes, SiblingSet>[r.ReadCount()];
                for (var i = 0; i < entries.Length; i++) entries[i] = KeyValuePair.Create(r.ReadBytes(), r.ReadSiblings());
                return new ReplicaFetched(id, slot, ValueList.From(entries), ReadDots(r));
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
            case "ZQ": return new GetSlotSize(r.ReadVarLong());
            case "ZS": return new SlotSize(r.ReadVarLong(), r.ReadSlot(), r.ReadVarLong(), r.ReadVarLong());
            case "KS": return new ReplicaScan(r.ReadVarLong(), r.ReadVarLong(), r.ReadInt(), r.ReadNullableBytes());
            case "KR":
            {
                var id = r.ReadVarLong(); var slot = r.ReadSlot();
                var entries = new KeyValuePair<Bytes, SiblingSet>[r.ReadCount()];
                for (var i = 0; i < entries.Length; i++) entries[i] = KeyValuePair.Create(r.ReadBytes(), r.ReadSiblings());
                return new ReplicaScanned(id, slot, ValueList.From(entries), r.ReadBool() ? r.ReadVarLong() : null);
            }
            default: throw new FormatException($"KvSerializer: unknown manifest '{manifest}'");
        }
    }
}
