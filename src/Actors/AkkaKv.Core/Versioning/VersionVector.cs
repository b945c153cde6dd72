using System.Collections.Immutable;
using System.Text;

namespace AkkaKv.Versioning;

/// <summary>One event: the <paramref name="Counter"/>-th version minted by replica <paramref name="Actor"/>.</summary>
public readonly record struct Dot(string Actor, long Counter)
{
    public override string ToString() => $"{Actor}:{Counter}";
}

/// <summary>
/// An immutable version vector (actor → highest counter seen). Actors are replica incarnations
/// (<c>"{node}/{slot}.{epoch}"</c>), never a stateless coordinator. No actor code in here.
/// </summary>
public sealed class VersionVector : IEquatable<VersionVector>
{
    public static readonly VersionVector Empty = new(ImmutableSortedDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal));

    public ImmutableSortedDictionary<string, long> Entries { get; }

    private VersionVector(ImmutableSortedDictionary<string, long> entries) => Entries = entries;

    public static VersionVector Of(IEnumerable<KeyValuePair<string, long>> entries)
    {
        var b = ImmutableSortedDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        foreach (var (actor, counter) in entries)
        {
            if (counter < 0) throw new ArgumentOutOfRangeException(nameof(entries), "counters are never negative");
            if (counter > 0) b[actor] = Math.Max(counter, b.GetValueOrDefault(actor));
        }
        return new VersionVector(b.ToImmutable());
    }

    public long this[string actor] => Entries.GetValueOrDefault(actor);

    public bool IsEmpty => Entries.IsEmpty;

    /// <summary>True when the causal history this vector stands for contains <paramref name="dot"/>.</summary>
    public bool Covers(Dot dot) => this[dot.Actor] >= dot.Counter;

    /// <summary>True when every event in <paramref name="other"/> is also in this vector.</summary>
    public bool Descends(VersionVector other) => other.Entries.All(e => this[e.Key] >= e.Value);

    public VersionVector Merge(VersionVector other)
    {
        if (other.IsEmpty) return this;
        if (IsEmpty) return other;
        var b = Entries.ToBuilder();
        foreach (var (actor, counter) in other.Entries)
            if (counter > b.GetValueOrDefault(actor)) b[actor] = counter;
        return new VersionVector(b.ToImmutable());
    }

    public VersionVector With(Dot dot) => dot.Counter <= this[dot.Actor] ? this : new VersionVector(Entries.SetItem(dot.Actor, dot.Counter));

    public bool Equals(VersionVector? other) =>
        other is not null && Entries.Count == other.Entries.Count && Entries.All(e => other[e.Key] == e.Value);

    public override bool Equals(object? obj) => obj is VersionVector v && Equals(v);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var (k, v) in Entries) { h.Add(k); h.Add(v); }
        return h.ToHashCode();
    }

    public override string ToString() => "{" + string.Join(", ", Entries.Select(e => $"{e.Key}:{e.Value}")) + "}";
}
