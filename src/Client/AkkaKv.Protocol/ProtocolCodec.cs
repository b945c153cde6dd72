using AkkaKv.Codec;
using AkkaKv.Hashes;
using AkkaKv.Placement;
using AkkaKv.Ring;
using AkkaKv.Transactions;

namespace AkkaKv.Protocol;

/// <summary>
/// The binary encoding of the client protocol and the status family, with a one- or two-letter
/// manifest per type. A client's <see cref="ProtocolSerializer"/> and a node's serializer both use
/// it, under the same serializer id, so the bytes on the wire are the same either way. Manifests
/// and field order are a wire format: never change or reuse one; add new ones.
/// </summary>
public static class ProtocolCodec
{
    /// <summary>The manifest of a protocol message, or null when <paramref name="o"/> is not one.</summary>
    public static string? ManifestOf(object o) => o switch
    {
        Get => "G",
        // A put with a TTL, and a read with deadlines, have their own layouts ("PT", "GT"): the
        // same fields and then the TTL or deadlines. Without them the bytes are those of "P" and
        // "GS", which every node and client reads.
        Put { TtlMs: not 0 } => "PT",
        Put => "P",
        Delete => "D",
        Increment { TtlMs: not null } => "IT",
        Increment => "IN",
        IncrementSuccess => "IV",
        HashWrite => "FW",
        HashWriteSuccess => "FV",
        Transaction => "TX",
        TransactionSuccess => "TY",
        // A hash read: the "GT" layout, then the fields.
        GetSuccess { Hash: not null } => "GH",
        GetSuccess { ExpiresAtMs: not null } => "GT",
        GetSuccess => "GS",
        NotFound => "NF",
        WriteSuccess => "WS",
        RequestFailed => "RF",
        GetStatus => "ST",
        // "NS" was the layout without slot owners and moves; nodes write "N2" and read both.
        NodeStatus => "N2",
        GetHintStats => "HG",
        HintStats => "HT",
        GetAntiEntropyStats => "AG",
        AntiEntropyStats => "AS",
        LeaveNode => "LV",
        DownNode => "DN",
        AdminReply => "AY",
        GetTransfers => "XG",
        TransferReport => "XR",
        GetNodeTransfers => "XN",
        NodeTransfers => "XT",
        Scan => "LS",
        ScanResult => "LR",
        _ => null,
    };

