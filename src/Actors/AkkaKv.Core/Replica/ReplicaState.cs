using System.Collections.Immutable;
using AkkaKv.Counters;
using AkkaKv.Merkle;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>
/// The durable state of one replica slot, as recovered from its journal: the key → sibling set
/// map, the actor id it mints under (its incarnation), the highest counter of that id it has
/// persisted or seen, and the highest tombstone-GC generation it has applied
/// (<see cref="GcGeneration"/>). Pure: the actor only routes events through <see cref="Apply"/>.
/// </summary>
/// <remarks>
/// A journal never mints under an id whose counter it cannot prove current: every recovery starts
/// a new incarnation (<see cref="NextIncarnation"/>), and so does an id whose counter is exhausted
/// (<see cref="NextCounter"/>). A journal recovered from an old copy of the data dir (a restored
/// backup, a VM rolled back) holds its id with an older counter than the versions it minted after
/// the copy, which its peers still hold; minting those counters again would make the peers drop
/// the new writes as versions they have seen (Riak's kv679). Old ids stay in the version vectors
/// they are in; they are never minted under again.
/// </remarks>
public sealed record ReplicaState(string? ActorId, long Counter, ImmutableSortedDictionary<Bytes, SiblingSet> Keys, long GcGeneration = 0)
{
    public static readonly ReplicaState Empty = new(null, 0, ImmutableSortedDictionary<Bytes, SiblingSet>.Empty);

    public SiblingSet Get(Bytes key) => Keys.GetValueOrDefault(key) ?? SiblingSet.Empty;

    /// <summary>
    /// Per key, the highest counter entry of this incarnation (<see cref="ActorId"/>) in any version
    /// merged here: an increment raises the entry from at least this, so a reset minted elsewhere
    /// without it (by a replica that had not received it) never makes this replica count it again.
    /// In memory only: every recovery starts a new incarnation, whose entries start empty.
    /// </summary>
    public ImmutableDictionary<Bytes, CounterEntry> OwnCounters { get; init; } = ImmutableDictionary<Bytes, CounterEntry>.Empty;

    public ReplicaState Apply(object evt) => evt switch
    {
        // A new id has minted nothing: its counter starts at zero.
        ReplicaIncarnated e => this with { ActorId = Codec.StringPool.Intern(e.ActorId), Counter = 0, OwnCounters = OwnCounters.Clear() },
        SiblingsMerged e => ApplyMerge(e),
        TombstonesPurged e => ApplyPurge(e),
        ReplicaReset e => this with { Keys = Keys.Clear(), OwnCounters = OwnCounters.Clear(), GcGeneration = Math.Max(GcGeneration, e.GcGeneration) },
        _ => throw new ArgumentException($"unknown replica event {evt.GetType().Name}", nameof(evt)),
    };

    private ReplicaState ApplyMerge(SiblingsMerged e)
    {
        var merged = Get(e.Key).Merge(e.Siblings);
        var counter = ActorId is null ? Counter : Math.Max(Counter, e.Siblings.MaxCounterOf(ActorId));
        var own = OwnCounters;
        if (ActorId is not null && CounterRules.EntryOf(e.Siblings, ActorId) is { IsZero: false } entry)
            own = own.SetItem(e.Key, own.GetValueOrDefault(e.Key).Max(entry));
        return this with { Counter = counter, Keys = Keys.SetItem(e.Key, merged), OwnCounters = own };
    }

    /// <summary>
    /// Drops each listed key whose sibling set is still exactly the listed one (same digest): a key
    /// written since it was listed keeps what it has. The replica persisted only entries that were
    /// dead at its clock then (<see cref="IsPurgeable"/>), so replay decides by the digest alone and
    /// gets the same state at any later time.
    /// </summary>
    private ReplicaState ApplyPurge(TombstonesPurged e)
    {
        var keys = Keys;
        foreach (var entry in e.Entries)
            if (IsPurgeable(entry, long.MaxValue)) keys = keys.Remove(entry.Key);
        // OwnCounters keeps purged keys: a tombstone purged here may still come back from a replica
        // whose purge did not apply, and the next increment must go on above its entries.
        return this with { Keys = keys, GcGeneration = Math.Max(GcGeneration, e.GcGeneration) };
    }

