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

    /// <summary>Field mask bit of an extended sibling: a deadline follows.</summary>
    private const ulong ExtraDeadline = 1;

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
            if (!s.HasDeadline)
            {
                // The first format: a presence byte (0 tombstone, 1 value), the value, the timestamp.
                w.WriteNullableBytes(s.Value);
                w.WriteVarLong(s.TimestampMs);
            }
            else
            {
                // An extended sibling (a value with more fields): presence byte 2, the value, the
                // timestamp, then a mask of the fields that follow. Only values carry extras.
                w.WriteByte(ExtendedValue);
                w.WriteBytes(s.Value!);
                w.WriteVarLong(s.TimestampMs);
                w.WriteVarULong(ExtraDeadline);
                w.WriteVarLong(s.ExpiresAtMs);
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
            case ExtendedValue:
                var value = r.ReadBytes();
                var timestamp = r.ReadVarLong();
                var mask = r.ReadVarULong();
                if ((mask & ~ExtraDeadline) != 0)
                    throw new FormatException($"a version with fields this node does not know (mask {mask:x}): upgrade every node before using them");
                var expiresAt = (mask & ExtraDeadline) != 0 ? r.ReadVarLong() : 0;
                if (expiresAt < 0) throw new FormatException("a negative deadline");
                return new Sibling(dot, past, value, timestamp, expiresAt);
            default:
                throw new FormatException($"a version whose value marker is {presence}, which this node does not know: upgrade every node");
        }
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
