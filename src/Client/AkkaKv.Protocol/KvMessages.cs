using AkkaKv.Placement;

namespace AkkaKv.Protocol;

// The public protocol between clients (the .NET client, the CLI, the RESP gateway) and a node's
// gateway actor (NodeActors.Gateway, /user/kv-gateway). Every request gets exactly one reply from its family.

/// <summary>A client request for one key.</summary>
public interface IKvRequest : IKvMessage
{
    Bytes Key { get; }
    RequestOptions Options { get; }
}

/// <summary>Read a key: answered with <see cref="GetSuccess"/>, <see cref="NotFound"/> or <see cref="RequestFailed"/>.</summary>
public sealed record Get(Bytes Key, RequestOptions Options) : IKvRequest;

/// <summary>
/// Write a value. <see cref="Context"/> is the opaque causal context of an earlier read: the
/// put supersedes exactly the versions that read returned. Null means "I read nothing": the
/// value is added as a sibling of whatever the store holds, so no write is ever dropped
/// silently; with <see cref="RequestOptions.Overwrite"/> it instead supersedes whatever the
/// coordinating replica holds (an explicit last-writer-wins at that replica).
/// <see cref="TtlMs"/>: the value expires this many milliseconds after the node takes the write
/// (0: never); the deadline is part of the version.
/// Answered with <see cref="WriteSuccess"/> or <see cref="RequestFailed"/>.
/// </summary>
public sealed record Put(Bytes Key, Bytes Value, string? Context, RequestOptions Options, long TtlMs = 0) : IKvRequest;

/// <summary>
/// Add <see cref="Delta"/> (negative: subtract) to the key's counter (<c>INCRBY</c>): the coordinating
/// replica mints a counter version from what it holds, a PN-counter entry of its own (docs/typed-values.md).
/// A key that reads as not found counts from 0; a string that is not a 64-bit integer, or a result
/// past 64 bits, is refused and nothing is written. Answered with <see cref="IncrementSuccess"/> or
/// <see cref="RequestFailed"/>; a timed-out increment may or may not have been applied (never twice).
/// </summary>
/// <see cref="TtlMs"/>: null keeps the key's deadline (as Redis's INCR); 0 removes it; a positive
/// value sets it that many ms after the node takes the write. <c>EXPIRE</c> and <c>PERSIST</c> of a
/// counter are an increment of 0 with a TTL, applied by the coordinating replica to what it holds.
public sealed record Increment(Bytes Key, long Delta, RequestOptions Options, long? TtlMs = null) : IKvRequest
{
    /// <summary>
    /// A refusal that says nothing about the write but that this key (or cluster) takes no increment:
    /// the key holds no integer after all, or a member cannot read counters yet. An EXPIRE or PERSIST
    /// sent as an increment of 0 then falls back to writing the value back.
    /// </summary>
    public static bool RefusedForTheKey(RequestFailed failed) =>
        failed.Reason == Counters.CounterRules.NotAnInteger || FeatureLevel.IsRefusal(failed.Reason);
}

/// <summary>
/// The increment is durable on at least W replicas. <see cref="Value"/> is the number at its
/// coordinating replica right after it: every increment that replica had received, plus this one.
/// Increments held only by other replicas (concurrent ones, or ones a sloppy quorum left on
/// fallbacks) are not in it until replication, hints or anti-entropy bring them.
/// </summary>
public sealed record IncrementSuccess(Bytes Key, long Value, int Acks) : IWriteResponse;

/// <summary>
/// Operations on the key's hash (<c>HSET</c>, <c>HDEL</c>, <c>HINCRBY</c>, and <c>EXPIRE</c>/<c>PERSIST</c>
/// of a hash), applied in order by the coordinating replica to what it holds and written as one
/// version (docs/typed-values.md, "Hashes"). A key holding a string is refused
/// (<see cref="Counters.CounterRules.WrongType"/>); so is a field that <c>HINCRBY</c> finds not an
/// integer, or a result past 64 bits; then nothing is written. Answered with
/// <see cref="HashWriteSuccess"/> or <see cref="RequestFailed"/>; a timed-out request may or may not
/// have been applied (never twice).
/// </summary>
public sealed record HashWrite(Bytes Key, ValueList<Hashes.HashOp> Ops, RequestOptions Options) : IKvRequest;