    /// <summary>
    /// The key holds exactly the set <paramref name="entry"/> names, and nothing of it reads as
    /// present at <paramref name="nowMs"/>: every sibling a tombstone, an expired value or a hollow hash (<see cref="SiblingSet.IsDeletedAt"/>).
    /// </summary>
    public bool IsPurgeable(MerkleEntry entry, long nowMs) =>
        Keys.TryGetValue(entry.Key, out var set) && !set.IsEmpty && set.IsDeletedAt(nowMs) && EntryDigest.Of(entry.Key, set) == entry.Digest;

    /// <summary>
    /// Up to <paramref name="max"/> keys of which nothing reads as present at <paramref name="nowMs"/>
    /// (every sibling a tombstone, an expired value or a hollow hash), with their digests, in key order: the
    /// candidates for tombstone GC.
    /// </summary>
    public IReadOnlyList<MerkleEntry> Tombstones(int max, long nowMs) =>
        Keys.Where(kv => !kv.Value.IsEmpty && kv.Value.IsDeletedAt(nowMs)).Take(max)
            .Select(kv => new MerkleEntry(kv.Key, EntryDigest.Of(kv.Key, kv.Value))).ToList();

    public ReplicaSnapshot ToSnapshot() => new(ActorId ?? "", Counter, Keys, GcGeneration);

    public static ReplicaState FromSnapshot(ReplicaSnapshot s) =>
        new(s.ActorId.Length == 0 ? null : s.ActorId, s.Counter, s.Keys, s.GcGeneration);

    /// <summary>
    /// The event for a put minted here as <paramref name="dot"/>: a blind put (null context)
    /// supersedes every version this replica holds for the key. <paramref name="expiresAtMs"/>: the
    /// value's deadline (0: none; a tombstone has none). <paramref name="held"/>: what the replica
    /// holds for the key, writes it has minted but not yet persisted included (default: its state).
    /// A put that supersedes counter versions carries their entries as its floor (<see cref="CounterRules.ResetBy"/>).
    /// </summary>
    public SiblingsMerged PutEvent(Bytes key, Dot dot, Bytes? value, VersionVector? context, long timestampMs, long expiresAtMs = 0, SiblingSet? held = null)
    {
        held ??= Get(key);
        var past = context ?? held.Context;
        return new SiblingsMerged(key, SiblingSet.Of([new Sibling(dot, past, value, timestampMs, value is null ? 0 : expiresAtMs, CounterRules.ResetBy(held, past))]));
    }

    /// <summary>
    /// The event for an increment of <paramref name="delta"/> minted here as <paramref name="dot"/>
    /// (<see cref="CounterRules.Increment"/>) over <paramref name="held"/> (the state's versions and
    /// those minted but not yet persisted), and the number it makes; or why nothing may be written.
    /// </summary>
    public string? IncrementEvent(Bytes key, SiblingSet held, Dot dot, long delta, long nowMs, out SiblingsMerged? evt, out long number, long? setDeadline = null)
    {
        evt = null;
        if (CounterRules.Increment(held, nowMs, dot, delta, OwnCounters.GetValueOrDefault(key), out var version, out number, setDeadline) is { } error) return error;
        evt = new SiblingsMerged(key, SiblingSet.Of([version!]));
        return null;
    }

    /// <summary>
    /// The event for hash operations minted here as <paramref name="dot"/> over
    /// <paramref name="held"/> (all or nothing: <see cref="Transactions.KeyRules.Apply"/>), null
    /// when they change nothing, and each operation's result; or why nothing may be written (a key
    /// holding a string: <see cref="CounterRules.WrongType"/>, whatever the operations).
    /// </summary>
    public static string? HashEvent(Bytes key, SiblingSet held, Dot dot, IReadOnlyList<Hashes.HashOp> ops, long nowMs, out SiblingsMerged? evt, out long[] results)
    {
        evt = null;
        results = new long[ops.Count];
        if (Hashes.HashRules.Newest(held, nowMs) is { IsHash: false }) return CounterRules.WrongType;
        if (Transactions.KeyRules.Apply(held, nowMs, dot, default, ops.Select(Transactions.KeyOp.Of).ToList(), stopAtError: true, out var version, out var made) is { } error)
            return error;
        results = made.Select(r => r.Number).ToArray();
        if (version is not null) evt = new SiblingsMerged(key, SiblingSet.Of([version]));
        return null;
    }

