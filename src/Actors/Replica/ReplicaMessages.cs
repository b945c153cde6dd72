using System.Collections.Immutable;
using AkkaKv.Serialization;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

// The replica-to-coordinator protocol: internal, never seen by clients.

/// <summary>A command for one replica slot; the shard region routes it by <see cref="Slot"/>.</summary>
public sealed record SlotEnvelope(SlotId Slot, IReplicaCommand Command) : IKvMessage;

public interface IReplicaCommand : IKvMessage
{
    long RequestId { get; }
}

/// <summary>
/// Sent to the put's coordinating replica, the only place a version is minted. A null
/// <see cref="Context"/> is a blind write: it supersedes what this replica holds.
/// A null <see cref="Value"/> is a tombstone. <see cref="SentAtMs"/>: the coordinator's wall
/// clock when it sent the put (Unix ms; 0 = unknown); a replica that mints it much later knows the
/// coordinator may have moved on to another replica and replicates the version itself.
/// <see cref="MayDecline"/>: the coordinator has another replica to try, so a replica that cannot
/// mint at once (still catching up) answers <see cref="ReplicaNotReady"/> instead of making it wait.
/// </summary>
public sealed record ReplicaPut(long RequestId, Bytes Key, Bytes? Value, VersionVector? Context, long SentAtMs = 0, bool MayDecline = false) : IReplicaCommand;

/// <summary>The replica is still catching up and declined to coordinate a <see cref="ReplicaPut"/> that <see cref="ReplicaPut.MayDecline"/>: nothing was written.</summary>
public sealed record ReplicaNotReady(long RequestId, SlotId Slot, string Node) : IKvMessage;

/// <summary>Merge these siblings (replication of a put, or read repair) and persist the result.</summary>
public sealed record ReplicaMerge(long RequestId, Bytes Key, SiblingSet Siblings, bool AckWanted) : IReplicaCommand;

public sealed record ReplicaRead(long RequestId, Bytes Key) : IReplicaCommand;

/// <summary>
/// The coordinating replica minted and persisted the version. <see cref="Siblings"/> is the key's
/// whole set after it (what gets replicated). <see cref="Written"/> is a context the writer may
/// pass back to supersede its own write: the set's context when the new version is the only
/// sibling, else empty, because a version vector cannot cover the new version without also
/// covering older concurrent versions of the same replica, which the writer never saw.
/// </summary>
public sealed record ReplicaPutDone(long RequestId, SlotId Slot, string Node, SiblingSet Siblings, VersionVector Written) : IKvMessage;

/// <summary>The coordinating replica refused to mint the version (the key's limits); nothing was written.</summary>
public sealed record ReplicaPutRejected(long RequestId, SlotId Slot, string Node, string Reason) : IKvMessage;

public sealed record ReplicaMergeDone(long RequestId, SlotId Slot, string Node) : IKvMessage;

public sealed record ReplicaReadResult(long RequestId, SlotId Slot, string Node, SiblingSet Siblings) : IKvMessage;

/// <summary>Sharding's hand-off stop message: lets in-flight persists finish before the slot moves.</summary>
public sealed record StopReplica : IKvMessage
{
    public static readonly StopReplica Instance = new();
}

// Persisted events and snapshot.

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
public sealed record TombstonesPurged(long GcGeneration, ValueList<AntiEntropy.MerkleEntry> Entries) : IKvMessage;

/// <summary>
/// The replica found a peer at a later GC generation than its own journal: it drops every key
/// (they may include values whose tombstones were purged while it was away) and catches up from
/// its peers again. Its actor id and counter stay.
/// </summary>
public sealed record ReplicaReset(long GcGeneration) : IKvMessage;

/// <summary>
/// Anti-entropy: the hashes of the children of the Merkle-tree nodes <paramref name="Indexes"/> at
/// <paramref name="Level"/> (0 = the root, whose only index is 0). Answered with <see cref="MerkleNodes"/>.
/// </summary>
public sealed record MerkleNodesRequest(long RequestId, int Level, ValueList<int> Indexes) : IReplicaCommand;

/// <summary>
/// The replica's root hash and, for each requested node in order, its <c>fanout</c> children's
/// hashes (concatenated). <see cref="Depth"/> and <see cref="Fanout"/> name the tree's shape, so a
/// peer with another shape is refused rather than compared.
/// </summary>
/// <see cref="GcGeneration"/>: the replica's tombstone-GC generation; two replicas at different
/// generations are not repaired from each other (the one behind resets).
public sealed record MerkleNodes(long RequestId, SlotId Slot, string Node, ulong Root, int Depth, int Fanout, int Level,
    ValueList<int> Indexes, ValueList<ulong> ChildHashes, long GcGeneration = 0) : IKvMessage;

/// <summary>Anti-entropy: every (key, digest) in the tree's leaves <paramref name="Leaves"/>.</summary>
public sealed record MerkleLeavesRequest(long RequestId, ValueList<int> Leaves) : IReplicaCommand;

/// <summary>The entries of the requested leaves, in key order.</summary>
public sealed record MerkleLeaves(long RequestId, SlotId Slot, ValueList<AntiEntropy.MerkleEntry> Entries) : IKvMessage;

/// <summary>Anti-entropy: the sibling sets this replica holds for <paramref name="Keys"/> (empty when absent).</summary>
public sealed record ReplicaFetch(long RequestId, ValueList<Bytes> Keys) : IReplicaCommand;

/// <summary>The sibling sets for a <see cref="ReplicaFetch"/>, in its key order.</summary>
public sealed record ReplicaFetched(long RequestId, SlotId Slot, ValueList<KeyValuePair<Bytes, SiblingSet>> Entries) : IKvMessage;

/// <summary>
/// Tombstone GC: up to <paramref name="Max"/> of the replica's keys whose every sibling is a
/// tombstone, with their digests. Answered with <see cref="TombstoneList"/>.
/// </summary>
public sealed record ListTombstones(long RequestId, int Max) : IReplicaCommand;

public sealed record TombstoneList(long RequestId, SlotId Slot, long GcGeneration, ValueList<AntiEntropy.MerkleEntry> Entries) : IKvMessage;

/// <summary>
/// Tombstone GC: drop each listed key that still holds exactly the listed tombstone, and move to
/// GC generation <paramref name="GcGeneration"/>. Persisted (<see cref="TombstonesPurged"/>), then
/// answered with <see cref="TombstonesPurgedAck"/>.
/// </summary>
public sealed record PurgeTombstones(long RequestId, long GcGeneration, ValueList<AntiEntropy.MerkleEntry> Entries) : IReplicaCommand;

public sealed record TombstonesPurgedAck(long RequestId, SlotId Slot, int Purged) : IKvMessage;

/// <summary>
/// A replica of the same partition is at GC generation <paramref name="GcGeneration"/>: a replica
/// behind it resets and catches up (<see cref="ReplicaReset"/>); one at or past it ignores this.
/// </summary>
public sealed record GcGenerationSeen(long RequestId, long GcGeneration) : IReplicaCommand;
