using System.Text;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>
/// What a replica puts in its answer to a repair fetch (the <c>ReplicaFetch</c> of a Merkle
/// exchange, in catch-up and anti-entropy alike): the requested keys in request order, as many
/// as fit in <c>limits.max-repair-reply-bytes</c>, and always the first one, so every exchange
/// moves at least one key. A reply is thus at most max(budget, one key's entry), whatever the
/// value sizes and however many keys differ, and no reply depends on akka.remote's frame limit:
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
        foreach (var s in siblings.Siblings)
        {
            size += SiblingOverheadBytes + Encoding.UTF8.GetByteCount(s.Dot.Actor) + (s.Value?.Length ?? 0);
            foreach (var (actor, _) in s.Past.Entries) size += PastEntryOverheadBytes + Encoding.UTF8.GetByteCount(actor);
        }
        return size;
    }

    /// <summary>
    /// The reply's entries: the longest prefix of <paramref name="entries"/> (in their order) whose
    /// sizes add up to at most <paramref name="budget"/> bytes, and never less than the first entry,
    /// however large. Stops reading <paramref name="entries"/> at the first entry left out.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<Bytes, SiblingSet>> Of(IEnumerable<KeyValuePair<Bytes, SiblingSet>> entries, long budget)
    {
        var page = new List<KeyValuePair<Bytes, SiblingSet>>();
        long used = 0;
        foreach (var entry in entries)
        {
            var size = SizeOf(entry.Key, entry.Value);
            if (page.Count > 0 && used + size > budget) break;
            page.Add(entry);
            used += size;
        }
        return page;
    }
}
