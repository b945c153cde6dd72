using System.Numerics;

namespace AkkaKv.Configuration;

/// <summary>
/// Every tunable of the store as plain values, validated by <see cref="Validate"/>. A node reads
/// them from the <c>akka-kv</c> HOCON section (<c>hocon/akka-kv.conf</c>, where each key is
/// commented) at its edge, in the actors assembly; nothing here knows HOCON.
/// </summary>
public sealed record KvSettings
{
    public required string NodeName { get; init; }
    public required string DataDir { get; init; }
    public required int PartitionCount { get; init; }
    public required int VirtualNodesPerNode { get; init; }
    public required int ReplicationFactor { get; init; }
    public required int DefaultR { get; init; }
    public required int DefaultW { get; init; }
    public required bool DefaultSloppy { get; init; }
    public required TimeSpan RequestTimeout { get; init; }
    public required TimeSpan CoordinatingReplicaTimeout { get; init; }
    public required TimeSpan ReadRepairWindow { get; init; }
    /// <summary>
    /// <c>request.batch-per-node</c>: coordinators' requests to replica slots on another node, and
    /// the replies, travel many to a message through each node's courier (on by default).
    /// </summary>
    public bool BatchPerNode { get; init; } = true;
    public required int MaxKeyBytes { get; init; }
    public required int MaxValueBytes { get; init; }
    public required int MaxSiblings { get; init; }
    public required int MaxBytesPerKey { get; init; }
    /// <summary>Client requests a node coordinates at once (<c>limits.max-requests-in-flight</c>); past it, refused at once.</summary>
    public int MaxRequestsInFlight { get; init; } = 4096;
    /// <summary>
    /// <c>limits.max-repair-reply-bytes</c>: a replica's answer to a repair fetch (catch-up and
    /// anti-entropy) carries the requested keys only up to this many bytes, and always the first
    /// (see <see cref="AkkaKv.Replica.FetchPage"/>); the rest wait for the next exchange.
    /// </summary>
    public int MaxRepairReplyBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// akka.remote's <c>maximum-frame-size</c> on this node (0: not known, e.g. no remoting): the
    /// largest message between nodes. Checked against what a message may have to carry.
    /// </summary>
    public long RemoteFrameBytes { get; init; }

