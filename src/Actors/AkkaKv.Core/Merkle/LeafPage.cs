namespace AkkaKv.Merkle;

/// <summary>
/// One page of the (key, digest) entries of some leaves of a replica's Merkle tree, in key order:
/// what a replica answers when an exchange asks for the leaves whose hashes differ. Paged by bytes
/// (<c>limits.max-repair-reply-bytes</c>) like a repair fetch, so no answer depends on
/// akka.remote's frame limit however many keys the leaves hold: a page is the entries after a
/// cursor key, as many as fit in the budget and at least one; <see cref="More"/> says entries
/// are left after it.
/// </summary>
public sealed record LeafPage(ValueList<MerkleEntry> Entries, bool More)
{
    /// <summary>A varint as KvWriter writes it takes at most 10 bytes; a digest 8.</summary>
    private const int EntryOverheadBytes = 10 + 8;

    /// <summary>What one entry takes in a reply, from above.</summary>
    public static long SizeOf(MerkleEntry entry) => EntryOverheadBytes + entry.Key.Length;

    /// <summary>
    /// The entries of <paramref name="leaves"/> (unknown indexes skipped) whose keys sort after
    /// <paramref name="after"/> (all when null), in key order, as many as fit in
    /// <paramref name="budget"/> bytes and at least one.
    /// </summary>
    public static LeafPage Of(MerkleTree tree, IEnumerable<int> leaves, Bytes? after, long budget)
    {
        var entries = new List<MerkleEntry>();
        foreach (var leaf in leaves.Distinct())
            if (leaf >= 0 && leaf < tree.Shape.LeafCount)
                foreach (var e in tree.LeafEntries(leaf))
                    if (after is null || e.Key.CompareTo(after) > 0) entries.Add(e);
        entries.Sort((a, b) => a.Key.CompareTo(b.Key));
        long used = 0;
        var take = 0;
        while (take < entries.Count && (take == 0 || used + SizeOf(entries[take]) <= budget))
            used += SizeOf(entries[take++]);
        return new LeafPage(ValueList.From(entries.Take(take)), take < entries.Count);
    }

    /// <summary>
    /// Compares two replicas' pages of the same leaves from the same cursor. Only keys up to the
    /// first page's end can be compared (past it one side has not said what it holds), so:
    /// <see cref="LeafComparison.Differing"/> are the keys, up to that bound, present on one side
    /// only or with different digests, in key order; <see cref="LeafComparison.Next"/> is the
    /// cursor for the next pages (the bound), or null when both pages were the last.
    /// </summary>
    public static LeafComparison Compare(LeafPage a, LeafPage b)
    {
        Bytes? bound = null;
        if (a.More) bound = a.Entries[^1].Key;
        if (b.More && (bound is null || b.Entries[^1].Key.CompareTo(bound) < 0)) bound = b.Entries[^1].Key;
        IReadOnlyList<MerkleEntry> Upto(LeafPage p) => bound is null ? p.Entries : p.Entries.Where(e => e.Key.CompareTo(bound) <= 0).ToList();
        return new LeafComparison(MerkleTree.DifferingKeys(Upto(a), Upto(b)), bound);
    }
}

/// <summary>What <see cref="LeafPage.Compare"/> found: the differing keys up to <see cref="Next"/>, and where the next pages start (null: done).</summary>
public sealed record LeafComparison(ValueList<Bytes> Differing, Bytes? Next);
