using System.Text;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>
/// What a replica puts in its answer to a repair fetch (the <c>ReplicaFetch</c> of a Merkle
/// exchange, in catch-up and anti-entropy alike): the requested keys in request order, as many
/// as fit in <c>limits.max-repair-reply-bytes</c>, and always the first one (part of it when its
/// versions alone are over the budget: see <see cref="Page"/>), so every exchange moves at least
/// one key or one version. A reply is thus at most max(budget, one sibling), whatever the value
/// sizes, the key sizes and however many keys differ, and no reply depends on akka.remote's frame limit:
/// an over-size frame is dropped by Akka.Remote, the exchange times out, and nothing is repaired.
/// The keys left out still differ, so the next exchange of the pair (catch-up repeats at once;
/// anti-entropy re-checks the pair at the end of its round) fetches them.
/// </summary>
public static class FetchPage
{
    /// <summary>A varint as KvWriter writes it takes at most 10 bytes (64 bits at 7 per byte).</summary>
    private const int VarIntBytes = 10;

    /// <summary>Per key: the key's length prefix and the sibling count.</summary>
    private const int KeyOverheadBytes = 2 * VarIntBytes;

    /// <summary>
    /// Per sibling, besides its value and actor ids: the dot's actor length and counter, the past's
    /// entry count, the value's null flag and length, the timestamp.
    /// </summary>
    private const int SiblingOverheadBytes = 5 * VarIntBytes + 1;

    /// <summary>Per entry of a sibling's past: the actor's length prefix and its counter.</summary>
    private const int PastEntryOverheadBytes = 2 * VarIntBytes;

    /// <summary>
    /// What a key's entry takes in a reply, from above: at least what KvSerializer writes for it
    /// (the key, then <c>VersioningCodec.WriteSiblings</c>), so a page within the budget is a reply
    /// within the budget, give or take the reply's own few bytes of header.
    /// </summary>
    public static long SizeOf(Bytes key, SiblingSet siblings)
    {
        long size = KeyOverheadBytes + key.Length;
        foreach (var s in siblings.Siblings) size += SizeOf(s);
        return size;
    }

    /// <summary>
    /// The reply's entries: the longest prefix of <paramref name="entries"/> (in their order) whose
    /// sizes add up to at most <paramref name="budget"/> bytes, and never less than the first entry
    /// (or part of it: see <see cref="Page"/>). Stops reading <paramref name="entries"/> at the first entry left out.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<Bytes, SiblingSet>> Of(IEnumerable<KeyValuePair<Bytes, SiblingSet>> entries, long budget) =>
        Page(entries, budget).Entries;

    /// <summary>
    /// A repair fetch's reply, paged by <paramref name="budget"/> bytes. Whole keys, in the order
    /// asked, as long as they fit; the first key always comes, and when its versions alone are
    /// over the budget (a key can hold up to N x max-bytes-per-key) only part of them comes: its
    /// siblings in dot order as long as they fit, at least one, with
    /// <see cref="FetchReply.Truncated"/> naming the dots of all its siblings here, so the exchange
    /// can ask for the rest (<paramref name="except"/>: the dots it already has elsewhere).
    /// A reply is thus at most max(budget, one sibling), whatever the key sizes; merging part of a
    /// key's versions is safe (a merge keeps every sibling no other one supersedes).
    /// </summary>
    /// <param name="except">Siblings with these dots are left out of every key (null: none).</param>
    public static FetchReply Page(IEnumerable<KeyValuePair<Bytes, SiblingSet>> entries, long budget, IReadOnlySet<Dot>? except = null)
    {
        var page = new List<KeyValuePair<Bytes, SiblingSet>>();
        long used = 0;
        foreach (var (key, all) in entries)
        {
            var siblings = except is null || except.Count == 0 ? all : SiblingSet.Of(all.Siblings.Where(s => !except.Contains(s.Dot)));
            var size = SizeOf(key, siblings);
            if (page.Count == 0 && size > budget && siblings.Count > 1)
            {
                // The first key alone is over the budget: as many of its siblings as fit, at least one.
                var part = new List<Sibling>();
                long partSize = KeyOverheadBytes + key.Length;
                foreach (var sibling in siblings.Siblings)
                {
                    var one = SizeOf(sibling);
                    if (part.Count > 0 && partSize + one > budget) break;
                    part.Add(sibling);
                    partSize += one;
                }
                page.Add(KeyValuePair.Create(key, SiblingSet.Of(part)));
                return new FetchReply(page, ValueList.From(all.Siblings.Select(s => s.Dot)));
            }
            if (page.Count > 0 && used + size > budget) break;
            page.Add(KeyValuePair.Create(key, siblings));
            used += size;
        }
        return new FetchReply(page, null);
    }

    private static long SizeOf(Sibling s)
    {
        long size = SiblingOverheadBytes + Encoding.UTF8.GetByteCount(s.Dot.Actor) + (s.Value?.Length ?? 0)
            // A deadline: the field mask and the deadline.
            + (s.HasDeadline ? 2 * VarIntBytes : 0);
        foreach (var (actor, _) in s.Past.Entries) size += PastEntryOverheadBytes + Encoding.UTF8.GetByteCount(actor);
        if (s.Counter is { } c)
        {
            // Counter fields: the mask and flags, each entry's id, its two sums and version, the base (dot, time, value).
            size += 2 * VarIntBytes;
            foreach (var (id, _) in c.Entries.Entries.Concat(c.Floor.Entries)) size += PastEntryOverheadBytes + 2 * VarIntBytes + Encoding.UTF8.GetByteCount(id);
            if (c.Base is { } b) size += PastEntryOverheadBytes + 2 * VarIntBytes + Encoding.UTF8.GetByteCount(b.Dot.Actor);
        }
        if (s.Hash is { } h)
        {
            // Hash fields: the mask and count, each field's name, writer (dot), time and value.
            size += 2 * VarIntBytes;
            foreach (var f in h.Fields) size += PastEntryOverheadBytes + 3 * VarIntBytes + f.Name.Length + f.Value.Length + Encoding.UTF8.GetByteCount(f.Dot.Actor);
        }
        return size;
    }
}

/// <summary>
/// A repair fetch's reply (<see cref="FetchPage.Page"/>): the entries, and when the only entry is
/// part of its key's versions, the dots of all of that key's siblings on the replying replica.
/// </summary>
public sealed record FetchReply(IReadOnlyList<KeyValuePair<Bytes, SiblingSet>> Entries, ValueList<Dot>? Truncated);