    /// <summary>Writes a protocol message; false when <paramref name="obj"/> is not one.</summary>
    public static bool TryWrite(KvWriter w, object obj)
    {
        switch (obj)
        {
            case Get m: w.WriteBytes(m.Key); w.WriteOptions(m.Options); break;
            case Put m: w.WriteBytes(m.Key); w.WriteBytes(m.Value); w.WriteNullableString(m.Context); w.WriteOptions(m.Options); if (m.TtlMs != 0) w.WriteVarLong(m.TtlMs); break;
            case Delete m: w.WriteBytes(m.Key); w.WriteNullableString(m.Context); w.WriteOptions(m.Options); break;
            case Increment m: w.WriteBytes(m.Key); w.WriteVarLong(m.Delta); w.WriteOptions(m.Options); if (m.TtlMs is { } ttl) w.WriteVarLong(ttl); break;
            case IncrementSuccess m: w.WriteBytes(m.Key); w.WriteVarLong(m.Value); w.WriteInt(m.Acks); break;
            case HashWrite m: w.WriteBytes(m.Key); w.WriteHashOps(m.Ops); w.WriteOptions(m.Options); break;
            case Transaction m: w.WriteBytes(m.Key); w.WriteKeyOps(m.Ops); w.WriteOptions(m.Options); break;
            case TransactionSuccess m: w.WriteBytes(m.Key); w.WriteKeyOpResults(m.Results); w.WriteInt(m.Acks); break;
            case HashWriteSuccess m:
                w.WriteBytes(m.Key);
                w.WriteInt(m.Results.Count);
                foreach (var v in m.Results) w.WriteVarLong(v);
                w.WriteInt(m.Acks);
                break;
            case GetSuccess m:
                w.WriteBytes(m.Key);
                w.WriteInt(m.Values.Count);
                foreach (var v in m.Values) w.WriteBytes(v);
                w.WriteString(m.Context);
                WriteReports(w, m.Replicas);
                if (m.ExpiresAtMs is not null || m.Hash is not null)
                {
                    var deadlines = m.ExpiresAtMs ?? ValueList<long>.Empty;
                    w.WriteInt(deadlines.Count);
                    foreach (var d in deadlines) w.WriteVarLong(d);
                }
                if (m.Hash is not null)
                {
                    w.WriteInt(m.Hash.Count);
                    foreach (var b in m.Hash) w.WriteBytes(b);
                }
                break;
            case NotFound m: w.WriteBytes(m.Key); w.WriteString(m.Context); WriteReports(w, m.Replicas); break;
            case WriteSuccess m: w.WriteBytes(m.Key); w.WriteInt(m.Acks); w.WriteString(m.Context); w.WriteInt(m.Siblings); break;
            case RequestFailed m:
                w.WriteBytes(m.Key); w.WriteString(m.Reason); w.WriteInt(m.Acks); w.WriteInt(m.Required);
                w.WriteBool(m.Replicas is not null);
                if (m.Replicas is not null) WriteReports(w, m.Replicas);
                break;
            case GetStatus or GetHintStats or GetAntiEntropyStats: break;
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
                    foreach (var h in m.Hints) WriteHintStats(w, h);
                }
                w.WriteBool(m.AntiEntropy is not null);
                if (m.AntiEntropy is not null)
                {
                    w.WriteInt(m.AntiEntropy.Count);
                    foreach (var a in m.AntiEntropy) WriteAntiEntropyStats(w, a);
                }
                // "N2": "NS" and then these.
                WriteSlotOwners(w, m.SlotOwners);
                WriteSlotMoves(w, m.SlotsMoving);
                break;
            case HintStats m: WriteHintStats(w, m); break;
            case AntiEntropyStats m: WriteAntiEntropyStats(w, m); break;
            case LeaveNode m: w.WriteString(m.Node); w.WriteBool(m.Force); break;
            case DownNode m: w.WriteString(m.Node); break;
            case AdminReply m: w.WriteBool(m.Accepted); w.WriteString(m.Node); w.WriteString(m.Message); break;
            case GetTransfers or GetNodeTransfers: break;
            case TransferReport m:
                w.WriteString(m.Node);
                w.WriteInt(m.Leaving.Count);
                foreach (var node in m.Leaving) w.WriteString(node);
                w.WriteInt(m.Pending.Count);
                foreach (var move in m.Pending)
                {
                    w.WriteString(move.Slot); w.WriteNullableString(move.From); w.WriteString(move.To);
                    w.WriteVarLong(move.Keys); w.WriteVarLong(move.Bytes);
                }
                w.WriteInt(m.Nodes.Count);
                foreach (var node in m.Nodes) WriteNodeTransfers(w, node);
                w.WriteNullableString(m.Warning);
                break;
            case NodeTransfers m: WriteNodeTransfers(w, m); break;
            case Scan m: w.WriteVarLong(m.Cursor); w.WriteNullableBytes(m.Match); w.WriteInt(m.Count); w.WriteOptions(m.Options); break;
            case ScanResult m:
                w.WriteVarLong(m.Cursor); w.WriteInt(m.Keys.Count);
                foreach (var k in m.Keys) w.WriteBytes(k);
                break;
            default: return false;
        }
        return true;
    }

    /// <summary>Reads a protocol message; null when <paramref name="manifest"/> is not one of the protocol's.</summary>
    /// <exception cref="FormatException">The bytes are malformed.</exception>
    public static object? TryRead(KvReader r, string manifest)
    {
        switch (manifest)
        {
            case "G": return new Get(r.ReadBytes(), r.ReadOptions());
            case "P": return new Put(r.ReadBytes(), r.ReadBytes(), r.ReadNullableString(), r.ReadOptions());
            case "PT":
            {
                // Any TTL is read; the gateway refuses a bad one with a clear reply.
                return new Put(r.ReadBytes(), r.ReadBytes(), r.ReadNullableString(), r.ReadOptions(), r.ReadVarLong());
            }
            case "D": return new Delete(r.ReadBytes(), r.ReadNullableString(), r.ReadOptions());
            case "IN": return new Increment(r.ReadBytes(), r.ReadVarLong(), r.ReadOptions());
            case "IT": return new Increment(r.ReadBytes(), r.ReadVarLong(), r.ReadOptions(), r.ReadVarLong());
            case "IV": return new IncrementSuccess(r.ReadBytes(), r.ReadVarLong(), r.ReadInt());
            case "FW": return new HashWrite(r.ReadBytes(), r.ReadHashOps(), r.ReadOptions());
            case "TX": return new Transaction(r.ReadBytes(), r.ReadKeyOps(), r.ReadOptions());
            case "TY": return new TransactionSuccess(r.ReadBytes(), r.ReadKeyOpResults(), r.ReadInt());
            case "FV":
            {
                var key = r.ReadBytes();
                var results = new long[r.ReadCount()];
                for (var i = 0; i < results.Length; i++) results[i] = r.ReadVarLong();
                return new HashWriteSuccess(key, ValueList.From(results), r.ReadInt());
            }
            case "GS" or "GT" or "GH":
            {
                var key = r.ReadBytes();
                var n = r.ReadInt();
                var values = new List<Bytes>();
                for (var i = 0; i < n; i++) values.Add(r.ReadBytes());
                var context = r.ReadString();
                var reports = ReadReports(r);
                ValueList<long>? deadlines = null;
                if (manifest is "GT" or "GH")
                {
                    var d = new long[r.ReadCount()];
                    for (var i = 0; i < d.Length; i++) d[i] = r.ReadVarLong();
                    deadlines = ValueList.From(d);
                }
                ValueList<Bytes>? hash = null;
                if (manifest == "GH")
                {
                    var count = r.ReadCount();
                    if (count % 2 != 0) throw new FormatException("a hash read with a field name and no value");
                    var fields = new List<Bytes>(Math.Min(count, 1024));
                    for (var i = 0; i < count; i++) fields.Add(r.ReadBytes());
                    hash = ValueList.From(fields);
                }
                return new GetSuccess(key, ValueList.From(values), context, reports, deadlines, hash);
            }
            case "NF": return new NotFound(r.ReadBytes(), r.ReadString(), ReadReports(r));
            case "WS": return new WriteSuccess(r.ReadBytes(), r.ReadInt(), r.ReadString(), r.ReadInt());
            case "RF": return new RequestFailed(r.ReadBytes(), r.ReadString(), r.ReadInt(), r.ReadInt(), r.ReadBool() ? ReadReports(r) : null);
            case "ST": return GetStatus.Instance;
            case "NS" or "N2":
            {
                var node = r.ReadString();
                var mc = r.ReadInt();
                var members = new List<MemberInfo>();
                for (var i = 0; i < mc; i++) members.Add(new MemberInfo(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadBool()));
                int q = r.ReadInt(), n = r.ReadInt(), v = r.ReadInt();
                var sc = r.ReadInt();
                var slots = new List<KeyValuePair<string, int>>();
                for (var i = 0; i < sc; i++) slots.Add(KeyValuePair.Create(r.ReadString(), r.ReadInt()));
                var status = new NodeStatus(node, ValueList.From(members), q, n, v, ValueList.From(slots), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadNullableString(), r.ReadInt(), ReadHintStatsList(r), ReadAntiEntropyList(r));
                return manifest == "NS" ? status : status with { SlotOwners = ReadSlotOwners(r), SlotsMoving = ReadSlotMoves(r) };
            }
            case "HG": return GetHintStats.Instance;
            case "HT": return ReadHintStats(r);
            case "AG": return GetAntiEntropyStats.Instance;
            case "AS": return ReadAntiEntropyStats(r);
            case "LV": return new LeaveNode(r.ReadString(), r.ReadBool());
            case "DN": return new DownNode(r.ReadString());
            case "AY": return new AdminReply(r.ReadBool(), r.ReadString(), r.ReadString());
            case "XG": return GetTransfers.Instance;
            case "XN": return GetNodeTransfers.Instance;
            case "XT": return ReadNodeTransfers(r);
            case "LS": return new Scan(r.ReadVarLong(), r.ReadNullableBytes(), r.ReadInt(), r.ReadOptions());
            case "LR":
            {
                var cursor = r.ReadVarLong();
                var keys = new Bytes[r.ReadCount()];
                for (var i = 0; i < keys.Length; i++) keys[i] = r.ReadBytes();
                return new ScanResult(cursor, ValueList.From(keys));
            }
            case "XR":
            {
                var node = r.ReadString();
                var leaving = new string[r.ReadCount()];
                for (var i = 0; i < leaving.Length; i++) leaving[i] = r.ReadString();
                var pending = new PendingMove[r.ReadCount()];
                for (var i = 0; i < pending.Length; i++)
                    pending[i] = new PendingMove(r.ReadString(), r.ReadNullableString(), r.ReadString(), r.ReadVarLong(), r.ReadVarLong());
                var nodes = new NodeTransfers[r.ReadCount()];
                for (var i = 0; i < nodes.Length; i++) nodes[i] = ReadNodeTransfers(r);
                return new TransferReport(node, ValueList.From(leaving), ValueList.From(pending), ValueList.From(nodes), r.ReadNullableString());
            }
            default: return null;
        }
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

    /// <summary>
    /// The owner of every slot as an index into the distinct owner names (0: unallocated), so that
    /// N·Q slots cost about a byte each rather than a name each.
    /// </summary>
    private static void WriteSlotOwners(KvWriter w, ValueList<string?>? owners)
    {
        w.WriteBool(owners is not null);
        if (owners is null) return;
        var names = owners.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        w.WriteInt(names.Count);
        foreach (var name in names) w.WriteString(name);
        var index = names.Select((name, i) => (name, i)).ToDictionary(t => t.name, t => t.i + 1, StringComparer.Ordinal);
        w.WriteInt(owners.Count);
        foreach (var owner in owners) w.WriteInt(owner is null ? 0 : index[owner]);
    }

    private static ValueList<string?>? ReadSlotOwners(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var names = new string[r.ReadCount()];
        for (var i = 0; i < names.Length; i++) names[i] = r.ReadString();
        var owners = new string?[r.ReadCount()];
        for (var i = 0; i < owners.Length; i++)
        {
            var ix = r.ReadInt();
            owners[i] = ix == 0 ? null : ix > 0 && ix <= names.Length ? names[ix - 1] : throw new FormatException($"slot owner {ix} is not one of {names.Length} names");
        }
        return ValueList.From(owners);
    }

    private static void WriteSlotMoves(KvWriter w, ValueList<SlotMove>? moves)
    {
        w.WriteBool(moves is not null);
        if (moves is null) return;
        w.WriteInt(moves.Count);
        foreach (var m in moves) { w.WriteInt(m.Slot.Partition); w.WriteInt(m.Slot.Index); w.WriteString(m.From); w.WriteString(m.To); }
    }

    private static ValueList<SlotMove>? ReadSlotMoves(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var moves = new SlotMove[r.ReadCount()];
        for (var i = 0; i < moves.Length; i++) moves[i] = new SlotMove(new SlotId(r.ReadInt(), r.ReadInt()), r.ReadString(), r.ReadString());
        return ValueList.From(moves);
    }

    private static void WriteHintStats(KvWriter w, HintStats m)
    {
        w.WriteString(m.Node);
        w.WriteInt(m.Targets.Count);
        foreach (var t in m.Targets) { w.WriteString(t.Target); w.WriteInt(t.Held); w.WriteVarLong(t.Replayed); w.WriteVarLong(t.Overflowed); }
    }

    private static HintStats ReadHintStats(KvReader r)
    {
        var node = r.ReadString();
        var n = r.ReadInt();
        var targets = new List<HintTargetStats>();
        for (var i = 0; i < n; i++) targets.Add(new HintTargetStats(r.ReadString(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong()));
        return new HintStats(node, ValueList.From(targets));
    }

    private static ValueList<HintStats>? ReadHintStatsList(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var n = r.ReadInt();
        var list = new List<HintStats>();
        for (var i = 0; i < n; i++) list.Add(ReadHintStats(r));
        return ValueList.From(list);
    }

    private static void WriteAntiEntropyStats(KvWriter w, AntiEntropyStats m)
    {
        w.WriteString(m.Node);
        foreach (var v in new[] { m.RoundsCompleted, m.LastRoundCompletedAtMs, m.LastExchangeAtMs, m.Exchanges, m.ExchangesFailed }) w.WriteVarLong(v);
        foreach (var v in new[] { m.PairsChecked, m.PairsInSync, m.PartitionsChecked, m.PartitionsInSync }) w.WriteInt(v);
        w.WriteVarLong(m.KeysRepaired); w.WriteVarLong(m.BytesExchanged); w.WriteInt(m.PairsLeftInRound);
        w.WriteVarLong(m.ReadRepairedKeys); w.WriteVarLong(m.ReadRepairedReplicas);
        w.WriteVarLong(m.TombstonesPurged); w.WriteInt(m.TombstonesPending); w.WriteNullableString(m.LastGcSkipped); w.WriteVarLong(m.SlotCatchUps); w.WriteInt(m.SlotsCatchingUp);
        w.WriteVarLong(m.SlotCatchUpsIncomplete);
    }

    private static AntiEntropyStats ReadAntiEntropyStats(KvReader r) => new(r.ReadString(),
        r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(),
        r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong(),
        r.ReadVarLong(), r.ReadInt(), r.ReadNullableString(), r.ReadVarLong(), r.ReadInt(), r.ReadVarLong());

    private static ValueList<AntiEntropyStats>? ReadAntiEntropyList(KvReader r)
    {
        if (!r.ReadBool()) return null;
        var list = new AntiEntropyStats[r.ReadCount()];
        for (var i = 0; i < list.Length; i++) list[i] = ReadAntiEntropyStats(r);
        return ValueList.From(list);
    }

    private static void WriteNodeTransfers(KvWriter w, NodeTransfers m)
    {
        w.WriteString(m.Node);
        w.WriteInt(m.CatchingUp.Count);
        foreach (var c in m.CatchingUp)
        {
            w.WriteString(c.Slot); w.WriteString(c.Node); w.WriteInt(c.PeersDone); w.WriteInt(c.Peers);
            w.WriteVarLong(c.Keys); w.WriteVarLong(c.Bytes); w.WriteVarLong(c.ElapsedMs);
        }
        foreach (var v in new[] { m.CatchUpsDone, m.KeysDone, m.BytesDone, m.KeysInWindow, m.BytesInWindow, m.WindowMs }) w.WriteVarLong(v);
        w.WriteBool(m.Sizes is not null);
        if (m.Sizes is null) return;
        w.WriteInt(m.Sizes.Count);
        foreach (var size in m.Sizes) { w.WriteString(size.Slot); w.WriteVarLong(size.Keys); w.WriteVarLong(size.Bytes); }
    }

    private static NodeTransfers ReadNodeTransfers(KvReader r)
    {
        var node = r.ReadString();
        var catchingUp = new SlotCatchUp[r.ReadCount()];
        for (var i = 0; i < catchingUp.Length; i++)
            catchingUp[i] = new SlotCatchUp(r.ReadString(), r.ReadString(), r.ReadInt(), r.ReadInt(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong());
        var transfers = new NodeTransfers(node, ValueList.From(catchingUp), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong(), r.ReadVarLong());
        if (!r.ReadBool()) return transfers;
        var sizes = new SlotSizeInfo[r.ReadCount()];
        for (var i = 0; i < sizes.Length; i++) sizes[i] = new SlotSizeInfo(r.ReadString(), r.ReadVarLong(), r.ReadVarLong());
        return transfers with { Sizes = ValueList.From(sizes) };
    }
}
