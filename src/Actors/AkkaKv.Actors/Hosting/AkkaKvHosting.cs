using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.HintedHandoff;
using AkkaKv.Replica;
using AkkaKv.Resp;
using Akka.Event;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using LinqToDB;
using Microsoft.Data.Sqlite;

namespace AkkaKv.Hosting;

/// <summary>Registry key of the replica shard region.</summary>
public sealed class ReplicaRegion;

/// <summary>Registry key of the node's gateway actor.</summary>
public sealed class KvGateway;

/// <summary>Registry key of the node's hinted-handoff actor.</summary>
public sealed class KvHints;

/// <summary>Registry key of this node's <see cref="AntiEntropy.AntiEntropyActor"/>.</summary>
public sealed class KvAntiEntropy;

/// <summary>Registry key of this node's <see cref="Coordination.Courier"/>.</summary>
public sealed class KvCourier;

/// <summary>Wires one AkkaKv node into an Akka.Hosting builder: the Host process and the multi-node specs use exactly this.</summary>
public static class AkkaKvHosting
{
    public const string RegionName = "replica";

    /// <summary>The full HOCON of a node: the extra overrides, then node name and data dir, then the shipped defaults.</summary>
    public static Config NodeConfig(NodeOptions node) =>
        ConfigurationFactory.ParseString(node.ExtraHocon ?? "")
            .WithFallback(ConfigurationFactory.ParseString(
                $"akka-kv.node-name = \"{node.NodeName}\"\nakka-kv.data-dir = \"{node.DataDir.Replace("\\", "/")}\""))
            .WithFallback(ConfigurationFactory.ParseString(KvConfig.StoreHocon))
            .WithFallback(ConfigurationFactory.ParseString(KvConfig.ClusterHocon))
            .WithFallback(KvConfig.Serialization);

