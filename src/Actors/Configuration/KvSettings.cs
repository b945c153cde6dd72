using System.Numerics;
using Akka.Configuration;

namespace AkkaKv.Configuration;

/// <summary>
/// Every tunable of the store, read from the <c>akka-kv</c> HOCON section (see
/// <c>hocon/akka-kv.conf</c>, where each key is commented) and validated at start.
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
    public required int MaxKeyBytes { get; init; }
    public required int MaxValueBytes { get; init; }
    public required int MaxSiblings { get; init; }
    public required int MaxBytesPerKey { get; init; }
    public required int SnapshotEvery { get; init; }
    public required TimeSpan SyncTimeout { get; init; }
    public required int SyncPageKeys { get; init; }
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

    /// <summary>The shape of every replica's Merkle tree (partition bits from the partition count).</summary>
    public AntiEntropy.MerkleShape MerkleShape =>
        new(System.Numerics.BitOperations.Log2((uint)PartitionCount), MerkleFanout, MerkleDepth);
    public required int RespMaxConnections { get; init; }
    public required int RespMaxBulkBytes { get; init; }
    public required int RespMaxArguments { get; init; }
    public required int RespMaxInlineBytes { get; init; }
    public required int RespMaxCommandBytes { get; init; }
    public required int RespMaxPipelined { get; init; }

    public const string Section = "akka-kv";

    /// <summary>The role that carries a member's stable node name: <c>kv-node-{name}</c>.</summary>
    public const string NodeRolePrefix = "kv-node-";

    public string NodeRole => NodeRolePrefix + NodeName;

    /// <summary>What one RESP client command may declare (checked before allocating).</summary>
    public Resp.RespLimits RespLimits => new(RespMaxBulkBytes, RespMaxArguments, RespMaxInlineBytes, RespMaxCommandBytes);

    public static KvSettings FromConfig(Config root)
    {
        var c = root.GetConfig(Section) ?? throw new ConfigurationException($"missing HOCON section '{Section}'");
        T Read<T>(string key, Func<string, T> read)
        {
            try { return read(key); }
            catch (Exception e) when (e is not ConfigurationException)
            {
                throw new ConfigurationException($"akka-kv.{key}: '{c.GetString(key, "")}' is not a valid value ({e.Message})");
            }
        }
        var s = new KvSettings
        {
            NodeName = c.GetString("node-name", ""),
            DataDir = c.GetString("data-dir", "data"),
            PartitionCount = Read("ring.partitions", k => c.GetInt(k)),
            VirtualNodesPerNode = Read("ring.virtual-nodes", k => c.GetInt(k)),
            ReplicationFactor = Read("replication.n", k => c.GetInt(k)),
            DefaultR = Read("request.r", k => c.GetInt(k)),
            DefaultW = Read("request.w", k => c.GetInt(k)),
            DefaultSloppy = Read("request.sloppy", k => c.GetBoolean(k)),
            RequestTimeout = Read("request.timeout", k => c.GetTimeSpan(k)),
            CoordinatingReplicaTimeout = Read("request.coordinating-replica-timeout", k => c.GetTimeSpan(k)),
            ReadRepairWindow = Read("request.read-repair-window", k => c.GetTimeSpan(k)),
            MaxKeyBytes = Read("limits.max-key-bytes", k => c.GetInt(k)),
            MaxValueBytes = Read("limits.max-value-bytes", k => c.GetInt(k)),
            MaxSiblings = Read("limits.max-siblings", k => c.GetInt(k)),
            MaxBytesPerKey = Read("limits.max-bytes-per-key", k => c.GetInt(k)),
            SnapshotEvery = Read("replica.snapshot-every", k => c.GetInt(k)),
            SyncTimeout = Read("replica.sync-timeout", k => c.GetTimeSpan(k)),
            SyncPageKeys = Read("replica.sync-page-keys", k => c.GetInt(k)),
            MaxSlotsPerRebalance = Read("sharding.max-slots-per-rebalance", k => c.GetInt(k)),
            ReplicaAckTimeout = Read("request.replica-ack-timeout", k => c.GetTimeSpan(k)),
            PlacementRefreshInterval = Read("request.placement-refresh-interval", k => c.GetTimeSpan(k)),
            ReplaceRemovedSlotsAfter = Read("request.replace-removed-slots-after", k => c.GetTimeSpan(k)),
            HintsMaxPerTarget = Read("hints.max-per-target", k => c.GetInt(k)),
            HintsReplayWindow = Read("hints.replay-window", k => c.GetInt(k)),
            HintsReplayInterval = Read("hints.replay-interval", k => c.GetTimeSpan(k)),
            HintsReplayTimeout = Read("hints.replay-timeout", k => c.GetTimeSpan(k)),
            HintsSnapshotEvery = Read("hints.snapshot-every", k => c.GetInt(k)),
            AntiEntropyRoundInterval = Read("anti-entropy.round-interval", k => c.GetTimeSpan(k)),
            AntiEntropyExchangePause = Read("anti-entropy.exchange-pause", k => c.GetTimeSpan(k)),
            AntiEntropyExchangeTimeout = Read("anti-entropy.exchange-timeout", k => c.GetTimeSpan(k)),
            AntiEntropyMaxKeysPerExchange = Read("anti-entropy.max-keys-per-exchange", k => c.GetInt(k)),
            TombstoneGc = Read("anti-entropy.tombstone-gc", k => c.GetBoolean(k)),
            TombstoneGcMaxPerPartition = Read("anti-entropy.tombstone-gc-max-per-partition", k => c.GetInt(k)),
            MerkleFanout = Read("anti-entropy.tree-fanout", k => c.GetInt(k)),
            MerkleDepth = Read("anti-entropy.tree-depth", k => c.GetInt(k)),
            RespMaxConnections = Read("resp.max-connections", k => c.GetInt(k)),
            RespMaxBulkBytes = Read("resp.max-bulk-bytes", k => c.GetInt(k)),
            RespMaxArguments = Read("resp.max-arguments", k => c.GetInt(k)),
            RespMaxInlineBytes = Read("resp.max-inline-bytes", k => c.GetInt(k)),
            RespMaxCommandBytes = Read("resp.max-command-bytes", k => c.GetInt(k)),
            RespMaxPipelined = Read("resp.max-pipelined", k => c.GetInt(k)),
        };
        s.Validate();
        return s;
    }

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first bad setting.</summary>
    public KvSettings Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new ConfigurationException($"akka-kv: {message}"); }
        Require(NodeName.Length > 0, "node-name must be set (a stable name such as n1)");
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
        Require(SnapshotEvery >= 1, "replica.snapshot-every must be >= 1");
        Require(SyncTimeout > TimeSpan.Zero, "replica.sync-timeout must be positive");
        Require(SyncPageKeys >= 1, "replica.sync-page-keys must be >= 1");
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
        Require(RespMaxConnections >= 1, "resp.max-connections must be >= 1");
        Require(RespMaxBulkBytes >= MaxValueBytes && RespMaxBulkBytes >= MaxKeyBytes,
            "resp.max-bulk-bytes must be at least limits.max-value-bytes and limits.max-key-bytes (so an oversize value gets a clear error, not a protocol error)");
        Require(RespMaxArguments >= 3, "resp.max-arguments must be >= 3");
        Require(RespMaxInlineBytes >= 64, "resp.max-inline-bytes must be >= 64");
        Require(RespMaxCommandBytes >= RespMaxBulkBytes, "resp.max-command-bytes must be at least resp.max-bulk-bytes");
        Require(RespMaxPipelined >= 1, "resp.max-pipelined must be >= 1");
        return this;
    }
}
