using System.Collections.Immutable;

namespace AkkaKv.Versioning;

/// <summary>
/// The versions of one key that no other known version supersedes: dotted version vectors in the
/// per-sibling form (Preguiça, Baquero, Almeida, Fonte, Gonçalves, "Dotted Version Vectors:
/// Logical Clocks for Optimistic Replication", 2010; the scheme Riak 2.0 adopted).
///
/// Invariants: no two siblings share a dot; no sibling's dot is covered by another sibling's past.
/// A put with context C mints a fresh dot d at one replica and adds (d, C, value): every sibling
/// whose dot C covers is superseded, every other one (a concurrent write) stays. Two puts that
/// carry the same context get two different dots, so both survive as siblings: no false
/// "last writer wins" and no lost update.
///
/// <see cref="Merge"/> is commutative, associative and idempotent (property-tested), so replicas
/// may exchange sets in any order, any number of times.
/// </summary>
public sealed class SiblingSet : IEquatable<SiblingSet>
{
    private static readonly IComparer<Sibling> ByDot = Comparer<Sibling>.Create((a, b) =>
    {
        var c = string.CompareOrdinal(a.Dot.Actor, b.Dot.Actor);
        return c != 0 ? c : a.Dot.Counter.CompareTo(b.Dot.Counter);
    });

    public static readonly SiblingSet Empty = new(ImmutableArray<Sibling>.Empty);

    /// <summary>The surviving siblings, ordered by dot (actor, then counter).</summary>
    public ImmutableArray<Sibling> Siblings { get; }

    private SiblingSet(ImmutableArray<Sibling> siblings) => Siblings = siblings;

    public static SiblingSet Of(IEnumerable<Sibling> siblings) => Empty.Merge(siblings);

    public bool IsEmpty => Siblings.IsEmpty;
    public int Count => Siblings.Length;

    /// <summary>All siblings are tombstones (or there are none). Expired values are not tombstones: see <see cref="IsDeletedAt"/>.</summary>
    public bool IsDeleted => Siblings.All(s => s.IsTombstone);

    /// <summary>
    /// No sibling is present at <paramref name="nowMs"/> (each is a tombstone, past its deadline,
    /// or a hollow hash: <see cref="IsPresentAt"/>): the key reads as not found. At
    /// <see cref="long.MaxValue"/>: every sibling is a tombstone, a hollow hash or has a deadline,
    /// so the set reads as not found once the last deadline has passed (hollowness does not depend
    /// on the clock, so a set deleted now is deleted at every later time).
    /// </summary>
    public bool IsDeletedAt(long nowMs) => !Siblings.Any(s => IsPresentAt(s, nowMs));

    /// <summary>
    /// A version that reads as present at <paramref name="nowMs"/>: live (<see cref="Sibling.IsLiveAt"/>)
    /// and not a hollow hash (<see cref="IsHollow"/>), which reads as deleted, like a tombstone.
    /// </summary>
    public bool IsPresentAt(Sibling s, long nowMs) => s.IsLiveAt(nowMs) && !IsHollow(s);

    /// <summary>
    /// A hash version every field of which another version of the set replaced: concurrent
    /// <c>HDEL</c>s that each removed what the other kept leave two such versions, and the hash is
    /// then empty, which Redis never shows: it reads as deleted. Independent of the clock, so a
    /// replica's purge of it replays the same way.
    /// </summary>
    public bool IsHollow(Sibling s) => s.IsHash && s.Hash!.Fields.All(IsReplaced);

    /// <summary>
    /// A version of the set saw the write of <paramref name="field"/> (its past covers the field's
    /// dot) and holds another entry for its name, or none: it overwrote or removed the field.
    /// </summary>
    public bool IsReplaced(HashField field)
    {
        foreach (var other in Siblings)
            if (other.Past.Covers(field.Dot) && other.Hash?.Find(field.Name)?.Dot != field.Dot) return true;
        return false;
    }

    /// <summary>
    /// The siblings present at <paramref name="nowMs"/> (<see cref="IsPresentAt"/>), ordered as <see cref="ValuesOldestFirst"/>:
    /// what a read at that moment returns, with each value's deadline.
    /// </summary>
    public IEnumerable<Sibling> LiveOldestFirst(long nowMs) =>
        Siblings.Where(s => IsPresentAt(s, nowMs)).OrderBy(s => s.TimestampMs).ThenBy(s => s, ByDot);

