namespace AkkaKv.Versioning;

/// <summary>
/// One version of a key: its own event <see cref="Dot"/>, the causal past the writer had seen
/// (<see cref="Past"/>, the context the put carried), and the value, or a tombstone when
/// <see cref="Value"/> is null. <see cref="TimestampMs"/> is wall-clock time at the minting
/// replica, for display and the explicit LWW mode only: it never decides causality.
/// </summary>
public sealed record Sibling(Dot Dot, VersionVector Past, Bytes? Value, long TimestampMs)
{
    public bool IsTombstone => Value is null;

    /// <summary>True when <paramref name="other"/>'s causal history contains this sibling's event.</summary>
    public bool IsObsoletedBy(Sibling other) => other.Dot != Dot && other.Past.Covers(Dot);
}
