using AkkaKv.Protocol;

namespace AkkaKv.Client;

/// <summary>
/// The result of a get: the live values (more than one: concurrent writes, "siblings") and the causal
/// context. <see cref="ExpiresAt"/>: when the last value (the one a plain Redis GET returns) expires,
/// by the clock of the node that took its write; null when it does not.
/// <see cref="Hash"/>: for a key holding a hash, its fields (each field's pick among concurrent
/// writes of it); <see cref="Values"/> is then empty. Null for a string.
/// </summary>
public sealed record KvGetResult(bool Found, IReadOnlyList<Bytes> Values, string Context, IReadOnlyList<ReplicaReport> Replicas, string ServedBy,
    DateTimeOffset? ExpiresAt = null, IReadOnlyDictionary<Bytes, Bytes>? Hash = null)
{
    public int Siblings => Values.Count;
}

/// <summary>
/// The result of a put or delete: durable on <see cref="Acks"/> ≥ W replicas. With one
/// <see cref="Siblings"/>, <see cref="Context"/> covers exactly the version written; with more
/// (concurrent writes exist), it is empty: read to see them before replacing them.
/// </summary>
public sealed record KvWriteResult(int Acks, string Context, int Siblings, string ServedBy);

/// <summary>The store answered but could not do what was asked (invalid request, or quorum not reached in time).</summary>
public sealed class KvRequestException(string reason, int acks, int required)
    : Exception(reason)
{
    public int Acks { get; } = acks;
    public int Required { get; } = required;
}

/// <summary>A page of a key listing: the live keys, and the cursor of the next page (0: the listing is done).</summary>
public sealed record KvScanPage(long Cursor, IReadOnlyList<Bytes> Keys, string ServedBy);

