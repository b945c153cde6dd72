using System.Collections.Immutable;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Merkle;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

// The replica-to-coordinator protocol: internal, never seen by clients.

/// <summary>A command for one replica slot; the shard region routes it by <see cref="Slot"/>.</summary>
internal sealed record SlotEnvelope(SlotId Slot, IReplicaCommand Command) : IKvMessage;

internal interface IReplicaCommand : IKvMessage
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
/// <remarks>
/// <see cref="ExpiresAtMs"/>: the value's deadline (Unix ms at the node that took the write; 0: none).
/// <see cref="IncrementBy"/>: an increment (<c>INCRBY</c>) instead of a value: the replica mints the
/// counter version from what it holds (<see cref="Counters.CounterRules.Increment"/>); Value and
/// Context are then null and ignored; <see cref="SetsDeadline"/>: the increment sets the key's
/// deadline to <see cref="ExpiresAtMs"/> (0: none) instead of keeping it (EXPIRE, PERSIST of a counter).
/// <see cref="HashOps"/>: hash operations instead of a value, all or nothing
/// (<see cref="Replica.ReplicaState.HashEvent"/>; an Expire's number is the deadline the gateway
/// fixed); Value and Context are then null and ignored.
/// <see cref="Transaction"/>: the operations of a transaction (<c>MULTI</c>/<c>EXEC</c>) instead of a
/// value, each with its own result (<see cref="Replica.ReplicaState.TransactionEvent"/>; TTLs are
/// deadlines the gateway fixed); Value and Context are then null and ignored.
/// </remarks>
internal sealed record ReplicaPut(long RequestId, Bytes Key, Bytes? Value, VersionVector? Context, long SentAtMs = 0, bool MayDecline = false, long ExpiresAtMs = 0, long? IncrementBy = null, bool SetsDeadline = false, ValueList<Hashes.HashOp>? HashOps = null, ValueList<Transactions.KeyOp>? Transaction = null) : IReplicaCommand;

/// <summary>The replica is still catching up and declined to coordinate a <see cref="ReplicaPut"/> that <see cref="ReplicaPut.MayDecline"/>: nothing was written.</summary>
internal sealed record ReplicaNotReady(long RequestId, SlotId Slot, string Node) : IKvMessage;

/// <summary>Merge these siblings (replication of a put, or read repair) and persist the result.</summary>
internal sealed record ReplicaMerge(long RequestId, Bytes Key, SiblingSet Siblings, bool AckWanted) : IReplicaCommand;

internal sealed record ReplicaRead(long RequestId, Bytes Key) : IReplicaCommand;

/// <summary>
/// The coordinating replica minted and persisted the version. <see cref="Siblings"/> is the key's
/// whole set after it (what gets replicated). <see cref="Written"/> is a context the writer may
/// pass back to supersede its own write: the set's context when the new version is the only
/// sibling, else empty, because a version vector cannot cover the new version without also
/// covering older concurrent versions of the same replica, which the writer never saw.
/// </summary>
/// <see cref="Number"/>: for an increment, the number it made at this replica; null otherwise.
/// <see cref="Results"/>: for hash operations, each one's result; null otherwise.
/// <see cref="Outcomes"/>: for a transaction, each operation's result; null otherwise.
internal sealed record ReplicaPutDone(long RequestId, SlotId Slot, string Node, SiblingSet Siblings, VersionVector Written, long? Number = null, ValueList<long>? Results = null,
    ValueList<Transactions.KeyOpResult>? Outcomes = null) : IKvMessage;

/// <summary>The coordinating replica refused to mint the version (the key's limits); nothing was written.</summary>
internal sealed record ReplicaPutRejected(long RequestId, SlotId Slot, string Node, string Reason) : IKvMessage;

internal sealed record ReplicaMergeDone(long RequestId, SlotId Slot, string Node) : IKvMessage;

internal sealed record ReplicaReadResult(long RequestId, SlotId Slot, string Node, SiblingSet Siblings) : IKvMessage;

/// <summary>Sharding's hand-off stop message: lets in-flight persists finish before the slot moves.</summary>
internal sealed record StopReplica : IKvMessage
{
    public static readonly StopReplica Instance = new();
}

/// <summary>
/// Anti-entropy: the hashes of the children of the Merkle-tree nodes <paramref name="Indexes"/> at
/// <paramref name="Level"/> (0 = the root, whose only index is 0). Answered with <see cref="MerkleNodes"/>.
/// </summary>
internal sealed record MerkleNodesRequest(long RequestId, int Level, ValueList<int> Indexes) : IReplicaCommand;

/// <summary>
/// The replica's root hash and, for each requested node in order, its <c>fanout</c> children's
/// hashes (concatenated). <see cref="Depth"/> and <see cref="Fanout"/> name the tree's shape, so a
/// peer with another shape is refused rather than compared.
/// </summary>
/// <see cref="GcGeneration"/>: the replica's tombstone-GC generation; two replicas at different
/// generations are not repaired from each other (the one behind resets).
internal sealed record MerkleNodes(long RequestId, SlotId Slot, string Node, ulong Root, int Depth, int Fanout, int Level,
    ValueList<int> Indexes, ValueList<ulong> ChildHashes, long GcGeneration = 0) : IKvMessage;

