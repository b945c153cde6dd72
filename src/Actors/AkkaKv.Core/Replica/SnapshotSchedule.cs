using AkkaKv.Ring;

namespace AkkaKv.Replica;

/// <summary>
/// When a replica slot saves its snapshots: every <c>snapshot-every</c> events, with the first one
/// of a slot's journal brought forward by a per-slot stagger.
/// </summary>
/// <remarks>
/// Without the stagger, a uniform load keeps a node's slots in step: each has taken about the same
/// number of events, so they all cross the threshold within the same few seconds, and every one of
/// them rewrites its whole state and deletes the journal rows it covers at once (measured after a
/// million-key fill: a third of a node's slots snapshotting within 30 s, p99 at 0.64 s). With each
/// slot starting its count at a different point of the interval, the same work is spread evenly
/// over time. The stagger only moves the first snapshot; the phase it sets carries over restarts,
/// since a recovered slot counts the events it replays after its snapshot.
/// </remarks>
public static class SnapshotSchedule
{
    /// <summary>
    /// The event count a slot with no snapshot starts from, in [0, <paramref name="every"/>): its
    /// first snapshot comes after <c>every - InitialCount</c> events. A pure function of the slot,
    /// so the same slot has the same stagger on every node and across restarts.
    /// </summary>
    public static int InitialCount(SlotId slot, int every)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        // SplitMix64's finalizer over (partition, index): neighbouring slots land far apart.
        var x = ((ulong)(uint)slot.Partition << 32) | (uint)slot.Index;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (int)(x % (ulong)every);
    }

    /// <summary>Whether a slot that has counted <paramref name="eventsSinceSnapshot"/> events (its stagger included) is due a snapshot.</summary>
    public static bool Due(int eventsSinceSnapshot, int every) => eventsSinceSnapshot >= every;
}