    /// <summary>The values of the live (non-tombstone) siblings, in dot order.</summary>
    public IEnumerable<Bytes> Values => Siblings.Where(s => !s.IsTombstone).Select(s => s.Value!);

    /// <summary>
    /// The live values ordered by the wall-clock time their coordinating replica minted them,
    /// oldest first; equal times keep dot order. Every replica holding the same set yields the same
    /// order, so the last one is a deterministic "newest write" pick among concurrent siblings.
    /// </summary>
    public IEnumerable<Bytes> ValuesOldestFirst =>
        Siblings.Where(s => !s.IsTombstone).OrderBy(s => s.TimestampMs).ThenBy(s => s, ByDot).Select(s => s.Value!);

    /// <summary>
    /// The causal context a client gets with a read and passes back with its next put: every
    /// event of every sibling. A put carrying it supersedes exactly the siblings that were read.
    /// </summary>
    public VersionVector Context
    {
        get
        {
            var v = VersionVector.Empty;
            foreach (var s in Siblings) v = v.Merge(s.Past).With(s.Dot);
            return v;
        }
    }

    /// <summary>The highest counter this set holds for <paramref name="actor"/> (in dots or pasts).</summary>
    public long MaxCounterOf(string actor) => Siblings.IsEmpty ? 0 : Siblings.Max(s => Math.Max(s.Past[actor], s.Dot.Actor == actor ? s.Dot.Counter : 0));

    public SiblingSet Merge(SiblingSet other) =>
        // The same versions (a read's replicas mostly agree), or none: nothing changes.
        ReferenceEquals(this, other) || other.Siblings.IsEmpty || Siblings.SequenceEqual(other.Siblings) ? this : Merge(other.Siblings);

    public SiblingSet Merge(IEnumerable<Sibling> incoming)
    {
        // Run for every write and most read replies, on sets of one or two siblings: a list and
        // loops, not a dictionary and LINQ (a dot is found by a scan, as the dominance check scans).
        var all = new List<Sibling>(Siblings.Length + 1);
        all.AddRange(Siblings);
        var changed = false;
        foreach (var s in incoming)
        {
            var i = IndexOfDot(all, s.Dot);
            if (i < 0) { all.Add(s); changed = true; continue; }
            // One dot in two forms: only a node from before expiry, which stored a version without
            // its deadline, makes one. Every replica keeps the same form (the one with the earliest
            // deadline), so the replicas converge and the deadline is not lost.
            if (Preferred(s, all[i])) { all[i] = s; changed = true; }
        }
        if (!changed) return this;
        var kept = ImmutableArray.CreateBuilder<Sibling>(all.Count);
        foreach (var s in all)
            if (!IsCoveredByAnother(all, s)) kept.Add(s);
        kept.Sort(ByDot);
        return new SiblingSet(kept.DrainToImmutable());
    }

    private static int IndexOfDot(List<Sibling> siblings, Dot dot)
    {
        for (var i = 0; i < siblings.Count; i++)
            if (siblings[i].Dot == dot) return i;
        return -1;
    }

    private static bool IsCoveredByAnother(List<Sibling> siblings, Sibling s)
    {
        foreach (var p in siblings)
            if (p.Dot != s.Dot && p.Past.Covers(s.Dot)) return true;
        return false;
    }

    private static bool Preferred(Sibling candidate, Sibling held) =>
        candidate.HasDeadline && (!held.HasDeadline || candidate.ExpiresAtMs < held.ExpiresAtMs);

    /// <summary>
    /// The set after a put of <paramref name="value"/> (null: a tombstone) that carried
    /// <paramref name="context"/>, minted by the coordinating replica as <paramref name="dot"/>.
    /// </summary>
    public SiblingSet Put(Dot dot, VersionVector context, Bytes? value, long timestampMs, long expiresAtMs = 0) =>
        Merge([new Sibling(dot, context, value, timestampMs, value is null ? 0 : expiresAtMs)]);

    public bool Equals(SiblingSet? other) => other is not null && Siblings.SequenceEqual(other.Siblings);
    public override bool Equals(object? obj) => obj is SiblingSet s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var s in Siblings) h.Add(s.Dot);
        return h.ToHashCode();
    }
    public override string ToString() => "[" + string.Join(", ", Siblings.Select(s => $"{s.Dot}{(s.IsTombstone ? "(deleted)" : s.ExpiresAtMs != 0 ? $"(expires {s.ExpiresAtMs})" : "")}")) + "]";
}
