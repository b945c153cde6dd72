using AkkaKv.Ring;
using AkkaKv.Versioning;

namespace AkkaKv.Listing;

/// <summary>
/// One replica's part of a scan page: the keys of its slot from a cursor position on, in
/// position order, with their versions stripped of values (enough to tell a live key from a
/// deleted one once merged). <see cref="Bound"/> is the last position the page covers; null when
/// the slot holds no key past the page (the partition is done, as far as this replica knows).
/// </summary>
public sealed record ScanSlice(IReadOnlyList<KeyValuePair<Bytes, SiblingSet>> Entries, long? Bound);

/// <summary>
/// A page of a scan, merged from the replicas that answered: the live keys, and the cursor of the
/// next page (0: the scan is done).
/// </summary>
public sealed record ScanPage(IReadOnlyList<Bytes> Keys, long NextCursor);

/// <summary>
/// <c>SCAN</c> over the ring, pure. A key's position is its ring hash without the lowest bit
/// (63 bits: a cursor fits a signed 64-bit integer, which Redis clients parse). Partitions are
/// contiguous ranges of positions, so a scan walks the ring in position order, one partition at a
/// time: a cursor names the next position to look at, and the partition holding it.
///
/// Each page asks every replica of that partition for its first keys from the cursor on; the
/// page covers positions up to the smallest bound among the replies (a replica that ran out of
/// keys bounds nothing), so every key any answering replica holds up to there is in the page, and
/// the next cursor starts right after it. A key that every live replica holds for the whole scan
/// is therefore returned at least once whichever replicas answer (Redis's promise), and a
/// replica's work per page is one pass over its slot with memory for <c>count</c> positions.
/// </summary>
public static class KeyScan
{
    /// <summary>The most keys one replica puts in one page (a page may also take keys that tie on the last position).</summary>
    public const int MaxCount = 1_000;

    /// <summary>The least keys one replica looks at per page, whatever <c>COUNT</c> says (a hint in Redis too): fewer passes over each slot.</summary>
    public const int MinCount = 250;

    public static long PositionOf(Bytes key) => (long)(KeyHash.Of(key) >> 1);

    public static int PartitionOf(long cursor, Partitioner partitioner) => partitioner.PartitionOfHash((ulong)cursor << 1);

    public static long StartOf(int partition, Partitioner partitioner) => (long)(partitioner.StartOf(partition) >> 1);

    /// <summary>How many keys each replica looks at for a <c>COUNT</c> of <paramref name="count"/>.</summary>
    public static int PageSize(int count) => Math.Clamp(count, MinCount, MaxCount);

    /// <summary>
    /// A replica's slice: the keys of <paramref name="entries"/> at or after <paramref name="from"/>,
    /// the <paramref name="count"/> of lowest position and every other key on the last one, those
    /// that <paramref name="keep"/> accepts, in position order, values stripped.
    /// </summary>
    public static ScanSlice Slice(IEnumerable<KeyValuePair<Bytes, SiblingSet>> entries, long from, int count, Func<Bytes, bool> keep)
    {
        // First pass: the count lowest positions at or after the cursor (a max-heap of them).
        var lowest = new PriorityQueue<long, long>(Math.Min(count, 1024) + 1);
        var seen = 0;
        foreach (var (key, _) in entries)
        {
            var position = PositionOf(key);
            if (position < from) continue;
            seen++;
            if (lowest.Count < count) lowest.Enqueue(position, -position);
            else if (position < lowest.Peek())
            {
                lowest.Dequeue();
                lowest.Enqueue(position, -position);
            }
        }
        long? bound = seen > count && lowest.Count > 0 ? lowest.Peek() : null;
        // Second pass: the keys up to the bound (those of the heap and any tie on the bound).
        var page = new List<(long Position, KeyValuePair<Bytes, SiblingSet> Entry)>(lowest.Count);
        foreach (var (key, siblings) in entries)
        {
            var position = PositionOf(key);
            if (position < from || position > (bound ?? long.MaxValue) || !keep(key)) continue;
            page.Add((position, new(key, WithoutValues(siblings))));
        }
        page.Sort((a, b) => a.Position != b.Position ? a.Position.CompareTo(b.Position) : a.Entry.Key.CompareTo(b.Entry.Key));
        return new ScanSlice(page.Select(p => p.Entry).ToList(), bound);
    }

    /// <summary>
    /// The page of <paramref name="partition"/> from the replicas' slices (at least one): the keys
    /// up to the smallest bound, merged across replicas, without those deleted everywhere or expired
    /// at <paramref name="nowMs"/>, and the cursor after them.
    /// </summary>
    public static ScanPage Combine(int partition, IReadOnlyCollection<ScanSlice> slices, Partitioner partitioner, long nowMs)
    {
        if (slices.Count == 0) throw new ArgumentException("a scan page needs at least one replica's slice", nameof(slices));
        long? bound = null;
        foreach (var s in slices)
            if (s.Bound is { } b && (bound is null || b < bound)) bound = b;
        var merged = new Dictionary<Bytes, SiblingSet>();
        foreach (var s in slices)
            foreach (var (key, siblings) in s.Entries)
                if (bound is null || PositionOf(key) <= bound)
                    merged[key] = merged.TryGetValue(key, out var had) ? had.Merge(siblings) : siblings;
        var keys = merged.Where(kv => !kv.Value.IsDeletedAt(nowMs)).Select(kv => kv.Key)
            .OrderBy(PositionOf).ThenBy(k => k).ToList();
        return new ScanPage(keys, NextCursor(partition, bound, partitioner));
    }

    /// <summary>The cursor after a page of <paramref name="partition"/> that covered positions up to <paramref name="bound"/> (null: all of it).</summary>
    public static long NextCursor(int partition, long? bound, Partitioner partitioner)
    {
        if (bound is { } b && b < long.MaxValue && PartitionOf(b + 1, partitioner) == partition) return b + 1;
        return partition + 1 < partitioner.PartitionCount ? StartOf(partition + 1, partitioner) : 0;
    }

    /// <summary>The versions with every live value (and every hash field's value) replaced by an empty one: what a scan needs to merge, not the data.</summary>
    public static SiblingSet WithoutValues(SiblingSet siblings) =>
        siblings.Siblings.All(s => (s.Value is null || s.Value.Length == 0) && (s.Hash is null || s.Hash.Fields.All(f => f.Value.Length == 0)))
            ? siblings
            : SiblingSet.Of(siblings.Siblings.Select(s => s.Value is null ? s : s with
            {
                Value = Bytes.Empty,
                // A hash keeps each field's name and writer (whether it reads as deleted depends on them), not its value.
                Hash = s.Hash is null ? null : HashPart.Of(s.Hash.Fields.Select(f => f with { Value = Bytes.Empty })),
            }));
}
