using AkkaKv.Merkle;
using Akka.Configuration;
using AkkaKv.Configuration;
using AkkaKv.Hosting;
using Xunit;

namespace AkkaKv.Tests.Core;

public sealed class KvSettingsTests
{
    [Fact]
    public void A_node_started_with_only_a_name_and_data_dir_gets_every_documented_default()
    {
        var s = KvSettings.FromConfig(AkkaKvHosting.NodeConfig(new NodeOptions { NodeName = "n1", DataDir = "/tmp/x" }));
        Assert.Equal("n1", s.NodeName);
        Assert.Equal("/tmp/x", s.DataDir);
        Assert.Equal(256, s.PartitionCount);
        Assert.Equal(128, s.VirtualNodesPerNode);
        Assert.Equal(3, s.ReplicationFactor);
        Assert.Equal(2, s.DefaultR);
        Assert.Equal(2, s.DefaultW);
        Assert.True(s.DefaultSloppy);
        Assert.Equal(TimeSpan.FromSeconds(5), s.RequestTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), s.CoordinatingReplicaTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), s.ReadRepairWindow);
        Assert.Equal(1024, s.MaxKeyBytes);
        Assert.Equal(1048576, s.MaxValueBytes);
        Assert.Equal(64, s.MaxSiblings);
        Assert.Equal(8388608, s.MaxBytesPerKey);
        Assert.Equal(4 * 1024 * 1024, s.MaxRepairReplyBytes);
        Assert.Equal(1000, s.SnapshotEvery);
        Assert.Equal(StorageDurability.ProcessCrash, s.Durability);
        Assert.Equal(TimeSpan.FromMilliseconds(2), s.GroupCommitLinger);
        Assert.Equal(100, s.GroupCommitMaxRows);
        Assert.Equal(JournalBackend.Sqlite, s.Journal);
        Assert.Equal("", s.PostgresConnectionString);
        Assert.Equal("akkakv_n1", s.PostgresDatabase);
        Assert.Equal(TimeSpan.FromSeconds(3), s.CatchUpTimeout);
        Assert.Equal(256, s.CatchUpMaxKeys);
        Assert.Equal(64, s.MaxSlotsPerRebalance);
        Assert.Equal(TimeSpan.FromSeconds(1), s.ReplicaAckTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), s.PlacementRefreshInterval);
        Assert.Equal(100000, s.HintsMaxPerTarget);
        Assert.Equal(64, s.HintsReplayWindow);
        Assert.Equal(TimeSpan.FromSeconds(2), s.HintsReplayInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), s.HintsReplayTimeout);
        Assert.Equal(1000, s.HintsSnapshotEvery);
        Assert.Equal(10000, s.RespMaxConnections);
        Assert.Equal(4 * 1024 * 1024, s.RespMaxBulkBytes);
        Assert.Equal(16384, s.RespMaxArguments);
        Assert.Equal(64 * 1024, s.RespMaxInlineBytes);
        Assert.Equal(16 * 1024 * 1024, s.RespMaxCommandBytes);
        Assert.Equal(1024, s.RespMaxPipelined);
        Assert.Equal(KvSettings.NodeRolePrefix + "n1", s.NodeRole);
    }

    [Fact]
    public void Extra_hocon_overrides_the_defaults()
    {
        var s = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(
            "akka-kv.ring.partitions = 16\nakka-kv.request.timeout = 300ms\nakka-kv.request.coordinating-replica-timeout = 100ms\nakka-kv.request.sloppy = off"));
        Assert.Equal(16, s.PartitionCount);
        Assert.Equal(TimeSpan.FromMilliseconds(300), s.RequestTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(100), s.CoordinatingReplicaTimeout);
        Assert.False(s.DefaultSloppy);
        Assert.Equal(3, s.ReplicationFactor);
    }

    [Fact]
    public void A_windows_data_dir_is_given_with_forward_slashes()
    {
        var s = KvSettings.FromConfig(AkkaKvHosting.NodeConfig(new NodeOptions { NodeName = "n1", DataDir = @"C:\data\n1" }));
        Assert.Equal("C:/data/n1", s.DataDir);
    }

    [Theory]
    [InlineData("akka-kv.request.w = 4", "request.w")]
    [InlineData("akka-kv.request.w = 0", "request.w")]
    [InlineData("akka-kv.request.r = 4", "request.r")]
    [InlineData("akka-kv.ring.partitions = 100", "ring.partitions")]
    [InlineData("akka-kv.ring.partitions = 1", "ring.partitions")]
    [InlineData("akka-kv.ring.virtual-nodes = 0", "ring.virtual-nodes")]
    [InlineData("akka-kv.replication.n = 0", "replication.n")]
    [InlineData("akka-kv.request.timeout = 0s", "request.timeout")]
    [InlineData("akka-kv.request.coordinating-replica-timeout = 10s", "request.coordinating-replica-timeout")]
    [InlineData("akka-kv.limits.max-key-bytes = 0", "limits.max-key-bytes")]
    [InlineData("akka-kv.limits.max-value-bytes = -1", "limits.max-value-bytes")]
    [InlineData("akka-kv.limits.max-repair-reply-bytes = 0", "limits.max-repair-reply-bytes")]
    [InlineData("akka-kv.replica.snapshot-every = 0", "replica.snapshot-every")]
    [InlineData("akka-kv.sharding.max-slots-per-rebalance = 0", "sharding.max-slots-per-rebalance")]
    [InlineData("akka-kv.request.replica-ack-timeout = 0s", "request.replica-ack-timeout")]
    [InlineData("akka-kv.request.placement-refresh-interval = 0s", "request.placement-refresh-interval")]
    [InlineData("akka-kv.hints.max-per-target = 0", "hints.max-per-target")]
    [InlineData("akka-kv.hints.replay-window = 0", "hints.replay-window")]
    [InlineData("akka-kv.hints.replay-interval = 0s", "hints.replay-interval")]
    [InlineData("akka-kv.hints.replay-timeout = 0s", "hints.replay-timeout")]
    [InlineData("akka-kv.hints.snapshot-every = 0", "hints.snapshot-every")]
    [InlineData("akka-kv.resp.max-connections = 0", "resp.max-connections")]
    [InlineData("akka-kv.resp.max-bulk-bytes = 1000", "resp.max-bulk-bytes")]
    [InlineData("akka-kv.resp.max-arguments = 2", "resp.max-arguments")]
    [InlineData("akka-kv.resp.max-inline-bytes = 10", "resp.max-inline-bytes")]
    [InlineData("akka-kv.resp.max-command-bytes = 1000", "resp.max-command-bytes")]
    [InlineData("akka-kv.resp.max-pipelined = 0", "resp.max-pipelined")]
    [InlineData("akka-kv.storage.group-commit.linger = 101ms", "storage.group-commit.linger")]
    [InlineData("akka-kv.storage.group-commit.max-rows = 0", "storage.group-commit.max-rows")]
    [InlineData("akka-kv.storage.group-commit.max-rows = 10001", "storage.group-commit.max-rows")]
    public void An_invalid_setting_stops_the_node_with_a_message_naming_the_key(string hocon, string key)
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(hocon)));
        Assert.Contains(key, e.Message);
        Assert.StartsWith("akka-kv: ", e.Message);
    }

    [Theory]
    [InlineData("akka-kv.request.read-repair-window = -1s", "request.read-repair-window")]
    [InlineData("akka-kv.request.timeout = soon", "request.timeout")]
    [InlineData("akka-kv.storage.group-commit.linger = -1ms", "storage.group-commit.linger")]
    [InlineData("akka-kv.request.w = two", "request.w")]
    public void A_value_that_does_not_parse_stops_the_node_with_a_message_naming_the_key(string hocon, string key)
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(hocon)));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void W_greater_than_N_is_refused_naming_both()
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.request.w = 4")));
        Assert.Equal("akka-kv: request.w must be in [1, N=3], got 4", e.Message);
    }

    [Fact]
    public void A_remoting_frame_that_cannot_hold_N_times_max_bytes_per_key_is_refused_and_the_default_holds_it()
    {
        var defaults = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig());
        Assert.Equal(32L * 1024 * 1024, defaults.RemoteFrameBytes);
        Assert.True(defaults.RemoteFrameBytes >= defaults.ReplicationFactor * (long)defaults.MaxBytesPerKey + KvSettings.FrameMarginBytes);

        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka.remote.dot-netty.tcp.maximum-frame-size = 16 MiB")));
        Assert.StartsWith("akka-kv: akka.remote.dot-netty.tcp.maximum-frame-size (16777216 bytes) must hold replication.n x limits.max-bytes-per-key (3 x 8388608) plus 1 MiB", e.Message);
        // Lowering the per-key limit instead is enough.
        var lower = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka.remote.dot-netty.tcp.maximum-frame-size = 16 MiB\nakka-kv.limits.max-bytes-per-key = 4194304"));
        Assert.Equal(4194304, lower.MaxBytesPerKey);
    }

    [Fact]
    public void A_tree_shape_over_2_to_the_20_leaves_is_refused_at_start()
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.anti-entropy.tree-fanout = 1024\nakka-kv.anti-entropy.tree-depth = 3")));
        Assert.StartsWith("akka-kv: anti-entropy.tree-fanout ^ anti-entropy.tree-depth must be at most 2^20 leaves (1024^3 is more)", e.Message);
        Assert.Equal(1 << 20, MerkleShape.Of(KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.anti-entropy.tree-fanout = 1024\nakka-kv.anti-entropy.tree-depth = 2"))).LeafCount);
    }

    [Fact]
    public void A_partition_count_that_is_not_a_power_of_two_is_refused()
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.ring.partitions = 100")));
        Assert.Equal("akka-kv: ring.partitions must be a power of two >= 2, got 100", e.Message);
    }

    [Fact]
    public void A_node_without_a_name_is_refused()
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(nodeName: "")));
        Assert.Contains("node-name", e.Message);
    }

    [Theory]
    [InlineData("n 1")]
    [InlineData("n/1")]
    [InlineData("n:1")]
    [InlineData("n,1")]
    public void A_node_name_with_a_separator_character_is_refused(string name)
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(nodeName: name)));
        Assert.Contains("node-name", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void A_config_without_the_akka_kv_section_is_refused()
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(ConfigurationFactory.ParseString("akka.loglevel = INFO")));
        Assert.Contains("akka-kv", e.Message);
    }

    [Fact]
    public void The_shipped_defaults_set_no_deprecated_key()
    {
        KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(), out var warnings);
        Assert.Empty(warnings);
    }

    [Theory]
    [InlineData("akka-kv.replica.sync-timeout = 750ms", "replica.sync-timeout", "replica.catch-up-timeout")]
    [InlineData("akka-kv.replica.sync-page-keys = 17", "replica.sync-page-keys", "replica.catch-up-max-keys")]
    public void A_config_in_the_field_that_still_sets_a_renamed_key_keeps_working_with_a_warning_naming_the_new_key(string hocon, string old, string renamed)
    {
        var s = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(hocon), out var warnings);
        if (old.EndsWith("timeout")) Assert.Equal(TimeSpan.FromMilliseconds(750), s.CatchUpTimeout);
        else Assert.Equal(17, s.CatchUpMaxKeys);
        var warning = Assert.Single(warnings);
        Assert.Contains($"akka-kv.{old} is deprecated", warning);
        Assert.Contains($"akka-kv.{renamed}", warning);
    }

    [Fact]
    public void A_renamed_key_is_read_under_its_new_name_and_validated_under_the_name_used()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1), KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.replica.catch-up-timeout = 1ms")).CatchUpTimeout);
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.replica.sync-page-keys = 0")));
        Assert.Contains("catch-up-max-keys must be >= 1", e.Message);
    }

    private const string OnPostgres = "akka-kv.storage.journal = postgresql\nakka-kv.storage.postgresql.connection-string = \"Host=127.0.0.1;Port=5432;Username=akkakv\"";

    [Fact]
    public void A_node_on_postgresql_keeps_its_journal_in_a_database_named_after_it()
    {
        var s = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(OnPostgres, nodeName: "n2"), out var warnings);
        Assert.Equal(JournalBackend.PostgreSql, s.Journal);
        Assert.Equal("Host=127.0.0.1;Port=5432;Username=akkakv", s.PostgresConnectionString);
        Assert.Equal("akkakv_n2", s.PostgresDatabase);
        Assert.Empty(warnings);
    }

    [Fact]
    public void A_database_set_explicitly_is_used_as_it_is()
    {
        var s = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(OnPostgres + "\nakka-kv.storage.postgresql.database = kv_eu_west_n2"));
        Assert.Equal("kv_eu_west_n2", s.PostgresDatabase);
    }

    [Theory]
    [InlineData("n1", "akkakv_n1")]
    [InlineData("N1", "akkakv_n1")]
    [InlineData("node-1.eu", "akkakv_node_1_eu")]
    [InlineData("db_7", "akkakv_db_7")]
    [InlineData("nœud", "akkakv_n_ud")]
    [InlineData("1", "akkakv_1")]
    public void The_default_database_is_the_node_name_made_a_plain_identifier(string nodeName, string database)
    {
        Assert.Equal(database, KvSettings.DefaultPostgresDatabase(nodeName));
        Assert.True(KvSettings.IsValidPostgresDatabase(database));
        Assert.Equal(database, KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(OnPostgres, nodeName: nodeName)).PostgresDatabase);
    }

    [Theory]
    [InlineData("akka-kv.storage.journal = postgres", "storage.journal must be sqlite or postgresql, got 'postgres'")]
    [InlineData("akka-kv.storage.journal = SQLite", "storage.journal must be sqlite or postgresql, got 'SQLite'")]
    [InlineData("akka-kv.storage.journal = \"\"", "storage.journal must be sqlite or postgresql, got ''")]
    [InlineData("akka-kv.storage.journal = postgresql", "storage.postgresql.connection-string must be set when storage.journal = postgresql")]
    [InlineData("akka-kv.storage.journal = postgresql\nakka-kv.storage.postgresql.connection-string = \"  \"", "storage.postgresql.connection-string must be set when storage.journal = postgresql")]
    public void A_journal_setting_that_cannot_work_stops_the_node_naming_the_key_and_what_it_takes(string hocon, string message)
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(hocon)));
        Assert.StartsWith("akka-kv: ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.IsType<KvSettingsException>(e.InnerException);
    }

    [Theory]
    [InlineData("Akkakv_N1")]
    [InlineData("akkakv-n1")]
    [InlineData("1akkakv")]
    [InlineData("akkakv n1")]
    [InlineData("akkakv;drop")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    [InlineData("template1")]
    [InlineData("postgres")]
    public void A_database_name_that_is_no_plain_identifier_of_its_own_is_refused_naming_it(string database)
    {
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(OnPostgres + $"\nakka-kv.storage.postgresql.database = \"{database}\"")));
        Assert.Contains("storage.postgresql.database", e.Message);
        Assert.Contains($"'{database}'", e.Message);
    }

    [Fact]
    public void A_node_name_too_long_for_the_default_database_asks_for_the_database_to_be_set()
    {
        var name = new string('n', 60);
        var e = Assert.Throws<ConfigurationException>(() => KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(OnPostgres, nodeName: name)));
        Assert.Contains($"storage.postgresql.database 'akkakv_{name}'", e.Message);
        Assert.Contains("set it explicitly", e.Message);
        // The same name is fine for a node on SQLite, which never uses the database name.
        Assert.Equal(JournalBackend.Sqlite, KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(nodeName: name)).Journal);
    }

    [Fact]
    public void A_connection_string_for_a_node_on_sqlite_is_reported_as_unused()
    {
        var s = KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig("akka-kv.storage.postgresql.connection-string = \"Host=db\""), out var warnings);
        Assert.Equal(JournalBackend.Sqlite, s.Journal);
        var warning = Assert.Single(warnings);
        Assert.Contains("akka-kv.storage.postgresql.connection-string is set but akka-kv.storage.journal = sqlite", warning);
    }
}
