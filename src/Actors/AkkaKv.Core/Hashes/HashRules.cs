using System.Globalization;
using System.Text;
using AkkaKv.Counters;
using AkkaKv.Versioning;

namespace AkkaKv.Hashes;

/// <summary>
/// Hashes (<c>HSET</c>, <c>HGET</c>, ...) on the key's sibling set: a field-wise map whose fields
/// each remember the write that set them (docs/typed-values.md, "Hashes"). Pure; the coordinating
/// replica mints with <c>Transactions.KeyRules.Apply</c>, every read resolves with <see cref="Read"/>.
/// <list type="bullet">
/// <item><b>Type</b>: a key is a hash when its newest live version (the <c>GET</c> rule: minting
/// time, then dot) is a hash version; a string when it is any other value. A hash version all of
/// whose fields other versions replaced (concurrent <c>HDEL</c>s) is hollow and reads as deleted
/// (<see cref="SiblingSet.IsHollow"/>).</item>
/// <item><b>Fields of concurrent hash versions</b>: for each field, the entries of every live hash
/// version, less an entry that another version of the key saw (its past covers the entry's write)
/// while holding another entry for the field or none (it overwrote or removed it). So concurrent
/// writes of different fields both survive; concurrent writes of one field are the field's
/// siblings, of which a read picks the newest by the <c>GET</c> rule; a field removed concurrently
/// with a write of it keeps the write (add wins).</item>
/// <item><b>A write</b> supersedes every version the coordinating replica holds for the key (a blind
/// write, like <c>SET</c>): the new version holds each field as that replica reads it, so field
/// siblings resolve at the next write, to the value a read showed.</item>
/// </list>
/// </summary>
public static class HashRules
{
    /// <summary>Redis's reply to <c>HINCRBY</c> of a field that does not hold a 64-bit integer.</summary>
    public const string NotAnInteger = "hash value is not an integer";

    /// <summary>The newest live version of the key (the one a <c>GET</c> returns), or null when the key reads as not found.</summary>
    public static Sibling? Newest(SiblingSet set, long nowMs) => set.LiveOldestFirst(nowMs).LastOrDefault();

    /// <summary>
    /// The hash a read at <paramref name="nowMs"/> returns, each field's picked entry ordered by
    /// name, and its deadline (0: none); null when the key is not a hash (absent, or a string).
    /// </summary>
    public static (IReadOnlyList<HashField> Fields, long ExpiresAtMs)? Read(SiblingSet set, long nowMs)
    {
        if (Newest(set, nowMs) is not { IsHash: true } newest) return null;
        return (Pick(set, nowMs).Values.ToList(), newest.HasDeadline ? newest.ExpiresAtMs : 0);
    }

    /// <summary>Every field of the live hash versions, less those a version saw and replaced, with the newest entry of each (see the class notes).</summary>
    private static SortedDictionary<Bytes, HashField> Pick(SiblingSet set, long nowMs)
    {
        var picked = new SortedDictionary<Bytes, HashField>();
        foreach (var version in set.Siblings)
        {
            if (!version.IsHash || !version.IsLiveAt(nowMs)) continue;
            foreach (var field in version.Hash!.Fields)
            {
                if (set.IsReplaced(field)) continue;
                if (!picked.TryGetValue(field.Name, out var best) || Newer(field, best)) picked[field.Name] = field;
            }
        }
        return picked;
    }

    private static bool Newer(HashField a, HashField b)
    {
        if (a.TimestampMs != b.TimestampMs) return a.TimestampMs > b.TimestampMs;
        var c = string.CompareOrdinal(a.Dot.Actor, b.Dot.Actor);
        return c != 0 ? c > 0 : a.Dot.Counter > b.Dot.Counter;
    }
}