/// <summary>
/// The hash write is durable on at least W replicas (or changed nothing: an <c>HDEL</c> of absent
/// fields writes nothing). <see cref="Results"/>: each operation's result, in order (fields added,
/// fields removed, the incremented value, 1 or 0 for a deadline set), at the coordinating replica.
/// </summary>
public sealed record HashWriteSuccess(Bytes Key, ValueList<long> Results, int Acks) : IWriteResponse;

/// <summary>
/// A transaction of one key (Redis's <c>MULTI</c> ... <c>EXEC</c>; README "Transactions"): the
/// operations are applied in order by the key's coordinating replica to what it holds and written
/// as one version, so every replica takes all of them or none. An operation refused for the key's
/// state (<c>WRONGTYPE</c>, not an integer, overflow) does nothing and carries its reason, and the
/// others still apply, as in Redis. TTLs are ms from when the node takes the request (see
/// <see cref="Transactions.KeyOpKind"/>). Answered with <see cref="TransactionSuccess"/> or
/// <see cref="RequestFailed"/>; a timed-out request may or may not have been applied (never twice
/// when it increments).
/// </summary>
public sealed record Transaction(Bytes Key, ValueList<Transactions.KeyOp> Ops, RequestOptions Options) : IKvRequest;

/// <summary>
/// The transaction is durable on at least W replicas (or wrote nothing: only reads, or nothing
/// changed). <see cref="Results"/>: each operation's result, in order, at the coordinating replica.
/// </summary>
public sealed record TransactionSuccess(Bytes Key, ValueList<Transactions.KeyOpResult> Results, int Acks) : IWriteResponse;

/// <summary>A put of a tombstone; same context rules and replies as <see cref="Put"/>.</summary>
public sealed record Delete(Bytes Key, string? Context, RequestOptions Options) : IKvRequest;

/// <summary>
/// One page of a key listing (<c>SCAN</c>): the live keys from <see cref="Cursor"/> on (0: the
/// start), those that <see cref="Match"/> (a Redis glob on the key's bytes; null: all) accepts.
/// <see cref="Count"/> is a hint, as in Redis: each replica looks at between 250 and 1,000 keys
/// per page. Answered with <see cref="ScanResult"/> or <see cref="RequestFailed"/> (whose key is empty).
/// </summary>
public sealed record Scan(long Cursor, Bytes? Match, int Count, RequestOptions Options) : IKvMessage;

/// <summary>
/// A page of keys and the cursor of the next page (0: the listing is done). A key that every
/// live replica held for the whole listing is in one page at least; a key may come twice, and
/// one written or deleted during the listing may or may not come (Redis's promise).
/// </summary>
public sealed record ScanResult(long Cursor, ValueList<Bytes> Keys) : IKvMessage;

/// <summary>Replies to <see cref="Get"/>.</summary>
public interface IGetResponse : IKvMessage;

/// <summary>Replies to <see cref="Put"/> and <see cref="Delete"/>.</summary>
public interface IWriteResponse : IKvMessage;

/// <summary>How one replica of the key answered a read, as seen before any read repair.</summary>
public enum ReplicaReadState : byte
{
    /// <summary>Answered with exactly the merged result.</summary>
    Current = 0,
    /// <summary>Answered with versions the merged result supersedes or lacks.</summary>
    Stale = 1,
    /// <summary>Answered that it holds nothing for the key.</summary>
    NotFound = 2,
    /// <summary>Had not answered when the read reached R replies.</summary>
    Pending = 3,
    /// <summary>Did not answer within the request timeout.</summary>
    Timeout = 4,
    /// <summary>Its node is unreachable by the cluster's failure detector.</summary>
    Unreachable = 5,
}

public sealed record ReplicaReport(int Slot, string Node, ReplicaReadState State);