/// <summary>
/// Anti-entropy: the (key, digest) entries in the tree's leaves <paramref name="Leaves"/> whose keys
/// sort after <paramref name="After"/> (all when null), one page of them (<see cref="LeafPage"/>).
/// </summary>
internal sealed record MerkleLeavesRequest(long RequestId, ValueList<int> Leaves, Bytes? After = null) : IReplicaCommand;

/// <summary>A page of the entries of the requested leaves, in key order; <paramref name="More"/>: entries are left after it.</summary>
internal sealed record MerkleLeaves(long RequestId, SlotId Slot, ValueList<MerkleEntry> Entries, bool More = false) : IKvMessage;

/// <summary>
/// Anti-entropy: the sibling sets this replica holds for <paramref name="Keys"/> (empty when
/// absent), paged by bytes (<see cref="FetchPage.Page"/>), without the siblings whose dots are in
/// <paramref name="Except"/> (the exchange has those from the other side already).
/// </summary>
internal sealed record ReplicaFetch(long RequestId, ValueList<Bytes> Keys, ValueList<Dot>? Except = null) : IReplicaCommand;

/// <summary>
/// The sibling sets for a <see cref="ReplicaFetch"/>, in its key order. <paramref name="Truncated"/>,
/// when set: the only entry is part of its key's versions, and these are the dots of all of them here.
/// </summary>
internal sealed record ReplicaFetched(long RequestId, SlotId Slot, ValueList<KeyValuePair<Bytes, SiblingSet>> Entries, ValueList<Dot>? Truncated = null) : IKvMessage;

/// <summary>
/// Tombstone GC: up to <paramref name="Max"/> of the replica's keys whose every sibling is a
/// tombstone, with their digests. Answered with <see cref="TombstoneList"/>.
/// </summary>
internal sealed record ListTombstones(long RequestId, int Max) : IReplicaCommand;

internal sealed record TombstoneList(long RequestId, SlotId Slot, long GcGeneration, ValueList<MerkleEntry> Entries) : IKvMessage;

/// <summary>
/// Tombstone GC: drop each listed key that still holds exactly the listed tombstone, and move to
/// GC generation <paramref name="GcGeneration"/>. Persisted (<see cref="TombstonesPurged"/>), then
/// answered with <see cref="TombstonesPurgedAck"/>.
/// </summary>
internal sealed record PurgeTombstones(long RequestId, long GcGeneration, ValueList<MerkleEntry> Entries) : IReplicaCommand;

internal sealed record TombstonesPurgedAck(long RequestId, SlotId Slot, int Purged) : IKvMessage;

/// <summary>
/// A replica of the same partition is at GC generation <paramref name="GcGeneration"/>: a replica
/// behind it resets and catches up (<see cref="ReplicaReset"/>); one at or past it ignores this.
/// </summary>
internal sealed record GcGenerationSeen(long RequestId, long GcGeneration) : IReplicaCommand;

/// <summary>
/// Local only: a replica slot on this node finished its start-up catch-up (Merkle exchanges with
/// its peers); told to the node's anti-entropy actor, which counts it with the other repairs.
/// </summary>
internal sealed record CatchUpDone(SlotId Slot, long KeysRepaired, long BytesExchanged, int PeersAbandoned = 0);

/// <summary>
/// Local only: a replica slot on this node started (recovering its journal, then catching up
/// with its peers: <paramref name="CatchingUp"/> true), or began serving or stopped (false); told to
/// the node's anti-entropy actor, which counts the slots not yet serving for the status.
/// <paramref name="ExchangesDone"/>, <paramref name="Keys"/> and <paramref name="Bytes"/>: how far the
/// catch-up is (told again after each exchange), for <c>akkakv transfers</c>.
/// </summary>
internal sealed record SlotCatchUpState(SlotId Slot, bool CatchingUp, int ExchangesDone = 0, long Keys = 0, long Bytes = 0);

/// <summary>Asks a replica how many keys it holds and their size (as the repair path counts bytes); answered with <see cref="SlotSize"/>.</summary>
internal sealed record GetSlotSize(long RequestId) : IReplicaCommand;

/// <summary>A scan page's question to one replica: its keys from position <see cref="From"/> on (<see cref="Listing.KeyScan.Slice"/>).</summary>
internal sealed record ReplicaScan(long RequestId, long From, int Count, Bytes? Match) : IReplicaCommand;

/// <summary>A replica's slice of a scan page: keys with their versions stripped of values; <see cref="Bound"/>: the last position covered (null: the slot has no more).</summary>
internal sealed record ReplicaScanned(long RequestId, SlotId Slot, ValueList<KeyValuePair<Bytes, SiblingSet>> Entries, long? Bound) : IKvMessage;

internal sealed record SlotSize(long RequestId, SlotId Slot, long Keys, long Bytes) : IKvMessage;
