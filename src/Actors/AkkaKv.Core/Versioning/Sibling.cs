
namespace AkkaKv.Versioning;

/// <summary>
/// One version of a key: its own event <see cref="Dot"/>, the causal past the writer had seen
/// (<see cref="Past"/>, the context the put carried), and the value, or a tombstone when
/// <see cref="Value"/> is null. <see cref="TimestampMs"/> is wall-clock time at the minting
/// replica, for display and the explicit LWW mode only: it never decides causality.
/// <see cref="ExpiresAtMs"/> is the value's deadline (Unix ms, wall clock of the node that took
/// the write; 0: none): part of the version, like the value, so every replica holds the same
/// deadline, and each compares it with its own clock (<see cref="IsLiveAt"/>). A tombstone has none.
/// <see cref="Counter"/>: the counter fields of a version an increment minted, or of a write that
/// reset counter versions (null for every other version; see <see cref="CounterPart"/>).
/// <see cref="Hash"/>: the fields of a hash version (its <see cref="Value"/> is then empty, never
/// null); null for every other version.
/// </summary>
public sealed record Sibling(Dot Dot, VersionVector Past, Bytes? Value, long TimestampMs, long ExpiresAtMs = 0, CounterPart? Counter = null, HashPart? Hash = null)
{
    /// <summary>A hash version (<c>HSET</c> and the other hash commands mint them): its fields are in <see cref="Hash"/>.</summary>
    public bool IsHash => Hash is not null && Value is not null;

    public bool IsTombstone => Value is null;

    /// <summary>A value that reads as present at <paramref name="nowMs"/>: not a tombstone and not past its deadline.</summary>
    public bool IsLiveAt(long nowMs) => Value is not null && (!HasDeadline || nowMs < ExpiresAtMs);

    /// <summary>A value with a deadline (a positive one; a tombstone never has one, whatever the field says).</summary>
    public bool HasDeadline => Value is not null && ExpiresAtMs > 0;

    /// <summary>Minted by an increment: its value is a number a read works out with the key's other versions (<see cref="Counters.CounterRules"/>).</summary>
    public bool IsIncrement => Counter is { IsIncrement: true };

    /// <summary>True when <paramref name="other"/>'s causal history contains this sibling's event.</summary>
    public bool IsObsoletedBy(Sibling other) => other.Dot != Dot && other.Past.Covers(Dot);
}
