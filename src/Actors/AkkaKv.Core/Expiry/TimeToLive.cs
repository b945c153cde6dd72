using AkkaKv.Versioning;

namespace AkkaKv.Expiry;

/// <summary>
/// Time to live, Redis's way on a Dynamo store: a write may carry a deadline (absolute Unix ms,
/// fixed by the clock of the node that took the write), which becomes part of the version
/// (<see cref="Sibling.ExpiresAtMs"/>). A value past its deadline reads as not found on every node
/// by that node's own clock, before any clean-up; tombstone GC then purges it like a tombstone.
/// </summary>
public static class TimeToLive
{
    /// <summary>
    /// The deadline of a write with <paramref name="ttlMs"/> taken at <paramref name="nowMs"/> (0: none),
    /// or why the TTL is invalid (negative, or a deadline past what a Unix-ms clock can hold).
    /// </summary>
    public static string? DeadlineOf(long ttlMs, long nowMs, out long expiresAtMs)
    {
        expiresAtMs = 0;
        if (ttlMs < 0) return $"invalid TTL {ttlMs} ms: it must be positive (0: no expiry)";
        if (ttlMs == 0) return null;
        if (ttlMs > long.MaxValue - nowMs) return $"invalid TTL {ttlMs} ms: the deadline would overflow";
        expiresAtMs = nowMs + ttlMs;
        return null;
    }

    /// <summary>
    /// Redis's <c>PTTL</c> of the value a read returned at <paramref name="nowMs"/>: the milliseconds
    /// left, -1 when it has no deadline.
    /// </summary>
    public static long RemainingMs(long expiresAtMs, long nowMs) => expiresAtMs <= 0 ? -1 : Math.Max(0, expiresAtMs - nowMs);

    /// <summary>Redis's <c>TTL</c>: <see cref="RemainingMs"/> in seconds, rounded to the nearest (as Redis does).</summary>
    public static long RemainingSeconds(long expiresAtMs, long nowMs) =>
        expiresAtMs <= 0 ? -1 : (RemainingMs(expiresAtMs, nowMs) + 500) / 1000;
}