/// <summary>No node answered at all (every endpoint was tried).</summary>
public sealed class KvUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A client of an AkkaKv cluster. Every call goes to one node's gateway over Akka.Remote and fails
/// over to the next node when that one does not answer.
/// </summary>
public interface IKvClient : IAsyncDisposable
{
    Task<KvGetResult> GetAsync(Bytes key, RequestOptions? options = null, CancellationToken cancellationToken = default);
    Task<KvWriteResult> PutAsync(Bytes key, Bytes value, string? context = null, RequestOptions? options = null, CancellationToken cancellationToken = default);
    Task<KvWriteResult> DeleteAsync(Bytes key, string? context = null, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// A put whose value expires <paramref name="ttl"/> after the node takes it (at least 1 ms): from
    /// then on every node reads it as gone, and the key reads as whatever else it holds (nothing,
    /// when this put superseded everything, as with the read's context; a concurrent sibling
    /// otherwise). The deadline is part of the version.
    /// </summary>
    Task<KvWriteResult> PutAsync(Bytes key, Bytes value, TimeSpan ttl, string? context = null, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Redis's EXPIRE with a positive TTL (or PERSIST, when <paramref name="ttl"/> is null): reads the
    /// key and writes its value (the one a plain GET returns) back with the new deadline, or none, and
    /// the read's context. False, and nothing written, when the key is not found (or to persist, has
    /// no deadline). A TTL under 1 ms is refused (ArgumentOutOfRangeException): delete instead.
    /// </summary>
    Task<bool> ExpireAsync(Bytes key, TimeSpan? ttl, RequestOptions? options = null, CancellationToken cancellationToken = default);
    /// <summary>
    /// Adds <paramref name="delta"/> (negative: subtracts) to the key's counter, as Redis's
    /// <c>INCRBY</c>, and returns the number at the replica that took it (see
    /// <see cref="IncrementSuccess"/> for what it counts). A key that reads as not found counts from 0;
    /// concurrent increments through any nodes, or on both sides of a partition, all count.
    /// </summary>
    /// <exception cref="KvRequestException">The key holds a string that is not a 64-bit integer, the
    /// result would pass 64 bits, or the write was not acknowledged by W replicas in time (then it
    /// may or may not have been applied, never twice).</exception>
    /// <exception cref="KvUnavailableException">No node could be reached, or the node the increment
    /// reached did not answer in time: then it may or may not have been applied; the client does not
    /// send it to another node, so it is never applied twice.</exception>
    Task<long> IncrementAsync(Bytes key, long delta = 1, RequestOptions? options = null, CancellationToken cancellationToken = default);
    Task<NodeStatus> StatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies hash operations to the key's hash as one write, in order (<see cref="AkkaKv.Hashes.HashOp"/>:
    /// set fields, delete fields, increment a field, set or remove the deadline), at the key's
    /// coordinating replica; returns each one's result (fields added, fields removed, the field's
    /// new value, 1 or 0). Concurrent writes of different fields, through any nodes, all survive.
    /// </summary>
    /// <exception cref="KvRequestException">The key holds a string (Redis's WRONGTYPE text), a field to
    /// increment is not an integer, or the write was not acknowledged by W replicas in time (then it
    /// may or may not have been applied, never twice).</exception>
    Task<IReadOnlyList<long>> HashWriteAsync(Bytes key, IReadOnlyList<AkkaKv.Hashes.HashOp> ops, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// A transaction of one key, as Redis's <c>MULTI</c> ... <c>EXEC</c> (README "Transactions"): the
    /// operations (<see cref="AkkaKv.Transactions.KeyOp"/>: read, set, delete, increment, expire,
    /// persist, and the hash operations) are applied in order by the key's coordinating replica and
    /// written as one version, so every replica takes all of them or none. Returns each one's result:
    /// an operation refused for the key's state (WRONGTYPE, not an integer, overflow) carries its
    /// reason in <see cref="AkkaKv.Transactions.KeyOpResult.Error"/> and did nothing; the others applied.
    /// </summary>
    /// <exception cref="KvRequestException">The operations are malformed, or the write was not
    /// acknowledged by W replicas in time (then it may or may not have been applied, never twice).</exception>
    Task<IReadOnlyList<AkkaKv.Transactions.KeyOpResult>> TransactionAsync(Bytes key, IReadOnlyList<AkkaKv.Transactions.KeyOp> ops, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><c>HSET</c>: sets the fields; returns how many were new.</summary>
    Task<long> HashSetAsync(Bytes key, IEnumerable<KeyValuePair<Bytes, Bytes>> fields, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><c>HDEL</c>: removes the fields; returns how many were there. The key is gone with its last field.</summary>
    Task<long> HashDeleteAsync(Bytes key, IEnumerable<Bytes> fields, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><c>HINCRBY</c>: adds <paramref name="delta"/> to the field's integer (0 when absent); returns the new value.</summary>
    Task<long> HashIncrementAsync(Bytes key, Bytes field, long delta = 1, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary><c>HGETALL</c>: the hash's fields, empty when the key is absent.</summary>
    /// <exception cref="KvRequestException">The key holds a string (Redis's WRONGTYPE text).</exception>
    Task<IReadOnlyDictionary<Bytes, Bytes>> HashGetAllAsync(Bytes key, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the key listing (Redis's SCAN): the live keys from <paramref name="cursor"/> on
    /// (0: the start) that <paramref name="match"/> (a Redis glob; null: all) accepts. Pass the
    /// page's cursor back for the next page; 0 means done. A key held by every live replica for
    /// the whole listing comes at least once; one may come twice.
    /// </summary>
    Task<KvScanPage> ScanAsync(long cursor, string? match = null, int count = 10, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Every live key (that <paramref name="match"/> accepts), page by page (<see cref="ScanAsync"/>).</summary>
    IAsyncEnumerable<Bytes> KeysAsync(string? match = null, int pageSize = 1000, CancellationToken cancellationToken = default);

    /// <summary>The cluster's transfers as the node sees them: slots waiting to move, slots catching up, keys and bytes done and left, the rate.</summary>
    Task<AkkaKv.Placement.TransferReport> TransfersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks the node to make <paramref name="node"/> leave the cluster gracefully; the reply says
    /// whether it was accepted and why not. Needs a node identity (a node port, not a client port).
    /// </summary>
    Task<AdminReply> LeaveAsync(string node, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>Asks the node to mark unreachable <paramref name="node"/> Down (removed at once). Needs a node identity.</summary>
    Task<AdminReply> DownAsync(string node, CancellationToken cancellationToken = default);
}
