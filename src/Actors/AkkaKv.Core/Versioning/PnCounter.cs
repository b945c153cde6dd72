namespace AkkaKv.Versioning;

/// <summary>
/// One replica's increments of a counter: <see cref="Up"/> the sum of its positive ones,
/// <see cref="Down"/> of its negative ones, and <see cref="Version"/> the counter of the replica's
/// dot that set the entry (the version it minted with it). All three only grow, together.
/// </summary>
public readonly record struct CounterEntry(long Up, long Down, long Version = 0)
{
    public CounterEntry Max(CounterEntry other) => new(Math.Max(Up, other.Up), Math.Max(Down, other.Down), Math.Max(Version, other.Version));
    public bool IsZero => Up == 0 && Down == 0;
}

/// <summary>
/// The state of a PN-counter: replica id → <see cref="CounterEntry"/>. Each entry has one writer
/// (the replica incarnation it is keyed by), which only ever raises it, so the merge is the
/// pointwise maximum: commutative, associative, idempotent, and it counts every increment once.
/// Held as one array in ordinal id order, without zero entries, like <c>VersionVector</c>.
/// </summary>
public sealed class PnCounter : IEquatable<PnCounter>
{
    public static readonly PnCounter Empty = new([]);

    private readonly KeyValuePair<string, CounterEntry>[] _entries;

    private PnCounter(KeyValuePair<string, CounterEntry>[] entries) => _entries = entries;

    /// <summary>The (replica id, entry) pairs, in ordinal id order; no entry is zero.</summary>
    public IReadOnlyList<KeyValuePair<string, CounterEntry>> Entries => _entries;

    public bool IsEmpty => _entries.Length == 0;

    /// <exception cref="ArgumentOutOfRangeException">An entry is negative.</exception>
    public static PnCounter Of(IEnumerable<KeyValuePair<string, CounterEntry>> entries)
    {
        var b = new SortedDictionary<string, CounterEntry>(StringComparer.Ordinal);
        foreach (var (id, e) in entries)
        {
            if (e.Up < 0 || e.Down < 0) throw new ArgumentOutOfRangeException(nameof(entries), "counter entries are never negative");
            if (!e.IsZero) b[id] = b.TryGetValue(id, out var held) ? held.Max(e) : e;
        }
        return b.Count == 0 ? Empty : new PnCounter(b.ToArray());
    }

    public CounterEntry this[string id]
    {
        get
        {
            int lo = 0, hi = _entries.Length - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var c = string.CompareOrdinal(_entries[mid].Key, id);
                if (c == 0) return _entries[mid].Value;
                if (c < 0) lo = mid + 1; else hi = mid - 1;
            }
            return default;
        }
    }

    /// <summary>The pointwise maximum.</summary>
    public PnCounter Merge(PnCounter other)
    {
        if (other.IsEmpty || ReferenceEquals(this, other)) return this;
        if (IsEmpty) return other;
        var merged = new List<KeyValuePair<string, CounterEntry>>(_entries.Length + other._entries.Length);
        int i = 0, j = 0;
        while (i < _entries.Length || j < other._entries.Length)
        {
            var c = i == _entries.Length ? 1 : j == other._entries.Length ? -1 : string.CompareOrdinal(_entries[i].Key, other._entries[j].Key);
            if (c < 0) merged.Add(_entries[i++]);
            else if (c > 0) merged.Add(other._entries[j++]);
            else { merged.Add(KeyValuePair.Create(_entries[i].Key, _entries[i].Value.Max(other._entries[j].Value))); i++; j++; }
        }
        return new PnCounter(merged.ToArray());
    }

    /// <summary>
    /// The counter with <paramref name="delta"/> added to replica <paramref name="id"/>'s entry,
    /// starting from <paramref name="from"/> (its highest entry known, at least this counter's), set
    /// by the replica's version <paramref name="version"/> (its dot's counter).
    /// </summary>
    /// <exception cref="OverflowException">The entry would pass 2^63 - 1.</exception>
    public PnCounter Add(string id, CounterEntry from, long delta, long version)
    {
        var start = this[id].Max(from) with { Version = version };
        var next = delta >= 0
            ? start with { Up = checked(start.Up + delta) }
            : start with { Down = checked(start.Down + checked(-delta)) };
        // Of drops a zero entry (an increment by 0 of a replica with none): no version holds one.
        return Merge(Of([KeyValuePair.Create(id, next)]));
    }

    /// <summary>This counter with replica <paramref name="id"/>'s entry raised by <paramref name="gap"/> (each part).</summary>
    /// <exception cref="OverflowException">The entry would pass 2^63 - 1.</exception>
    public PnCounter Raise(string id, CounterEntry gap)
    {
        var e = this[id];
        return gap.IsZero ? this : Merge(Of([KeyValuePair.Create(id, new CounterEntry(checked(e.Up + gap.Up), checked(e.Down + gap.Down), e.Version))]));
    }

    /// <summary>
    /// What this counter counts above <paramref name="floor"/>: for each replica, its increments
    /// past the floor's entry minus its decrements past it (an entry below its floor counts 0).
    /// </summary>
    public Int128 Above(PnCounter floor)
    {
        Int128 sum = 0;
        foreach (var (id, e) in _entries)
        {
            var f = floor[id];
            sum += Math.Max(0, e.Up - f.Up);
            sum -= Math.Max(0, e.Down - f.Down);
        }
        return sum;
    }

    public bool Equals(PnCounter? other) =>
        other is not null && other._entries.Length == _entries.Length
        && _entries.Zip(other._entries).All(p => p.First.Value == p.Second.Value && string.Equals(p.First.Key, p.Second.Key, StringComparison.Ordinal));

    public override bool Equals(object? obj) => obj is PnCounter c && Equals(c);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var (k, v) in _entries) { h.Add(k); h.Add(v); }
        return h.ToHashCode();
    }

    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"{e.Key}:+{e.Value.Up}-{e.Value.Down}@{e.Value.Version}")) + "}";
}
