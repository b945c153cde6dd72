using Akka.Configuration;
using AkkaKv.Versioning;

namespace AkkaKv.Configuration;

/// <summary>
/// Reads <see cref="KvSettings"/> from the <c>akka-kv</c> HOCON section: the node's edge, where
/// HOCON is known. Every key and its default is in <c>hocon/akka-kv.conf</c>. A missing or invalid
/// value fails with a <see cref="ConfigurationException"/> naming the key.
/// </summary>
public static class KvSettingsHocon
{
    /// <summary>
    /// Keys renamed in place, with the key that replaces them. A config in the field that still
    /// sets an old key keeps working: its value is used (the shipped defaults never set an old
    /// key, so it can only be the operator's), and the node logs a warning naming the new key.
    /// </summary>
    public static readonly IReadOnlyList<(string Old, string New)> DeprecatedKeys =
    [
        ("replica.sync-timeout", "replica.catch-up-timeout"),
        ("replica.sync-page-keys", "replica.catch-up-max-keys"),
    ];

    /// <summary>akka.remote's largest frame, checked against <see cref="KvSettings.MaxBytesPerKey"/> (see <see cref="KvSettings.RemoteFrameBytes"/>).</summary>
    public const string FrameSizeKey = "akka.remote.dot-netty.tcp.maximum-frame-size";

    extension(KvSettings)
    {
        /// <summary>The settings in <paramref name="root"/>'s <c>akka-kv</c> section, validated.</summary>
        public static KvSettings FromConfig(Config root) => FromConfig(root, out _);

        /// <summary>The keys of <c>security.context-keys-file</c>, or the public development key when none is set.</summary>
        private static CausalContext LoadContextKeys(string file)
        {
            if (string.IsNullOrEmpty(file)) return CausalContext.Development;
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KvSettingsException($"akka-kv: security.context-keys-file '{file}' cannot be read: {e.Message}");
            }
            try { return new CausalContext(ContextKeysFile.Parse(text, $"security.context-keys-file '{file}'")); }
            catch (FormatException e) { throw new KvSettingsException($"akka-kv: {e.Message}"); }
        }

        /// <summary>As <see cref="FromConfig(Config)"/>; <paramref name="warnings"/> names every deprecated key in use, and a PostgreSQL connection string set for a node whose journal is not PostgreSQL.</summary>
        public static KvSettings FromConfig(Config root, out IReadOnlyList<string> warnings)
        {
            var c = root.GetConfig(KvSettings.Section) ?? throw new ConfigurationException($"missing HOCON section '{KvSettings.Section}'");
            var warningList = new List<string>();
            // The key to read for a setting: its deprecated name when a config still sets that.
            string Key(string key)
            {
                foreach (var (old, replacement) in DeprecatedKeys)
                    if (replacement == key && c.HasPath(old))
                    {
                        warningList.Add($"akka-kv.{old} is deprecated: rename it to akka-kv.{replacement} (its value is used until then)");
                        return old;
                    }
                return key;
            }
            T Read<T>(string name, Func<string, T> read)
            {
                var key = Key(name);
                try { return read(key); }
                catch (Exception e) when (e is not ConfigurationException and not KvSettingsException)
                {
                    throw new ConfigurationException($"akka-kv.{key}: '{c.GetString(key, "")}' is not a valid value ({e.Message})");
                }
            }
            var nodeName = c.GetString("node-name", "");
            var postgresDatabase = c.GetString("storage.postgresql.database", "");
            // A KvSettingsException (a value the core refuses: Validate, or a parser of the core's
            // own) becomes the ConfigurationException every bad setting is, its message unchanged.
            KvSettings s;
            try { s = Build().Validate(); }
            catch (KvSettingsException e) { throw new ConfigurationException(e.Message, e); }
            if (s.Journal != JournalBackend.PostgreSql && !string.IsNullOrWhiteSpace(s.PostgresConnectionString))
                warningList.Add($"akka-kv.storage.postgresql.connection-string is set but akka-kv.storage.journal = {c.GetString("storage.journal")}: it is not used (set storage.journal = postgresql, or --journal postgresql, to keep the journal in PostgreSQL)");
            warnings = warningList;
            return s;

            KvSettings Build() => new()
            {
                NodeName = nodeName,
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
                BatchPerNode = Read("request.batch-per-node", k => c.GetBoolean(k)),
                MaxKeyBytes = Read("limits.max-key-bytes", k => c.GetInt(k)),
                MaxValueBytes = Read("limits.max-value-bytes", k => c.GetInt(k)),
                MaxSiblings = Read("limits.max-siblings", k => c.GetInt(k)),
                MaxBytesPerKey = Read("limits.max-bytes-per-key", k => c.GetInt(k)),
                MaxRequestsInFlight = Read("limits.max-requests-in-flight", k => c.GetInt(k)),
                MaxRepairReplyBytes = Read("limits.max-repair-reply-bytes", k => c.GetInt(k)),
                RemoteFrameBytes = root.HasPath(FrameSizeKey) ? root.GetByteSize(FrameSizeKey) ?? 0 : 0,
                SnapshotEvery = Read("replica.snapshot-every", k => c.GetInt(k)),
                Durability = Read("storage.durability", k => c.GetString(k) switch
                {
                    "process-crash" => StorageDurability.ProcessCrash,
                    "power-loss" => StorageDurability.PowerLoss,
                    var other => throw new FormatException($"expected process-crash or power-loss, got '{other}'"),
                }),
                GroupCommitLinger = Read("storage.group-commit.linger", k => c.GetTimeSpan(k)),
                GroupCommitMaxRows = Read("storage.group-commit.max-rows", k => c.GetInt(k)),
                Journal = Read("storage.journal", k => KvSettings.ParseJournal(c.GetString(k))),
                PostgresConnectionString = c.GetString("storage.postgresql.connection-string", ""),
                PostgresDatabase = string.IsNullOrEmpty(postgresDatabase) ? KvSettings.DefaultPostgresDatabase(nodeName) : postgresDatabase,
                CatchUpTimeout = Read("replica.catch-up-timeout", k => c.GetTimeSpan(k)),
                CatchUpMaxKeys = Read("replica.catch-up-max-keys", k => c.GetInt(k)),
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
                RespRequirePass = c.GetString("resp.requirepass", ""),
                RespMaxReplyBytes = Read("resp.max-reply-bytes", k => c.GetInt(k)),
                RespMaxOutputBufferBytes = Read("resp.max-output-buffer-bytes", k => c.GetInt(k)),
                RespIdleTimeout = Read("resp.idle-timeout", k => c.GetTimeSpan(k)),
                ContextKeysFile = c.GetString("security.context-keys-file", ""),
                TlsCertFile = c.GetString("tls.cert-file", ""),
                TlsKeyFile = c.GetString("tls.key-file", ""),
                TlsCaFile = c.GetString("tls.ca-file", ""),
                TlsClientCaFile = c.GetString("tls.client-ca-file", ""),
                Contexts = LoadContextKeys(c.GetString("security.context-keys-file", "")),
            };
        }
    }
}