    /// <summary>Room in a frame for a message's own fields besides the versions it carries.</summary>
    public const long FrameMarginBytes = 1024 * 1024;
    public required int SnapshotEvery { get; init; }
    /// <summary>Upper bounds of <see cref="GroupCommitLinger"/> and <see cref="GroupCommitMaxRows"/>.</summary>
    public static readonly TimeSpan MaxGroupCommitLinger = TimeSpan.FromMilliseconds(100);
    public const int MaxGroupCommitRows = 10_000;
    /// <summary><c>storage.durability</c>: what an acknowledged write survives on the node that acknowledged it.</summary>
    public required StorageDurability Durability { get; init; }
    /// <summary>
    /// <c>storage.group-commit.linger</c>: how long the journal holds a write for others to share its
    /// transaction (0: no group commit).
    /// </summary>
    public TimeSpan GroupCommitLinger { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary><c>storage.group-commit.max-rows</c>: a group commits at once when it holds this many events.</summary>
    public int GroupCommitMaxRows { get; init; } = 100;
    /// <summary><c>storage.journal</c>: which database holds this node's journal and snapshots.</summary>
    public required JournalBackend Journal { get; init; }
    /// <summary>
    /// <c>storage.postgresql.connection-string</c>: the Npgsql connection string of the PostgreSQL
    /// server (empty when unset). Required when <see cref="Journal"/> is PostgreSQL.
    /// </summary>
    public required string PostgresConnectionString { get; init; }
    /// <summary>
    /// <c>storage.postgresql.database</c>: this node's own database on that server (default
    /// <see cref="DefaultPostgresDatabase"/> of the node name). Nodes never share one: a replica
    /// slot's persistence id is the same on whichever node holds it.
    /// </summary>
    public required string PostgresDatabase { get; init; }
    /// <summary><c>replica.catch-up-timeout</c> (was <c>replica.sync-timeout</c>): how long a starting replica waits for a peer's answer to one step of a catch-up exchange.</summary>
    public required TimeSpan CatchUpTimeout { get; init; }
    /// <summary><c>replica.catch-up-max-keys</c> (was <c>replica.sync-page-keys</c>): differing keys repaired per catch-up exchange.</summary>
    public required int CatchUpMaxKeys { get; init; }
    public required int MaxSlotsPerRebalance { get; init; }
    public required TimeSpan ReplicaAckTimeout { get; init; }
    public required TimeSpan PlacementRefreshInterval { get; init; }
    public required TimeSpan ReplaceRemovedSlotsAfter { get; init; }
    public required int HintsMaxPerTarget { get; init; }
    public required int HintsReplayWindow { get; init; }
    public required TimeSpan HintsReplayInterval { get; init; }
    public required TimeSpan HintsReplayTimeout { get; init; }
    public required int HintsSnapshotEvery { get; init; }
    public required TimeSpan AntiEntropyRoundInterval { get; init; }
    public required TimeSpan AntiEntropyExchangePause { get; init; }
    public required TimeSpan AntiEntropyExchangeTimeout { get; init; }
    public required int AntiEntropyMaxKeysPerExchange { get; init; }
    public required bool TombstoneGc { get; init; }
    public required int TombstoneGcMaxPerPartition { get; init; }
    public required int MerkleFanout { get; init; }
    public required int MerkleDepth { get; init; }

    public required int RespMaxConnections { get; init; }
    public required int RespMaxBulkBytes { get; init; }
    public required int RespMaxArguments { get; init; }
    public required int RespMaxInlineBytes { get; init; }
    public required int RespMaxCommandBytes { get; init; }
    public required int RespMaxPipelined { get; init; }
    /// <summary>Largest reply built for one RESP command (<c>resp.max-reply-bytes</c>).</summary>
    public int RespMaxReplyBytes { get; init; } = 64 * 1024 * 1024;
    /// <summary>
    /// Bytes of finished replies one RESP connection may have waiting for its client to read them
    /// (<c>resp.max-output-buffer-bytes</c>, Redis's client-output-buffer-limit): past it the
    /// connection is closed.
    /// </summary>
    public int RespMaxOutputBufferBytes { get; init; } = 128 * 1024 * 1024;
    /// <summary>A RESP connection that sends nothing this long is closed (<c>resp.idle-timeout</c>); zero: never.</summary>
    public TimeSpan RespIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Redis's <c>requirepass</c>: the default user's password on the RESP port; empty: none (any client is served).</summary>
    public string RespRequirePass { get; init; } = "";
    /// <summary>The node's TLS certificate (PEM) for the ports it serves (<c>tls.cert-file</c>); empty: no TLS.</summary>
    public string TlsCertFile { get; init; } = "";
    /// <summary>The private key of <see cref="TlsCertFile"/> (PEM; <c>tls.key-file</c>).</summary>
    public string TlsKeyFile { get; init; } = "";
    /// <summary>Whether the node serves TLS (a certificate is configured).</summary>
    public bool Tls => TlsCertFile.Length > 0;
    /// <summary>
    /// The CA (PEM) every node's certificate chains to (<c>tls.ca-file</c>): when set, Akka
    /// remoting between nodes is mutual TLS, and a peer is let in only with a certificate this CA
    /// issued. Empty: remoting in plain text.
    /// </summary>
    public string TlsCaFile { get; init; } = "";
    /// <summary>The CA (PEM) of client certificates (<c>tls.client-ca-file</c>), accepted on the client port only.</summary>
    public string TlsClientCaFile { get; init; } = "";
    /// <summary>Whether Akka remoting uses mutual TLS (<see cref="TlsCaFile"/> is set).</summary>
    public bool RemoteTls => TlsCaFile.Length > 0;
    /// <summary>The file the context keys came from (<c>security.context-keys-file</c>); empty: none, the public development key.</summary>
    public string ContextKeysFile { get; init; } = "";
    /// <summary>Signs the causal contexts this node hands out and checks those it is given.</summary>
    public AkkaKv.Versioning.CausalContext Contexts { get; init; } = AkkaKv.Versioning.CausalContext.Development;

    public const string Section = "akka-kv";

    /// <summary>The role that carries a member's stable node name: <c>kv-node-{name}</c>.</summary>
    public const string NodeRolePrefix = "kv-node-";

    public string NodeRole => NodeRolePrefix + NodeName;

    /// <summary>PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1): longer names are truncated by the server.</summary>
    public const int MaxPostgresIdentifierLength = 63;

    /// <summary>
    /// The database a node keeps its journal in when <c>storage.postgresql.database</c> is not set:
    /// <c>akkakv_</c> and the node name, lower-cased, with every character other than an ASCII
    /// letter, digit or underscore replaced by an underscore (so it needs no quoting anywhere).
    /// </summary>
    public static string DefaultPostgresDatabase(string nodeName) =>
        "akkakv_" + string.Concat(nodeName.Select(ch => char.ToLowerInvariant(ch) is var c && (c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_') ? c : '_'));

    /// <summary>Whether <paramref name="name"/> is a database name this node accepts: 1-63 lower-case ASCII letters, digits and underscores, not starting with a digit.</summary>
    public static bool IsValidPostgresDatabase(string name) =>
        name.Length is >= 1 and <= MaxPostgresIdentifierLength
        && name[0] is (>= 'a' and <= 'z') or '_'
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    /// <summary>The value of <c>storage.journal</c>; anything but <c>sqlite</c> or <c>postgresql</c> is a <see cref="KvSettingsException"/>.</summary>
    public static JournalBackend ParseJournal(string value) => value switch
    {
        "sqlite" => JournalBackend.Sqlite,
        "postgresql" => JournalBackend.PostgreSql,
        _ => throw new KvSettingsException($"akka-kv: storage.journal must be sqlite or postgresql, got '{value}'"),
    };


    /// <summary>Throws <see cref="KvSettingsException"/> naming the first bad setting.</summary>
    public KvSettings Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new KvSettingsException($"akka-kv: {message}"); }
        Require(NodeName.Length > 0, "node-name must be set (a stable name such as n1)");
        // It goes into every replica id ("{node}/{slot}.{epoch}"), which peers accept up to 256 characters.
        Require(NodeName.Length <= 200, $"node-name is {NodeName.Length} characters; at most 200");
        Require(!NodeName.Any(ch => char.IsWhiteSpace(ch) || ch is '/' or ':' or ','), $"node-name '{NodeName}' may not contain whitespace, '/', ':' or ','");
        Require(PartitionCount >= 2 && BitOperations.IsPow2(PartitionCount), $"ring.partitions must be a power of two >= 2, got {PartitionCount}");
        Require(VirtualNodesPerNode >= 1, $"ring.virtual-nodes must be >= 1, got {VirtualNodesPerNode}");
        Require(ReplicationFactor >= 1, $"replication.n must be >= 1, got {ReplicationFactor}");
        Require(DefaultR >= 1 && DefaultR <= ReplicationFactor, $"request.r must be in [1, N={ReplicationFactor}], got {DefaultR}");
        Require(DefaultW >= 1 && DefaultW <= ReplicationFactor, $"request.w must be in [1, N={ReplicationFactor}], got {DefaultW}");
        Require(RequestTimeout > TimeSpan.Zero, "request.timeout must be positive");
        Require(CoordinatingReplicaTimeout > TimeSpan.Zero && CoordinatingReplicaTimeout <= RequestTimeout, "request.coordinating-replica-timeout must be positive and at most request.timeout");
        Require(ReadRepairWindow >= TimeSpan.Zero, "request.read-repair-window must not be negative");
        Require(MaxKeyBytes >= 1, "limits.max-key-bytes must be >= 1");
        Require(MaxValueBytes >= 0, "limits.max-value-bytes must be >= 0");
        Require(MaxSiblings >= 1, "limits.max-siblings must be >= 1");
        Require(MaxBytesPerKey >= MaxValueBytes, "limits.max-bytes-per-key must be at least limits.max-value-bytes");
        Require(MaxRequestsInFlight >= 1, "limits.max-requests-in-flight must be >= 1");
        Require(MaxRepairReplyBytes >= 1, "limits.max-repair-reply-bytes must be >= 1");
        // A key's versions travel whole in a read's or a write's answer. Each of the N replicas that
        // can mint a version refuses a put that would take the key past max-bytes-per-key, but N of
        // them writing at once (each before it sees the others) can leave N times that.
        Require(RemoteFrameBytes == 0 || RemoteFrameBytes >= (long)ReplicationFactor * MaxBytesPerKey + FrameMarginBytes,
            $"akka.remote.dot-netty.tcp.maximum-frame-size ({RemoteFrameBytes} bytes) must hold replication.n x limits.max-bytes-per-key ({ReplicationFactor} x {MaxBytesPerKey}) plus 1 MiB: a key written concurrently through its N replicas can hold that much, and its versions travel in one message; raise the frame size or lower max-bytes-per-key");
        Require(RemoteFrameBytes == 0 || RemoteFrameBytes >= (long)MaxRepairReplyBytes + MaxValueBytes + FrameMarginBytes,
            $"akka.remote.dot-netty.tcp.maximum-frame-size ({RemoteFrameBytes} bytes) must hold limits.max-repair-reply-bytes plus limits.max-value-bytes ({MaxRepairReplyBytes} + {MaxValueBytes}) plus 1 MiB: the largest repair reply");
        Require(SnapshotEvery >= 1, "replica.snapshot-every must be >= 1");
        Require(GroupCommitLinger >= TimeSpan.Zero && GroupCommitLinger <= MaxGroupCommitLinger,
            $"storage.group-commit.linger must be from 0 to {MaxGroupCommitLinger.TotalMilliseconds} ms, got {GroupCommitLinger.TotalMilliseconds} ms (it adds up to that much to every write's latency)");
        Require(GroupCommitMaxRows is >= 1 and <= MaxGroupCommitRows, $"storage.group-commit.max-rows must be from 1 to {MaxGroupCommitRows}, got {GroupCommitMaxRows}");
        Require(Enum.IsDefined(Journal), $"storage.journal must be sqlite or postgresql, got {Journal}");
        if (Journal == JournalBackend.PostgreSql)
        {
            Require(!string.IsNullOrWhiteSpace(PostgresConnectionString),
                "storage.postgresql.connection-string must be set when storage.journal = postgresql (an Npgsql connection string such as \"Host=db.example;Port=5432;Username=akkakv;Password=...\")");
            Require(IsValidPostgresDatabase(PostgresDatabase),
                $"storage.postgresql.database '{PostgresDatabase}' must be 1-{MaxPostgresIdentifierLength} lower-case letters (a-z), digits and underscores, not starting with a digit (the default is akkakv_ and the node name, sanitized: set it explicitly when that is too long)");
            Require(PostgresDatabase is not ("template0" or "template1" or "postgres"),
                $"storage.postgresql.database '{PostgresDatabase}' is one of the server's own databases: give this node a database of its own");
        }
        Require(CatchUpTimeout > TimeSpan.Zero, "replica.catch-up-timeout must be positive");
        Require(CatchUpMaxKeys >= 1, "replica.catch-up-max-keys must be >= 1");
        Require(MaxSlotsPerRebalance >= 1, "sharding.max-slots-per-rebalance must be >= 1");
        Require(ReplicaAckTimeout > TimeSpan.Zero, "request.replica-ack-timeout must be positive");
        Require(PlacementRefreshInterval > TimeSpan.Zero, "request.placement-refresh-interval must be positive");
        Require(ReplaceRemovedSlotsAfter >= TimeSpan.Zero, "request.replace-removed-slots-after must not be negative");
        Require(HintsMaxPerTarget >= 1, "hints.max-per-target must be >= 1");
        Require(HintsReplayWindow >= 1, "hints.replay-window must be >= 1");
        Require(HintsReplayInterval > TimeSpan.Zero, "hints.replay-interval must be positive");
        Require(HintsReplayTimeout > TimeSpan.Zero, "hints.replay-timeout must be positive");
        Require(HintsSnapshotEvery >= 1, "hints.snapshot-every must be >= 1");
        Require(AntiEntropyRoundInterval > TimeSpan.Zero, "anti-entropy.round-interval must be positive");
        Require(AntiEntropyExchangePause >= TimeSpan.Zero, "anti-entropy.exchange-pause must not be negative");
        Require(AntiEntropyExchangeTimeout > TimeSpan.Zero, "anti-entropy.exchange-timeout must be positive");
        Require(AntiEntropyMaxKeysPerExchange >= 1, "anti-entropy.max-keys-per-exchange must be >= 1");
        Require(TombstoneGcMaxPerPartition >= 1, "anti-entropy.tombstone-gc-max-per-partition must be >= 1");
        Require(MerkleFanout >= 2 && (MerkleFanout & (MerkleFanout - 1)) == 0, "anti-entropy.tree-fanout must be a power of two >= 2");
        Require(MerkleDepth >= 1, "anti-entropy.tree-depth must be >= 1");
        Require(MerkleFanout < 2 || (long)BitOperations.Log2((uint)MerkleFanout) * MerkleDepth <= AkkaKv.Merkle.MerkleShape.MaxLeafBits,
            $"anti-entropy.tree-fanout ^ anti-entropy.tree-depth must be at most 2^{AkkaKv.Merkle.MerkleShape.MaxLeafBits} leaves ({MerkleFanout}^{MerkleDepth} is more): an exchange's node hashes must fit a remoting frame");
        Require(RespMaxConnections >= 1, "resp.max-connections must be >= 1");
        Require(RespMaxBulkBytes >= MaxValueBytes && RespMaxBulkBytes >= MaxKeyBytes,
            "resp.max-bulk-bytes must be at least limits.max-value-bytes and limits.max-key-bytes (so an oversize value gets a clear error, not a protocol error)");
        Require(RespMaxArguments >= 3, "resp.max-arguments must be >= 3");
        Require(RespMaxInlineBytes >= 64, "resp.max-inline-bytes must be >= 64");
        Require(RespMaxCommandBytes >= RespMaxBulkBytes, "resp.max-command-bytes must be at least resp.max-bulk-bytes");
        Require(RespMaxPipelined >= 1, "resp.max-pipelined must be >= 1");
        Require(RespMaxReplyBytes >= MaxBytesPerKey, "resp.max-reply-bytes must be at least limits.max-bytes-per-key (a KV.GET of a full key must fit)");
        Require(RespMaxOutputBufferBytes >= RespMaxReplyBytes, "resp.max-output-buffer-bytes must be at least resp.max-reply-bytes (the largest single reply must fit)");
        Require(RespIdleTimeout >= TimeSpan.Zero, "resp.idle-timeout must be 0 (never) or positive");
        Require(TlsCertFile.Length > 0 == TlsKeyFile.Length > 0, "tls.cert-file and tls.key-file go together: set both (a PEM certificate and its PEM private key) or neither");
        Require(TlsCaFile.Length == 0 || Tls, "tls.ca-file (mutual TLS on remoting) needs the node's own certificate: set tls.cert-file and tls.key-file too");
        Require(TlsClientCaFile.Length == 0 || RemoteTls, "tls.client-ca-file (client certificates on the client port) needs tls.ca-file: remoting TLS is off without it");
        return this;
    }
}

/// <summary>
/// What a replica's acknowledgment survives on its own node (the journal's commit is made that
/// durable before the replica acks). With W ≥ 2 a write is acknowledged by W nodes, so losing it
/// takes that failure on W nodes at once. It sets SQLite's sync mode; on PostgreSQL both values
/// keep <c>synchronous_commit = on</c> (the server's commit is durable before it answers) and the
/// server's own <c>fsync</c> settings decide what a power loss does.
/// </summary>
public enum StorageDurability
{
    /// <summary>
    /// The commit is in the journal's write-ahead log, in the operating system's cache, before the
    /// ack: it survives the node's process being killed (kill -9, a crash), not the machine losing
    /// power or the kernel crashing before the log is flushed (SQLite <c>synchronous=NORMAL</c> in WAL mode).
    /// </summary>
    ProcessCrash,
    /// <summary>The commit is flushed to disk (fsync) before the ack: it survives a power loss too (SQLite <c>synchronous=FULL</c>).</summary>
    PowerLoss,
}

/// <summary>Where a node keeps its journal and snapshots (<c>storage.journal</c>): always a store of its own.</summary>
public enum JournalBackend
{
    /// <summary>One SQLite file per node, <c>{data-dir}/akkakv.db</c> (the default).</summary>
    Sqlite,
    /// <summary>One database per node on a PostgreSQL server (<c>storage.postgresql</c>).</summary>
    PostgreSql,
}

/// <summary>A setting of the <c>akka-kv</c> section is missing or invalid: the node does not start.</summary>
public sealed class KvSettingsException(string message, Exception? inner = null) : Exception(message, inner);
