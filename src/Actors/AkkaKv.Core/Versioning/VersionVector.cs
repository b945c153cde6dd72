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
/// <remarks>
/// Held as one array of (actor, counter) pairs in ordinal actor order, with no zero counters:
/// every stored sibling carries one (its past), so a vector of one or two actors must cost a few
/// dozen bytes, not a tree of nodes (see docs/performance.md, memory per key).
/// </remarks>
public sealed class VersionVector : IEquatable<VersionVector>
{
    public static readonly VersionVector Empty = new([]);

    private readonly KeyValuePair<string, long>[] _entries;

    private VersionVector(KeyValuePair<string, long>[] entries) => _entries = entries;

    /// <summary>The (actor, counter) pairs, in ordinal actor order; every counter is above 0.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Entries => _entries;

    public static VersionVector Of(IEnumerable<KeyValuePair<string, long>> entries)
    {
        var b = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (actor, counter) in entries)
        {
            if (counter < 0) throw new ArgumentOutOfRangeException(nameof(entries), "counters are never negative");
            if (counter > 0) b[actor] = Math.Max(counter, b.GetValueOrDefault(actor));
        }
        return b.Count == 0 ? Empty : new VersionVector(b.ToArray());
    }

    private int IndexOf(string actor)
    {
        int lo = 0, hi = _entries.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = string.CompareOrdinal(_entries[mid].Key, actor);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public long this[string actor] => IndexOf(actor) is var i and >= 0 ? _entries[i].Value : 0;

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>True when the causal history this vector stands for contains <paramref name="dot"/>.</summary>
    public bool Covers(Dot dot) => this[dot.Actor] >= dot.Counter;

    /// <summary>True when every event in <paramref name="other"/> is also in this vector.</summary>
    public bool Descends(VersionVector other)
    {
        foreach (var (actor, counter) in other._entries)
            if (this[actor] < counter) return false;
        return true;
    }

    public VersionVector Merge(VersionVector other)
    {
        if (other.IsEmpty || ReferenceEquals(this, other)) return this;
        if (IsEmpty) return other;
        if (Descends(other)) return this;
        if (other.Descends(this)) return other;
        var merged = new List<KeyValuePair<string, long>>(_entries.Length + other._entries.Length);
        int i = 0, j = 0;
        while (i < _entries.Length || j < other._entries.Length)
        {
            var c = i == _entries.Length ? 1 : j == other._entries.Length ? -1 : string.CompareOrdinal(_entries[i].Key, other._entries[j].Key);
            if (c < 0) merged.Add(_entries[i++]);
            else if (c > 0) merged.Add(other._entries[j++]);
            else { merged.Add(KeyValuePair.Create(_entries[i].Key, Math.Max(_entries[i].Value, other._entries[j].Value))); i++; j++; }
        }
        return new VersionVector(merged.ToArray());
    }

    public VersionVector With(Dot dot)
    {
        var i = IndexOf(dot.Actor);
        if (i >= 0)
        {
            if (dot.Counter <= _entries[i].Value) return this;
            var replaced = (KeyValuePair<string, long>[])_entries.Clone();
            replaced[i] = KeyValuePair.Create(_entries[i].Key, dot.Counter);
            return new VersionVector(replaced);
        }
        if (dot.Counter <= 0) return this;
        var at = ~i;
        var grown = new KeyValuePair<string, long>[_entries.Length + 1];
        Array.Copy(_entries, grown, at);
        grown[at] = KeyValuePair.Create(dot.Actor, dot.Counter);
        Array.Copy(_entries, at, grown, at + 1, _entries.Length - at);
        return new VersionVector(grown);
    }

    public bool Equals(VersionVector? other)
    {
        if (other is null || other._entries.Length != _entries.Length) return false;
        for (var i = 0; i < _entries.Length; i++)
            if (_entries[i].Value != other._entries[i].Value || !string.Equals(_entries[i].Key, other._entries[i].Key, StringComparison.Ordinal)) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is VersionVector v && Equals(v);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var (k, v) in _entries) { h.Add(k); h.Add(v); }
        return h.ToHashCode();
    }

    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"{e.Key}:{e.Value}")) + "}";
}
