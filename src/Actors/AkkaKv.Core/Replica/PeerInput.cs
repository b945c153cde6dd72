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

    /// <summary>
    /// The generation a replica at <paramref name="own"/> may reset to, from the generations its
    /// peers reported, or null: the highest one that a majority of the partition's
    /// <paramref name="replicationFactor"/> replicas hold (this replica, behind, is not one of
    /// them). A purge reaches every replica, so after a real one a majority is ahead; a single peer
    /// whose generation forged purges raised is not a majority.
    /// </summary>
    public static long? ConfirmedGeneration(IEnumerable<long> peerGenerations, long own, int replicationFactor)
    {
        var majority = replicationFactor / 2 + 1;
        var sorted = peerGenerations.OrderDescending().ToList();
        return sorted.Count >= majority && sorted[majority - 1] > own ? sorted[majority - 1] : null;
    }

    /// <summary>
    /// Why a purge at <paramref name="generation"/> must be refused by a replica at
    /// <paramref name="own"/>, or null: a purge moves a partition's generation on by one (the GC
    /// coordinator asks for its first replica's generation plus one), so a larger jump is not one.
    /// </summary>
    public static string? CheckPurgeGeneration(long generation, long own) =>
        generation < 0 || generation > own + 1
            ? $"a purge at tombstone-GC generation {generation} for a replica at {own}: a purge moves the generation on by one"
            : null;

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

    /// <summary>Largest key a merge may carry: far above any key limit a cluster is configured with, so a lowered limit never strands a stored key.</summary>
    public const int MaxMergedKeyBytes = 64 * 1024;

    /// <summary>Largest value a merge may carry: akka.remote's frame; nothing larger arrives in one message anyway.</summary>
    public const int MaxMergedValueBytes = 16 * 1024 * 1024;

    /// <summary>Most versions of one key a merge may carry.</summary>
    public const int MaxMergedSiblings = 4096;

    /// <summary>
    /// Versions to merge into a key (replication, read repair, anti-entropy, hint replay). Held to
    /// fixed bounds, not the configured client limits: the versions were accepted by a replica
    /// under the limits in force then (a limit may be lowered since, or differ during a rolling
    /// change), and refusing them would leave an acknowledged write unreplicated. The bounds stop
    /// what no honest replica holds: malformed versions, and sizes past what a frame can carry.
    /// </summary>
    public static string? CheckVersions(Bytes key, SiblingSet set)
    {
        if (key.Length == 0) return "an empty key";
        if (key.Length > MaxMergedKeyBytes) return $"a key of {key.Length} bytes, over {MaxMergedKeyBytes}";
        if (set.Count > MaxMergedSiblings) return $"{set.Count} versions of one key, over {MaxMergedSiblings}";
        foreach (var s in set.Siblings)
        {
            if (s.Value is { } v && v.Length > MaxMergedValueBytes) return $"a value of {v.Length} bytes, over {MaxMergedValueBytes}";
            if ((CheckDot(s.Dot) ?? CheckVector(s.Past, "a version's past") ?? CheckCounter(s) ?? CheckHash(s)) is { } error) return error;
        }
        return null;
    }

    private static string? CheckCounter(Sibling s)
    {
        if (s.Counter is not { } c) return null;
        if (c.IsIncrement && s.Value is null) return $"version {s.Dot} is an increment without a value";
        if (c.Base is { } b && CheckDot(b.Dot) is { } baseError) return "a counter base: " + baseError;
        foreach (var (what, counter) in new[] { ("counter entries", c.Entries), ("a counter floor", c.Floor) })
        {
            if (counter.Entries.Count > MaxVectorEntries) return $"{what} of {counter.Entries.Count} replica ids, over {MaxVectorEntries}";
            foreach (var (id, _) in counter.Entries)
                if (CheckActor(id) is { } error) return error;
        }
        return null;
    }

    /// <summary>Most fields one hash version may carry: far above <c>limits.max-bytes-per-key</c> allows at a byte a field, so only forged versions reach it.</summary>
    public const int MaxMergedHashFields = 1 << 20;

    private static string? CheckHash(Sibling s)
    {
        if (s.Hash is not { } h) return null;
        if (s.Value is null || s.Value.Length != 0) return $"version {s.Dot} has hash fields and a value";
        if (h.Count == 0) return $"version {s.Dot} is a hash without fields";
        if (h.Count > MaxMergedHashFields) return $"a hash of {h.Count} fields, over {MaxMergedHashFields}";
        if (h.ByteCount > MaxMergedValueBytes) return $"a hash of {h.ByteCount} bytes, over {MaxMergedValueBytes}";
        foreach (var f in h.Fields)
            if (CheckDot(f.Dot) is { } error) return $"hash field of version {s.Dot}: " + error;
        return null;
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
