using System.Collections.Immutable;

namespace AkkaKv.Versioning;

/// <summary>
/// One field of a hash version: its name and value, and the write that set it (the
/// <see cref="Dot"/> of the version that wrote it and that version's minting time), kept unchanged
/// by later versions that leave the field alone. Reads use the dot to tell a field a concurrent
/// version overwrote or removed from one it never saw (<see cref="Hashes.HashRules"/>).
/// </summary>
public sealed record HashField(Bytes Name, Dot Dot, long TimestampMs, Bytes Value);

/// <summary>
/// The fields of a hash version (<see cref="Sibling.Hash"/>): every field of the hash as of the
/// version's minting, at most one entry per name, ordered by name (bytes, ordinal).
/// </summary>
public sealed class HashPart : IEquatable<HashPart>
{
    public ImmutableArray<HashField> Fields { get; }

    private HashPart(ImmutableArray<HashField> fields) => Fields = fields;

    /// <summary>The fields, ordered by name; a name given twice keeps its last entry.</summary>
    public static HashPart Of(IEnumerable<HashField> fields)
    {
        var byName = new SortedDictionary<Bytes, HashField>();
        foreach (var f in fields) byName[f.Name] = f;
        return new HashPart(byName.Values.ToImmutableArray());
    }

    /// <summary>Fields already ordered by name with no name twice (as the codec reads them); else a FormatException.</summary>
    public static HashPart FromOrdered(ImmutableArray<HashField> fields)
    {
        for (var i = 1; i < fields.Length; i++)
            if (fields[i - 1].Name.CompareTo(fields[i].Name) >= 0)
                throw new FormatException("hash fields out of order or named twice");
        return new HashPart(fields);
    }

    public int Count => Fields.Length;

    /// <summary>The entry for <paramref name="name"/>, or null.</summary>
    public HashField? Find(Bytes name)
    {
        int lo = 0, hi = Fields.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = Fields[mid].Name.CompareTo(name);
            if (c == 0) return Fields[mid];
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return null;
    }

    /// <summary>What each field costs besides its name, value and writer id: the writer's counter, the minting time and the length prefixes, at most.</summary>
    public const int FieldOverheadBytes = 32;

    /// <summary>
    /// The bytes the fields take stored and on the wire (names, values, each field's writer id and
    /// <see cref="FieldOverheadBytes"/>), for the key's size limit: a hash of many tiny fields
    /// counts as what it costs, so no version the limit admits is too big to replicate.
    /// </summary>
    public long ByteCount => Fields.Sum(f => (long)f.Name.Length + f.Value.Length + f.Dot.Actor.Length + FieldOverheadBytes);

    public bool Equals(HashPart? other) => other is not null && Fields.SequenceEqual(other.Fields);
    public override bool Equals(object? obj) => obj is HashPart h && Equals(h);
    public override int GetHashCode() => Fields.Length == 0 ? 0 : HashCode.Combine(Fields.Length, Fields[0]);
    public override string ToString() => "{" + string.Join(", ", Fields.Select(f => $"{f.Name}@{f.Dot}")) + "}";
}