/// <summary>
/// The key's live values (one per sibling; more than one means concurrent writes) and their causal
/// context. <see cref="Values"/> are ordered by the wall-clock time at which their coordinating
/// replicas minted them, oldest first, ties broken by version (dot) order: the same order on every
/// node, so "the last value" is a deterministic pick (what a plain Redis GET returns).
/// <see cref="ExpiresAtMs"/>: each value's deadline, in the same order (Unix ms by the clock of the
/// node that took its write; 0: none); null from a node before expiry. Values past their deadline
/// by the answering node's clock are not returned.
/// <see cref="Hash"/>: for a key that holds a hash, its fields as name, value, name, value, ...
/// ordered by name (each field's pick among concurrent writes of it); <see cref="Values"/> is then
/// empty and <see cref="ExpiresAtMs"/> holds the hash's one deadline. Null for a string.
/// </summary>
public sealed record GetSuccess(Bytes Key, ValueList<Bytes> Values, string Context, ValueList<ReplicaReport> Replicas, ValueList<long>? ExpiresAtMs = null, ValueList<Bytes>? Hash = null) : IGetResponse
{
    /// <summary>The key holds a hash (<see cref="Hash"/>), not a string.</summary>
    public bool IsHash => Hash is not null;

    /// <summary>A hash's fields as name → value, ordered by name; null for a string.</summary>
    public SortedDictionary<Bytes, Bytes>? HashFields()
    {
        if (Hash is null) return null;
        var fields = new SortedDictionary<Bytes, Bytes>();
        for (var i = 0; i + 1 < Hash.Count; i += 2) fields[Hash[i]] = Hash[i + 1];
        return fields;
    }

    /// <summary>The deadline of the value a plain GET returns (the last one): Unix ms, 0 when none.</summary>
    public long LastExpiresAtMs => ExpiresAtMs is { Count: > 0 } d ? d[^1] : 0;
}

/// <summary>No live value: never written, or deleted (then <see cref="Context"/> is the tombstone's).</summary>
public sealed record NotFound(Bytes Key, string Context, ValueList<ReplicaReport> Replicas) : IGetResponse;

/// <summary>
/// The write is durable on at least W replicas. <see cref="Siblings"/> is how many versions the
/// coordinating replica holds for the key after the write. When it is 1, <see cref="Context"/>
/// covers exactly the version just written, so a put passing it back replaces it. When it is
/// more, concurrent writes exist: <see cref="Context"/> is empty (it supersedes nothing), and a
/// client that wants to replace them reads first, to see what it replaces.
/// </summary>
public sealed record WriteSuccess(Bytes Key, int Acks, string Context, int Siblings) : IWriteResponse;

/// <summary>
/// The request was invalid or could not reach its quorum in time. For a write that timed out,
/// the outcome is unknown: the value may still be on fewer than W replicas. A read that timed out
/// carries <see cref="Replicas"/>: how each replica answered (slots that never did are
/// <see cref="ReplicaReadState.Timeout"/> or <see cref="ReplicaReadState.Unreachable"/>); null otherwise.
/// </summary>
public sealed record RequestFailed(Bytes Key, string Reason, int Acks, int Required, ValueList<ReplicaReport>? Replicas = null) : IGetResponse, IWriteResponse;

/// <summary>Ask a node for its view of the cluster; answered with <see cref="NodeStatus"/>.</summary>
public sealed record GetStatus : IKvMessage
{
    public static readonly GetStatus Instance = new();
}

public sealed record MemberInfo(string Node, string Address, string Status, bool Reachable);

/// <summary>
/// A node's view of the cluster. <see cref="MisplacedSlots"/>: replica slots hosted on a node that
/// is no longer among their partition's primaries (they move at the next rebalances); 0 when the
/// placement matches the ring. <see cref="PartitionsHeld"/>: partitions with a replica slot on
/// this node. <see cref="Hints"/>: what each reachable node's hint actor holds, per target node
/// (null: not collected). <see cref="SlotOwners"/>: the node holding each replica slot, slot i of
/// partition p at index p·N+i, null where unallocated (null: not collected; a node before this
/// field sends none). <see cref="SlotsMoving"/>: slots that sit elsewhere than the ring plans them,
/// in slot order (null: not collected).
/// </summary>
public sealed record NodeStatus(
    string Node,
    ValueList<MemberInfo> Members,
    int Partitions,
    int ReplicationFactor,
    int VirtualNodes,
    ValueList<KeyValuePair<string, int>> SlotsPerNode,
    int UnallocatedSlots,
    int CoLocatedPartitions,
    int MisplacedSlots,
    string? Warning,
    int PartitionsHeld = 0,
    ValueList<HintStats>? Hints = null,
    ValueList<AntiEntropyStats>? AntiEntropy = null,
    ValueList<string?>? SlotOwners = null,
    ValueList<SlotMove>? SlotsMoving = null) : IKvMessage;
