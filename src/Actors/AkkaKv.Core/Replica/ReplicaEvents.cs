using System.Collections.Immutable;
using AkkaKv.Merkle;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

// A replica's persisted events and snapshot: a storage format. Their serializer manifests are
// fixed (I, M, S2, TP, TR; SS still read) and every field is read back in this order.

/// <summary>
/// First event of a replica's journal on one node: the actor id under which it mints versions.
/// A fresh journal (new node, or storage lost) gets a fresh random epoch, so a replica never
/// reuses a counter it may have handed out before (Riak's kv679).
/// </summary>
public sealed record ReplicaIncarnated(string ActorId) : IKvMessage;

/// <summary>The siblings merged into a key's set. Applying it is a merge: order-insensitive.</summary>
public sealed record SiblingsMerged(Bytes Key, SiblingSet Siblings) : IKvMessage;

public sealed record ReplicaSnapshot(string ActorId, long Counter, ImmutableSortedDictionary<Bytes, SiblingSet> Keys, long GcGeneration = 0) : IKvMessage;

/// <summary>
/// Tombstone GC: the listed tombstones were dropped (each only if the key still held exactly that
/// tombstone), and the replica is at GC generation <see cref="GcGeneration"/> (at least). A journal
/// whose generation is behind its peers' may hold values whose tombstones were purged meanwhile:
/// such a replica discards its keys (<see cref="ReplicaReset"/>) and refills from its peers
/// instead of handing those values back.
/// </summary>
public sealed record TombstonesPurged(long GcGeneration, ValueList<MerkleEntry> Entries) : IKvMessage;

/// <summary>
/// The replica found a peer at a later GC generation than its own journal: it drops every key
/// (they may include values whose tombstones were purged while it was away) and catches up from
/// its peers again. Its actor id and counter stay.
/// </summary>
public sealed record ReplicaReset(long GcGeneration) : IKvMessage;
