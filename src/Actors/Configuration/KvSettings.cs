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
    public required int SnapshotEvery { get; init; }
    public required int MaxSlotsPerRebalance { get; init; }

    public const string Section = "akka-kv";

    /// <summary>The role that carries a member's stable node name: <c>kv-node-{name}</c>.</summary>
    public const string NodeRolePrefix = "kv-node-";

    public string NodeRole => NodeRolePrefix + NodeName;

    public static KvSettings FromConfig(Config root)
    {
        var c = root.GetConfig(Section) ?? throw new ConfigurationException($"missing HOCON section '{Section}'");
        var s = new KvSettings
        {
            NodeName = c.GetString("node-name", ""),
            DataDir = c.GetString("data-dir", "data"),
            PartitionCount = c.GetInt("ring.partitions"),
            VirtualNodesPerNode = c.GetInt("ring.virtual-nodes"),
            ReplicationFactor = c.GetInt("replication.n"),
            DefaultR = c.GetInt("request.r"),
            DefaultW = c.GetInt("request.w"),
            DefaultSloppy = c.GetBoolean("request.sloppy"),
            RequestTimeout = c.GetTimeSpan("request.timeout"),
            CoordinatingReplicaTimeout = c.GetTimeSpan("request.coordinating-replica-timeout"),
            ReadRepairWindow = c.GetTimeSpan("request.read-repair-window"),
            MaxKeyBytes = c.GetInt("limits.max-key-bytes"),
            MaxValueBytes = c.GetInt("limits.max-value-bytes"),
            SnapshotEvery = c.GetInt("replica.snapshot-every"),
            MaxSlotsPerRebalance = c.GetInt("sharding.max-slots-per-rebalance"),
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
        Require(SnapshotEvery >= 1, "replica.snapshot-every must be >= 1");
        Require(MaxSlotsPerRebalance >= 1, "sharding.max-slots-per-rebalance must be >= 1");
        return this;
    }
}