    /// <summary>
    /// The event for a transaction's operations minted here as <paramref name="dot"/> over
    /// <paramref name="held"/> (<see cref="Transactions.KeyRules.Apply"/> as Redis's <c>EXEC</c>: an
    /// operation refused for the key's state carries its reason and the others apply), null when
    /// they change nothing, and each operation's result.
    /// </summary>
    public SiblingsMerged? TransactionEvent(Bytes key, SiblingSet held, Dot dot, IReadOnlyList<Transactions.KeyOp> ops, long nowMs, out Transactions.KeyOpResult[] results)
    {
        Transactions.KeyRules.Apply(held, nowMs, dot, OwnCounters.GetValueOrDefault(key), ops, stopAtError: false, out var version, out results);
        return version is null ? null : new SiblingsMerged(key, SiblingSet.Of([version]));
    }

    /// <summary>
    /// Why a put with <paramref name="context"/> must be refused before anything is minted, or null:
    /// the context claims a version of this replica past every one it has minted
    /// (<paramref name="minted"/>). No context this replica's own journal handed out can; one that
    /// does was made up, or this journal is older than the context (a data dir restored from an old
    /// copy). Taking it would make the write supersede versions this replica mints later.
    /// </summary>
    public string? CheckContextClaims(VersionVector? context, long minted)
    {
        if (context is null || ActorId is null) return null;
        var claimed = context[ActorId];
        return claimed <= Math.Max(minted, Counter) ? null
            : $"the causal context claims version {claimed} of replica {ActorId}, which has minted only up to {Math.Max(minted, Counter)}: the context was not issued by this replica's journal; read the key again and pass back that context";
    }

    /// <summary>
    /// Why a put of <paramref name="evt"/> must be refused, or null: the key would hold more than
    /// <paramref name="maxSiblings"/> versions or more than <paramref name="maxBytes"/> value bytes (a hash: its field names and values)
    /// (<paramref name="held"/>: what the replica holds with its unpersisted versions; default its state).
    /// </summary>
    public string? CheckPutLimits(SiblingsMerged evt, int maxSiblings, int maxBytes, SiblingSet? held = null)
    {
        var after = (held ?? Get(evt.Key)).Merge(evt.Siblings);
        if (after.Count > maxSiblings)
            return $"the key would hold {after.Count} concurrent versions, over the limit of {maxSiblings} (akka-kv.limits.max-siblings): read it and write back with its context to resolve them";
        var bytes = after.Siblings.Sum(s => (long)(s.Value?.Length ?? 0) + (s.Hash?.ByteCount ?? 0));
        return bytes > maxBytes
            ? $"the key's versions would hold {bytes} bytes, over the limit of {maxBytes} (akka-kv.limits.max-bytes-per-key): read it and write back with its context to resolve them"
            : null;
    }

    /// <summary>
    /// The counter of the next version minted here: one past the highest this id has minted
    /// (<paramref name="minted"/>, those handed out since recovery included) or seen
    /// (<see cref="Counter"/>). Null when the id's counters are exhausted (only a version forged with
    /// a counter near 2^63 gets there): the replica must start a new incarnation before it mints.
    /// </summary>
    public long? NextCounter(long minted)
    {
        var top = Math.Max(minted, Counter);
        return top == long.MaxValue ? null : checked(top + 1);
    }

    /// <summary>
    /// The event that starts a new incarnation: a fresh id, never the current one. Persisted at
    /// every recovery, because a journal cannot prove from its own contents that it is the newest
    /// copy of itself, and when the counter is exhausted.
    /// </summary>
    public ReplicaIncarnated NextIncarnation(string node, int slotIndex, Random random)
    {
        string id;
        do id = NewActorId(node, slotIndex, random); while (id == ActorId);
        return new ReplicaIncarnated(id);
    }

    /// <summary>An actor id for a new incarnation: <c>"{node}/{slot}.{epoch}"</c>, the epoch 48 random bits.</summary>
    public static string NewActorId(string node, int slotIndex, Random random) =>
        $"{node}/{slotIndex}.{random.NextInt64(1L << 48):x12}";
}
