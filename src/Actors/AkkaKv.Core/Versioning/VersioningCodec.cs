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
            w.WriteNullableBytes(s.Value);
            w.WriteVarLong(s.TimestampMs);
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
            list.Add(new Sibling(new Dot(r.ReadPooledString(), r.ReadVarLong()), r.ReadVector(), r.ReadNullableBytes(), r.ReadVarLong()));
        return SiblingSet.Of(list);
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
