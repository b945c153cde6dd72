using AkkaKv.Configuration;
using AkkaKv.Ring;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>
/// Checks of what a node receives from other nodes before it acts on it: the slot a message is
/// addressed to, and the versions a replica is asked to store (a coordinator's put, a merge from
/// replication, read repair, anti-entropy or hint replay). Each answers why the input is refused,
/// or null. The bounds are those no honest node of the same configuration exceeds, so a refusal
/// means a bug or a forger, never a lost honest write.
/// </summary>
public static class PeerInput
{
    /// <summary>Longest replica id (<c>"{node}/{slot}.{epoch}"</c>; node names are short).</summary>
    public const int MaxActorIdLength = 256;

    /// <summary>
    /// Most entries in one version vector: one per replica incarnation that wrote the key. Far above
    /// what restarts produce, far below what would cost a node memory.
    /// </summary>
    public const int MaxVectorEntries = 4096;

    /// <summary>The slot exists in this cluster's ring: a partition below the partition count, a replica index below N.</summary>
    public static string? CheckSlot(SlotId slot, int partitionCount, int replicationFactor) =>
        slot.Partition < 0 || slot.Partition >= partitionCount
            ? $"slot {slot}: partition {slot.Partition} is outside [0, {partitionCount})"
            : slot.Index < 0 || slot.Index >= replicationFactor
                ? $"slot {slot}: replica index {slot.Index} is outside [0, N={replicationFactor})"
                : null;

    /// <summary>A put sent to a coordinating replica: its key, value and context within the limits clients are held to.</summary>
    public static string? CheckPut(Bytes key, Bytes? value, VersionVector? context, KvSettings settings) =>
        Limits.CheckKey(key, settings)
        ?? (value is null ? null : Limits.CheckValue(value, settings))
        ?? (context is null ? null : CheckVector(context, "the context"));

    /// <summary>
    /// Versions to merge into a key. Each replica refuses a put that would leave more than
    /// max-siblings versions or max-bytes-per-key bytes, but the N replicas of a key can each accept
    /// concurrent puts, so a merge may honestly carry up to N times those.
    /// </summary>
    public static string? CheckVersions(Bytes key, SiblingSet set, KvSettings settings)
    {
        if (Limits.CheckKey(key, settings) is { } keyError) return keyError;
        var n = settings.ReplicationFactor;
        if (set.Count > (long)settings.MaxSiblings * n)
            return $"{set.Count} versions of one key, over N x limits.max-siblings ({n} x {settings.MaxSiblings})";
        long bytes = 0;
        foreach (var s in set.Siblings)
        {
            if (s.Value is { } v)
            {
                if (Limits.CheckValue(v, settings) is { } valueError) return valueError;
                bytes += v.Length;
            }
            if ((CheckDot(s.Dot) ?? CheckVector(s.Past, "a version's past")) is { } error) return error;
        }
        return bytes > (long)settings.MaxBytesPerKey * n
            ? $"{bytes} value bytes in one key, over N x limits.max-bytes-per-key ({n} x {settings.MaxBytesPerKey})"
            : null;
    }

    private static string? CheckDot(Dot dot) =>
        dot.Counter < 1 ? $"version {dot} has counter {dot.Counter}; counters start at 1"
        : CheckActor(dot.Actor);

    private static string? CheckVector(VersionVector vector, string what)
    {
        if (vector.Entries.Count > MaxVectorEntries)
            return $"{what} has {vector.Entries.Count} replica ids, over {MaxVectorEntries}";
        foreach (var (actor, counter) in vector.Entries)
        {
            if (counter < 1) return $"{what} claims counter {counter} of replica {actor}; counters start at 1";
            if (CheckActor(actor) is { } error) return error;
        }
        return null;
    }

    private static string? CheckActor(string actor) =>
        actor.Length == 0 || actor.Length > MaxActorIdLength
            ? $"a replica id of {actor.Length} characters (1 to {MaxActorIdLength} allowed)"
            : null;
}
