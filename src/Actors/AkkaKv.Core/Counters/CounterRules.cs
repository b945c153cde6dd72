using System.Globalization;
using System.Text;
using AkkaKv.Versioning;

namespace AkkaKv.Counters;

/// <summary>What a read of a key returns for one value: its bytes and deadline (Unix ms; 0: none).</summary>
public readonly record struct ReadValue(Bytes Value, long ExpiresAtMs);

/// <summary>
/// Counters (<c>INCR</c>, <c>INCRBY</c>, ...) on the key's sibling set: a PN-counter with an
/// observed reset, over a string base, as docs/typed-values.md designs it. Pure; the replica
/// mints with <see cref="Increment"/>, every read resolves with <see cref="Read"/>.
/// <list type="bullet">
/// <item><b>The number</b> of a key whose live versions include an increment is
/// <c>base + (entries above the floor)</c>: the base is the newest string any live version counts
/// from (a string a live version saw and replaced no longer counts; ties as <c>GET</c>: newest
/// minting time, then dot), the entries are the pointwise maximum over every version of the key,
/// the floor the pointwise maximum of their floors.</item>
/// <item><b>Concurrent increments</b> (on different replicas, or on both sides of a partition) are
/// sibling versions whose entries merge by maximum: each counts once.</item>
/// <item><b>Resets</b>: a <c>SET</c> or <c>DEL</c> carries the entries of the versions it replaces as its
/// floor; a key all of whose versions expired or were deleted starts the next increment from 0.
/// Increments concurrent with a reset are above its floor and still count: a concurrent
/// <c>SET k 5</c> and <c>INCR k</c> merge to 6 (observed reset; add wins).</item>
/// </list>
/// </summary>
public static class CounterRules
{
    /// <summary>Redis's reply to an increment of a string that is not a 64-bit integer.</summary>
    public const string NotAnInteger = "value is not an integer or out of range";

    /// <summary>Redis's reply to an increment whose result passes 64 bits.</summary>
    public const string Overflow = "increment or decrement would overflow";

    /// <summary>Redis's reply to a command on a key holding another type (a string command on a hash, a hash command on a string), after its <c>WRONGTYPE</c> prefix.</summary>
    public const string WrongType = "Operation against a key holding the wrong kind of value";

    /// <summary>The live versions a string read works with, oldest first: hash versions are another type (<c>Hashes.HashRules</c>: a key whose newest version is a hash is read as one).</summary>
    private static List<Sibling> LiveStrings(SiblingSet set, long nowMs) => set.LiveOldestFirst(nowMs).Where(s => !s.IsHash).ToList();

    /// <summary>
    /// The values a read at <paramref name="nowMs"/> returns: the live ones, oldest first (as
    /// <see cref="SiblingSet.LiveOldestFirst"/>), or, when one of them is an increment, one value:
    /// the number (with the deadline of the newest live version). A non-integer string base that
    /// wins over increments is returned as it is.
    /// </summary>
    public static IReadOnlyList<ReadValue> Read(SiblingSet set, long nowMs)
    {
        var live = LiveStrings(set, nowMs);
        if (!live.Exists(s => s.IsIncrement))
            return live.ConvertAll(s => new ReadValue(s.Value!, s.HasDeadline ? s.ExpiresAtMs : 0));
        var deadline = live[^1].HasDeadline ? live[^1].ExpiresAtMs : 0;
        var picked = PickBase(live);
        if (picked is { } p && !TryParse(p.Value, out _)) return [new ReadValue(p.Value, deadline)];
        var number = (picked is { } b && TryParse(b.Value, out var v) ? v : 0) + EntriesOf(set).Above(FloorOf(set));
        return [new ReadValue(Ascii(number), deadline)];
    }

