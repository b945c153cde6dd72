using System.Collections.Immutable;
using AkkaKv.Codec;

namespace AkkaKv.Versioning;

/// <summary>
/// The binary encoding of clocks and sibling sets, on the store's <see cref="KvWriter"/> and
/// <see cref="KvReader"/>. A storage and wire format: journals and causal contexts handed to
/// clients hold it, so field order never changes.
/// </summary>
public static class VersioningCodec
{
    /// <summary>The presence byte of an extended sibling: a value, and after the timestamp a field mask.</summary>
    private const byte ExtendedValue = 2;

    /// <summary>The presence byte of an extended tombstone: no value; after the timestamp a field mask.</summary>
    private const byte ExtendedTombstone = 3;

    /// <summary>Field mask bit of an extended sibling: a deadline follows.</summary>
    private const ulong ExtraDeadline = 1;

    /// <summary>Field mask bit of an extended sibling: counter fields follow (after the deadline, if any).</summary>
    private const ulong ExtraCounter = 2;

    /// <summary>Field mask bit of an extended sibling: hash fields follow (after the counter fields, if any).</summary>
    private const ulong ExtraHash = 4;

    private const ulong KnownExtras = ExtraDeadline | ExtraCounter | ExtraHash;

    public static void WriteVector(this KvWriter w, VersionVector v)
    {
        w.WriteVarULong((ulong)v.Entries.Count);
        foreach (var (actor, counter) in v.Entries) { w.WriteString(actor); w.WriteVarLong(counter); }
    }

    public static void WriteSiblings(this KvWriter w, SiblingSet set)
    {
        w.WriteVarULong((ulong)set.Count);
        foreach (var s in set.Siblings)
        {
            w.WriteString(s.Dot.Actor);
            w.WriteVarLong(s.Dot.Counter);
            w.WriteVector(s.Past);
            if (!s.HasDeadline && s.Counter is null && s.Hash is null)
            {
                // The first format: a presence byte (0 tombstone, 1 value), the value, the timestamp.
                w.WriteNullableBytes(s.Value);
                w.WriteVarLong(s.TimestampMs);
            }
            else
            {
                // An extended sibling: presence byte 2 (a value) or 3 (a tombstone), the value, the
                // timestamp, then a mask of the fields that follow, in bit order.
                w.WriteByte(s.Value is null ? ExtendedTombstone : ExtendedValue);
                if (s.Value is not null) w.WriteBytes(s.Value);
                w.WriteVarLong(s.TimestampMs);
                w.WriteVarULong((s.HasDeadline ? ExtraDeadline : 0) | (s.Counter is null ? 0 : ExtraCounter) | (s.IsHash ? ExtraHash : 0));
                if (s.HasDeadline) w.WriteVarLong(s.ExpiresAtMs);
                if (s.Counter is { } counter) WriteCounterPart(w, counter);
                if (s.IsHash) WriteHashPart(w, s.Hash!);
            }
        }
    }