    public static string SqliteConnectionString(string dataDir) =>
        new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDir, "akkakv.db"), Pooling = true }.ToString();

    /// <summary>
    /// How long a connection of the journal or snapshot store waits inside SQLite for the file's
    /// write lock (SQLite's busy handler, which retries after 1, 2, 5, 10 ... ms). Without it
    /// Microsoft.Data.Sqlite sleeps 150 ms after every busy answer: with group commits, snapshot
    /// saves and post-snapshot deletes all writing one file, that sleep was the put tail
    /// (docs/performance.md, "SQLite's busy wait"). 10 s: the journal's circuit breaker fails a
    /// write after 10 s anyway.
    /// </summary>
    public const int SqliteBusyTimeoutMs = 10_000;

    /// <summary>
    /// The journal's and snapshot store's connections to the node's SQLite file: each connection,
    /// when it opens, gets the <c>synchronous</c> mode that gives <paramref name="durability"/> and
    /// the <see cref="SqliteBusyTimeoutMs"/> busy timeout (per-connection settings, so they cannot
    /// live in the file or the connection string).
    /// </summary>
    public static DataOptions SqliteDataOptions(string dataDir, StorageDurability durability)
    {
        var pragma = (durability == StorageDurability.PowerLoss ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;")
            + $" PRAGMA busy_timeout={SqliteBusyTimeoutMs};";
        return new DataOptions()
            .UseConnectionString(LinqToDB.ProviderName.SQLiteMS, SqliteConnectionString(dataDir))
            .UseAfterConnectionOpened(
                connection =>
                {
                    using var cmd = connection.CreateCommand();
                    cmd.CommandText = pragma;
                    cmd.ExecuteNonQuery();
                },
                async (connection, cancellation) =>
                {
                    await using var cmd = connection.CreateCommand();
                    cmd.CommandText = pragma;
                    await cmd.ExecuteNonQueryAsync(cancellation).ConfigureAwait(false);
                });
    }

    /// <summary>
    /// Creates the data dir, turns on SQLite's write-ahead log (a property of the file, so once
    /// is enough: WAL doubles journal throughput and keeps reads from blocking the writer), and
    /// makes the journal table with only the index the store reads through (<see cref="SqliteJournalSchema"/>).
    /// </summary>
    public static void PrepareSqlite(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        using var connection = new SqliteConnection(SqliteConnectionString(dataDir));
        connection.Open();
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA busy_timeout={SqliteBusyTimeoutMs};";
            cmd.ExecuteNonQuery();
        }
        SqliteJournalSchema.Prepare(connection);
    }

    /// <summary>
    /// Prepares the node's journal store and returns the connections to it, before the actor system
    /// starts, so that a store that cannot be used fails the start with its reason. The data dir is
    /// created either way (logs may live there).
    /// </summary>
    private static DataOptions JournalDataOptions(NodeOptions node, KvSettings settings)
    {
        switch (settings.Journal)
        {
            case JournalBackend.PostgreSql:
                Directory.CreateDirectory(node.DataDir);
                PostgresJournal.EnsureDatabase(settings);
                return PostgresJournal.DataOptions(settings);
            default:
                PrepareSqlite(node.DataDir);
                return SqliteDataOptions(node.DataDir, settings.Durability);
        }
    }

    /// <summary>
    /// The journal's provider name in its plugin config, beside the connections given as
    /// <see cref="DataOptions"/>. The plugin takes the connections from the options, but picks the
    /// statements that index its table (a unique index on persistence id and sequence number) by
    /// the configured provider name: without it (Akka.Hosting's <c>WithSqlPersistence(DataOptions)</c>
    /// leaves it empty) the table has no index, and every replay, highest-sequence-number read and
    /// delete of a replica scans the whole journal.
    /// </summary>
    public static Config JournalProviderHocon(DataOptions journal) =>
        ConfigurationFactory.ParseString(
            $"akka.persistence.journal.sql.provider-name = \"{journal.ConnectionOptions.ProviderName}\"");

    /// <summary>
    /// Whether the journal stores a writer id in every row (the plugin's <c>use-writer-uuid-column</c>):
    /// no. It would store its journal instance's GUID
    /// (32 characters) in every row, a sixth of what a 100-byte value's row holds beyond the value
    /// (docs/performance.md, "The journal's two unused indexes and its writer ids"). On replay it
    /// serves Akka.Persistence's replay filter, which tells apart two writers of one persistence id
    /// that wrote the same sequence numbers; the journal's unique index on (persistence id,
    /// sequence number) refuses such a second write, so there is nothing to tell apart. Rows of
    /// earlier builds keep their ids in the column (it stays, nullable); new rows leave it empty.
    /// </summary>
    public const bool JournalWriterIds = false;

    /// <summary>Where the node's journal is, for people: the SQLite file, or the PostgreSQL server and database (never a password).</summary>
    public static string DescribeJournal(NodeOptions node, KvSettings settings) =>
        settings.Journal == JournalBackend.PostgreSql
            ? PostgresJournal.Describe(settings)
            : "SQLite " + Path.GetFullPath(Path.Combine(node.DataDir, "akkakv.db"));

    /// <summary>
    /// Binds the node's RESP listener (a port in use fails the start) and closes it, and its
    /// connections, when the actor system shuts down, before the node leaves the cluster.
    /// </summary>
    private static void StartResp(ActorSystem system, NodeOptions node, KvSettings settings, IActorRef gateway, TimeProvider time, X509Certificate2? certificate)
    {
        var address = IPAddress.TryParse(node.Host, out var ip) ? ip : Dns.GetHostAddresses(node.Host)[0];
        var log = Logging.GetLogger(system, "resp");
        var server = RespServer.Start(new IPEndPoint(address, node.RespPort), settings, new GatewayBackend(gateway), log, time, certificate);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-resp-listener", async () =>
        {
            await server.DisposeAsync();
            return Akka.Done.Instance;
        });
    }

    /// <summary>
    /// First thing at shutdown, while the node still serves: a node that leaves the cluster (by
    /// <c>akkakv leave</c>, or stopped by SIGTERM) hands its hints to other members and pushes its
    /// replica slots to their peers (<see cref="NodeTimings.LeaveHandOver"/> at most), so that what
    /// only it holds is elsewhere before its slots are handed off. A node that was downed cannot
    /// reach anyone and skips it. Anti-entropy stops then: an exchange started while the shard
    /// regions hand their slots off only waits on slots that are moving (and made the last node's
    /// region time out its graceful stop, with warnings).
    /// </summary>
    private static void AddLeaveHandOver(ActorSystem system, IActorRef antiEntropy, IActorRef hints)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "leave-hand-over", async () =>
        {
            var self = Akka.Cluster.Cluster.Get(system).SelfMember;
            var leaving = shutdown.ShutdownReason is not CoordinatedShutdown.ClusterDowningReason
                          && self.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.Leaving;
            if (leaving)
            {
                var wait = NodeTimings.LeaveHandOver + TimeSpan.FromSeconds(5);
                try
                {
                    await Task.WhenAll(
                        antiEntropy.Ask<AntiEntropy.Drained>(new AntiEntropy.DrainForLeave(NodeTimings.LeaveHandOver), wait),
                        hints.Ask<HintsHandedOver>(new HandOverHints(), wait));
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
                {
                    Logging.GetLogger(system, "akka-kv").Warning("leaving: the hand-over of hints and replicas did not finish in {0}; anti-entropy on the other nodes repairs the rest", wait);
                }
            }
            try { await antiEntropy.GracefulStop(TimeSpan.FromSeconds(5)); }
            catch (TaskCanceledException) { }
            return Akka.Done.Instance;
        });
    }

    public static AkkaConfigurationBuilder WithAkkaKvNode(this AkkaConfigurationBuilder builder, NodeOptions node, TimeProvider? time = null)
    {
        var config = NodeConfig(node);
        var settings = KvSettings.FromConfig(config, out var deprecated);
        var journal = JournalDataOptions(node, settings);
        var clock = time ?? TimeProvider.System;
        var remoting = new RemoteOptions { HostName = node.Host, Port = node.Port, PublicHostName = node.PublicHost };
        var protocol = node.Protocol;
        // The certificate is checked at start whichever port uses it (or none yet): a bad file
        // stops the node here, not when a port first needs it.
        // Loaded once, for every port that uses them.
        var identity = settings.Tls ? Security.CertificateTrust.LoadIdentity(settings.TlsCertFile, settings.TlsKeyFile, "tls.cert-file", "tls.key-file") : null;
        var nodeCa = settings.RemoteTls ? Security.CertificateTrust.LoadCa(settings.TlsCaFile, "tls.ca-file") : null;
        if (settings.RemoteTls)
        {
            // Mutual TLS between nodes: this node's certificate both ways, peers only from the node CA.
            remoting.EnableSsl = true;
            builder.AddSetup(Security.RemoteTls.Setup(identity!, nodeCa!));
            protocol = Security.RemoteTls.Protocol;
        }
        return builder
            .AddHocon(config, HoconAddMode.Prepend)
            .AddHocon(JournalProviderHocon(journal), HoconAddMode.Prepend)
            .WithRemoting(remoting)
            .WithClustering(new ClusterOptions
            {
                Roles = [settings.NodeRole],
                SeedNodes = node.Seeds.Select(seed => NodeOptions.AddressOf(seed, protocol)).ToArray(),
            })
            // autoInitialize: the journal and the snapshot store each create their tables when missing.
            // No writer id in every row: see JournalWriterIds.
            .WithSqlPersistence(journal, autoInitialize: true, useWriterUuidColumn: JournalWriterIds)
            .WithActors(async (system, registry) =>
            {
                var log = Logging.GetLogger(system, "akka-kv");
                foreach (var warning in deprecated) log.Warning(warning);
                var sharding = ClusterSharding.Get(system);
                var region = await sharding.StartAsync(
                    RegionName,
                    entityId => ReplicaActor.PropsFor(settings, entityId, clock, () => sharding.ShardRegion(RegionName)),
                    ClusterShardingSettings.Create(system),
                    new SlotMessageExtractor(settings.PartitionCount, settings.ReplicationFactor),
                    new RingAllocationStrategy(settings),
                    StopReplica.Instance);
                registry.Register<ReplicaRegion>(region);
                var hints = system.ActorOf(HintedHandoffActor.PropsFor(settings, () => region, clock), NodeActors.Hints);
                registry.Register<KvHints>(hints);
                var antiEntropy = system.ActorOf(AntiEntropy.AntiEntropyActor.PropsFor(settings, region, clock), NodeActors.AntiEntropy);
                registry.Register<KvAntiEntropy>(antiEntropy);
                AddLeaveHandOver(system, antiEntropy, hints);
                // Started on every node (a peer at 1.4.0 or later sends it batches whatever this node's setting).
                var courier = system.ActorOf(Courier.PropsFor(region, settings.NodeName), NodeActors.Courier);
                registry.Register<KvCourier>(courier);
                var gateway = system.ActorOf(GatewayActor.PropsFor(settings, region, clock, settings.BatchPerNode ? courier : null), NodeActors.Gateway);
                registry.Register<KvGateway>(gateway);
                if (node.RespPort > 0) StartResp(system, node, settings, gateway, clock, identity);
                if (node.ClientPort > 0) ClientEndpoint.Start(system, node, settings, gateway, identity, nodeCa);
                // No seeds: this node starts a new cluster on its own.
                if (node.Seeds.Count == 0) Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress);
            });
    }
}