    /// <summary>
    /// The version an increment of <paramref name="delta"/> mints as <paramref name="dot"/> at the
    /// replica holding <paramref name="set"/>: it supersedes every version held (its past is the
    /// set's context), counts from what a read at <paramref name="nowMs"/> returns, keeps the
    /// deadline of the newest live version (Redis's <c>INCR</c> keeps the TTL), and raises the
    /// minting replica's entry from at least <paramref name="ownHighest"/> (the highest entry of
    /// its own it has minted for the key: a reset that reached it without that entry never lowers
    /// it, and the increments missing from what it holds stay cancelled by a floor raised as much). Null with the reason (<see cref="NotAnInteger"/>, <see cref="Overflow"/>, <see cref="WrongType"/> for a hash) when
    /// nothing may be written.
    /// </summary>
    /// <param name="setDeadline">Null: keep the key's deadline; otherwise the new version's (0: none):
    /// <c>EXPIRE</c> and <c>PERSIST</c> of a counter are an increment of 0 that sets it.</param>
    public static string? Increment(SiblingSet set, long nowMs, Dot dot, long delta, CounterEntry ownHighest, out Sibling? version, out long number, long? setDeadline = null)
    {
        version = null;
        number = 0;
        if (set.LiveOldestFirst(nowMs).LastOrDefault() is { IsHash: true }) return WrongType;
        var live = LiveStrings(set, nowMs);
        var entries = EntriesOf(set);
        var floor = FloorOf(set);
        CounterBase? counterBase = null;
        long baseValue = 0, deadline = 0;
        if (!live.Exists(s => s.IsIncrement))
        {
            // No live increment: a read answers the plain value (or nothing), so the entries of
            // versions that expired or were superseded count for nothing; the count starts there.
            floor = floor.Merge(entries);
        }
        if (live.Count > 0)
        {
            if (PickBase(live) is { } p)
            {
                if (!TryParse(p.Value, out baseValue)) return NotAnInteger;
                counterBase = new CounterBase(p.Dot, p.TimestampMs, baseValue);
            }
            deadline = live[^1].HasDeadline ? live[^1].ExpiresAtMs : 0;
        }
        var after = baseValue + entries.Above(floor) + delta;
        if (after < long.MinValue || after > long.MaxValue) return Overflow;
        // Increments of this replica that no version it holds carries any more (a reset minted by a
        // replica that lacked them superseded them, or tombstone GC purged the key): its entry goes
        // on from its highest, so a concurrent version still holding the old entry cannot hide the
        // new increment, and the floor rises by the same gap, so those increments stay cancelled
        // (the reset's context covered them) and the number is what it was plus the delta.
        var held = entries[dot.Actor];
        var gap = new CounterEntry(Math.Max(0, ownHighest.Up - held.Up), Math.Max(0, ownHighest.Down - held.Down));
        PnCounter next;
        try
        {
            floor = floor.Raise(dot.Actor, gap);
            next = entries.Add(dot.Actor, ownHighest, delta, dot.Counter);
        }
        catch (OverflowException) { return Overflow; }
        number = (long)after;
        if (setDeadline is { } d) deadline = d;
        version = new Sibling(dot, set.Context, Ascii(number), nowMs, deadline, new CounterPart(next, floor, counterBase, IsIncrement: true));
        return null;
    }

    /// <summary>
    /// The counter fields of a plain write (a value or a tombstone) minted with
    /// <paramref name="past"/> at the replica holding <paramref name="held"/>: the entries of the
    /// versions it supersedes, as its entries and its floor, or null when none of them has any.
    /// </summary>
    public static CounterPart? ResetBy(SiblingSet held, VersionVector past)
    {
        PnCounter entries = PnCounter.Empty, floor = PnCounter.Empty;
        var any = false;
        foreach (var s in held.Siblings)
        {
            if (s.Counter is not { } c || !past.Covers(s.Dot)) continue;
            any = true;
            entries = entries.Merge(c.Entries);
            floor = floor.Merge(c.Floor);
        }
        return any ? new CounterPart(entries, floor.Merge(entries), null, IsIncrement: false) : null;
    }

    /// <summary>The highest entry of replica <paramref name="id"/> in <paramref name="set"/>.</summary>
    public static CounterEntry EntryOf(SiblingSet set, string id)
    {
        var e = default(CounterEntry);
        foreach (var s in set.Siblings)
            if (s.Counter is { } c) e = e.Max(c.Entries[id]);
        return e;
    }