    public static VersionVector ReadVector(this KvReader r)
    {
        var count = r.ReadLength();
        var entries = new List<KeyValuePair<string, long>>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var actor = r.ReadPooledString();
            var counter = r.ReadVarLong();
            if (counter < 0) throw new FormatException("negative version counter");
            entries.Add(KeyValuePair.Create(actor, counter));
        }
        return VersionVector.Of(entries);
    }

    public static SiblingSet ReadSiblings(this KvReader r)
    {
        var count = r.ReadLength();
        var list = new List<Sibling>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
            list.Add(ReadSibling(r));
        return SiblingSet.Of(list);
    }

    private static Sibling ReadSibling(KvReader r)
    {
        var dot = new Dot(r.ReadPooledString(), r.ReadVarLong());
        var past = r.ReadVector();
        var presence = r.ReadByte();
        switch (presence)
        {
            case 0: return new Sibling(dot, past, null, r.ReadVarLong());
            case 1: return new Sibling(dot, past, r.ReadBytes(), r.ReadVarLong());
            case ExtendedValue or ExtendedTombstone:
                var value = presence == ExtendedValue ? r.ReadBytes() : null;
                var timestamp = r.ReadVarLong();
                var mask = r.ReadVarULong();
                if ((mask & ~KnownExtras) != 0)
                    throw new FormatException($"a version with fields this node does not know (mask {mask:x}): upgrade every node before using them");
                if (value is null && (mask & ExtraDeadline) != 0) throw new FormatException("a tombstone with a deadline");
                var expiresAt = (mask & ExtraDeadline) != 0 ? r.ReadVarLong() : 0;
                if (expiresAt < 0) throw new FormatException("a negative deadline");
                var counter = (mask & ExtraCounter) != 0 ? ReadCounterPart(r) : null;
                if (value is null && (mask & ExtraHash) != 0) throw new FormatException("a tombstone with hash fields");
                var hash = (mask & ExtraHash) != 0 ? ReadHashPart(r) : null;
                if (hash is not null && value!.Length != 0) throw new FormatException("a hash version with a value");
                return new Sibling(dot, past, value, timestamp, expiresAt, counter, hash);
            default:
                throw new FormatException($"a version whose value marker is {presence}, which this node does not know: upgrade every node");
        }
    }

    /// <summary>Counter fields: a flags byte (1 increment, 2 a base follows), entries and floor (each: count, then id, up, down, version), then the base (dot, timestamp, value).</summary>
    private static void WriteCounterPart(KvWriter w, CounterPart c)
    {
        w.WriteByte((byte)((c.IsIncrement ? 1 : 0) | (c.Base is null ? 0 : 2)));
        WritePnCounter(w, c.Entries);
        WritePnCounter(w, c.Floor);
        if (c.Base is { } b)
        {
            w.WriteString(b.Dot.Actor);
            w.WriteVarLong(b.Dot.Counter);
            w.WriteVarLong(b.TimestampMs);
            w.WriteVarLong(b.Value);
        }
    }

    private static void WritePnCounter(KvWriter w, PnCounter counter)
    {
        w.WriteVarULong((ulong)counter.Entries.Count);
        foreach (var (id, e) in counter.Entries) { w.WriteString(id); w.WriteVarLong(e.Up); w.WriteVarLong(e.Down); w.WriteVarLong(e.Version); }
    }

    private static CounterPart ReadCounterPart(KvReader r)
    {
        var flags = r.ReadByte();
        if ((flags & ~3) != 0) throw new FormatException($"counter fields with flags {flags:x} this node does not know: upgrade every node");
        var entries = ReadPnCounter(r);
        var floor = ReadPnCounter(r);
        CounterBase? counterBase = null;
        if ((flags & 2) != 0)
        {
            if ((flags & 1) == 0) throw new FormatException("a counter base on a version that is not an increment");
            var dot = new Dot(r.ReadPooledString(), r.ReadVarLong());
            if (dot.Counter < 1) throw new FormatException("a counter base whose version counter is not positive");
            counterBase = new CounterBase(dot, r.ReadVarLong(), r.ReadVarLong());
        }
        return new CounterPart(entries, floor, counterBase, (flags & 1) != 0);
    }

    private static PnCounter ReadPnCounter(KvReader r)
    {
        var count = r.ReadLength();
        var entries = new List<KeyValuePair<string, CounterEntry>>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var id = r.ReadPooledString();
            var up = r.ReadVarLong();
            var down = r.ReadVarLong();
            var version = r.ReadVarLong();
            if (up < 0 || down < 0 || version < 0) throw new FormatException("a negative counter entry");
            entries.Add(KeyValuePair.Create(id, new CounterEntry(up, down, version)));
        }
        return PnCounter.Of(entries);
    }

    /// <summary>Hash fields: count, then each field's name, the dot that wrote it (actor, counter), its minting time and its value, ordered by name.</summary>
    private static void WriteHashPart(KvWriter w, HashPart hash)
    {
        w.WriteVarULong((ulong)hash.Count);
        foreach (var f in hash.Fields)
        {
            w.WriteBytes(f.Name);
            w.WriteString(f.Dot.Actor);
            w.WriteVarLong(f.Dot.Counter);
            w.WriteVarLong(f.TimestampMs);
            w.WriteBytes(f.Value);
        }
    }

    private static HashPart ReadHashPart(KvReader r)
    {
        var count = r.ReadLength();
        if (count == 0) throw new FormatException("a hash version without fields");
        var fields = ImmutableArray.CreateBuilder<HashField>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var name = r.ReadBytes();
            var dot = new Dot(r.ReadPooledString(), r.ReadVarLong());
            if (dot.Counter < 1) throw new FormatException("a hash field whose version counter is not positive");
            fields.Add(new HashField(name, dot, r.ReadVarLong(), r.ReadBytes()));
        }
        return HashPart.FromOrdered(fields.ToImmutable());
    }

    /// <summary>A key → sibling set map (a replica snapshot's keys): count, then key and set pairs.</summary>
    public static ImmutableSortedDictionary<Bytes, SiblingSet> ReadKeyMap(this KvReader r)
    {
        var count = r.ReadLength();
        var b = ImmutableSortedDictionary.CreateBuilder<Bytes, SiblingSet>();
        for (var i = 0; i < count; i++) b[r.ReadBytes()] = r.ReadSiblings();
        return b.ToImmutable();
    }
}