    /// <summary>
    /// Redis's integer rule for a string (its <c>string2ll</c>): an optional minus, then digits with
    /// no leading zero ("0" itself excepted), within 64 bits. No spaces, no plus sign, no "-0".
    /// </summary>
    public static bool TryParse(Bytes value, out long number)
    {
        number = 0;
        var span = value.Span;
        if (span.Length is 0 or > 20) return false;
        if (span.Length == 1 && span[0] == (byte)'0') return true;
        var digits = span[0] == (byte)'-' ? span[1..] : span;
        if (digits.Length == 0 || digits[0] is < (byte)'1' or > (byte)'9') return false;
        foreach (var b in digits) if (b is < (byte)'0' or > (byte)'9') return false;
        return long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }

    private static Bytes Ascii(Int128 number) => Bytes.Wrap(Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)));

    private static PnCounter EntriesOf(SiblingSet set)
    {
        var e = PnCounter.Empty;
        foreach (var s in set.Siblings) if (s.Counter is { } c) e = e.Merge(c.Entries);
        return e;
    }

    /// <summary>
    /// The floor of a set: the floors its versions carry, and every entry that a version of the set
    /// saw without carrying it. A version whose past covers the version that set an entry (the
    /// entry's replica and <see cref="CounterEntry.Version"/>) while its own entry for that replica
    /// is older was written over a reset that superseded the entry without it (a DEL, or an EXPIRE
    /// write-back, minted by a replica that had not received it): the reset's context covered those
    /// increments, so they are cancelled, whichever concurrent version still carries them.
    /// </summary>
    private static PnCounter FloorOf(SiblingSet set)
    {
        var f = PnCounter.Empty;
        foreach (var s in set.Siblings) if (s.Counter is { } c) f = f.Merge(c.Floor);
        foreach (var carrier in set.Siblings)
        {
            if (carrier.Counter is not { } carried) continue;
            foreach (var (id, entry) in carried.Entries.Entries)
            {
                if (entry.Version <= 0) continue;
                var setBy = new Dot(id, entry.Version);
                foreach (var v in set.Siblings)
                    if (v.Past.Covers(setBy) && (v.Counter?.Entries[id].Version ?? 0) < entry.Version)
                    {
                        f = f.Merge(PnCounter.Of([KeyValuePair.Create(id, entry)]));
                        break;
                    }
            }
        }
        return f;
    }

    private readonly record struct BaseCandidate(Dot Dot, long TimestampMs, Bytes Value);

    /// <summary>The string a version counts from: its own value, or for an increment the base it carries (null: 0).</summary>
    private static BaseCandidate? BaseOf(Sibling s) => s.Counter is { IsIncrement: true } c
        ? c.Base is { } b ? new BaseCandidate(b.Dot, b.TimestampMs, Ascii(b.Value)) : null
        : new BaseCandidate(s.Dot, s.TimestampMs, s.Value!);

    /// <summary>
    /// The base among <paramref name="live"/> versions: a candidate is dropped when a live version
    /// saw its write (its past covers the candidate's dot) and counts from something else; of the
    /// rest, the newest by minting time, then dot (the <c>GET</c> rule). Null: count from 0.
    /// </summary>
    private static BaseCandidate? PickBase(List<Sibling> live)
    {
        BaseCandidate? best = null;
        foreach (var s in live)
        {
            if (BaseOf(s) is not { } c) continue;
            if (live.Exists(t => t.Past.Covers(c.Dot) && BaseOf(t)?.Dot != c.Dot)) continue;
            if (best is not { } b || c.TimestampMs > b.TimestampMs
                || (c.TimestampMs == b.TimestampMs && CompareDots(c.Dot, b.Dot) > 0)) best = c;
        }
        return best;
    }

    private static int CompareDots(Dot a, Dot b)
    {
        var c = string.CompareOrdinal(a.Actor, b.Actor);
        return c != 0 ? c : a.Counter.CompareTo(b.Counter);
    }
}
