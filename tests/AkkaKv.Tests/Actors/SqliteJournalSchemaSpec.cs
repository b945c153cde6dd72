using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Hosting;
using AkkaKv.Replica;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The node's SQLite journal is indexed only by replica (persistence id, sequence number): the
/// plugin's indexes on <c>created</c> and on <c>sequence_number</c> alone are there by name but
/// empty, on a fresh file after the plugin has run and on a file an earlier build made. Its rows
/// carry no writer id.
/// </summary>
public sealed class SqliteJournalSchemaSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _dir;
    private readonly KvSettings _settings = DefaultSettings();
    /// <summary>The persistence id of slot 10/0's replica, the one the first spec writes.</summary>
    private const string Replica = "replica-10-0";

    public SqliteJournalSchemaSpec(ITestOutputHelper output) : this(SqliteJournal.NewDataDir("journal-schema"), output) { }

    private SqliteJournalSchemaSpec(string dir, ITestOutputHelper output)
        : base(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(SqliteJournal.Config(dir)), "journal-schema", output) => _dir = dir;

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteJournal.DeleteDataDir(_dir);
    }

    [Fact]
    public void A_fresh_file_keeps_only_the_replica_index_after_the_journal_plugin_has_created_its_own()
    {
        var replica = Sys.ActorOf(ReplicaActor.PropsFor(_settings, "10/0", TimeProvider.System));
        for (var i = 0; i < 40; i++)
        {
            replica.Tell(new ReplicaPut(i + 1, B($"k{i}"), B($"v{i}"), null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), TestActor);
            ExpectMsg<ReplicaPutDone>(Wait);
        }

        var indexes = Indexes(_dir);
        Assert.Equal("CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number)", indexes["journal_uq"]);
        foreach (var (name, column) in SqliteJournalSchema.Unused)
            Assert.Equal($"CREATE INDEX {name} ON journal ({column}) WHERE 0", indexes[name]);
        // The replica's incarnation, then a row per put (those before its snapshot may be deleted since; the last never is).
        Assert.Equal(41, SqliteJournal.Scalar(_dir, "SELECT max(sequence_number) FROM journal WHERE persistence_id = $pid", Replica));
        Assert.Equal(0, SqliteJournal.Scalar(_dir, "SELECT count(*) FROM journal WHERE writer_uuid IS NOT NULL", Replica));
        // The replica's own rows are found through the unique index, not a scan of the table.
        Assert.Contains("USING INDEX journal_uq", Plan(_dir, "SELECT * FROM journal WHERE persistence_id = 'replica-10-0' AND sequence_number >= 1"));

        // It recovers from them.
        this.StopAndAwaitTermination(replica, Wait);
        var again = Sys.ActorOf(ReplicaActor.PropsFor(_settings, "10/0", TimeProvider.System));
        again.Tell(new ReplicaRead(1, B("k39")));
        Assert.Equal(["v39"], ExpectMsg<ReplicaReadResult>(Wait).Siblings.ValuesOldestFirst.Select(v => v.ToUtf8()));
    }

    [Fact]
    public void A_file_an_earlier_build_indexed_fully_has_the_two_unused_indexes_emptied_and_keeps_its_rows()
    {
        var dir = Path.Combine(Path.GetTempPath(), "akkakv-journal-schema-old-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // What the plugin made before: its table, its three indexes, rows in all of them.
            Execute(dir, """
                CREATE TABLE [journal] ([ordering] INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, [created] INTEGER NOT NULL,
                  [deleted] Bit NOT NULL, [persistence_id] NVarChar(255) NOT NULL, [sequence_number] INTEGER NOT NULL,
                  [message] VarBinary NOT NULL, [manifest] NVarChar(500) NULL, [identifier] INTEGER NULL, [writer_uuid] NVarChar(128) NULL);
                CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number);
                CREATE INDEX journal_created_idx ON journal (created);
                CREATE INDEX journal_sequence_number_idx ON journal (sequence_number);
                INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES
                  (1, 0, 'replica-1-0', 1, x'01'), (2, 0, 'replica-1-0', 2, x'02'), (3, 0, 'replica-2-1', 1, x'03');
                """);

            AkkaKvHosting.PrepareSqlite(dir);
            var first = Indexes(dir);
            AkkaKvHosting.PrepareSqlite(dir);
            Assert.Equal(first, Indexes(dir));

            foreach (var (name, column) in SqliteJournalSchema.Unused)
                Assert.Equal($"CREATE INDEX {name} ON journal ({column}) WHERE 0", first[name]);
            Assert.Equal("CREATE UNIQUE INDEX journal_uq ON journal (persistence_id, sequence_number)", first["journal_uq"]);
            Assert.Equal(3, SqliteJournal.Scalar(dir, "SELECT count(*) FROM journal", "replica-1-0"));
            Assert.Equal(2, SqliteJournal.Scalar(dir, "SELECT max(sequence_number) FROM journal WHERE persistence_id = $pid", "replica-1-0"));
            Assert.Equal("ok", Scalar(dir, "PRAGMA integrity_check"));
        }
        finally
        {
            SqliteJournal.DeleteDataDir(dir);
        }
    }

    private static Dictionary<string, string> Indexes(string dir)
    {
        using var connection = Open(dir);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal' AND sql IS NOT NULL";
        using var reader = cmd.ExecuteReader();
        var indexes = new Dictionary<string, string>();
        while (reader.Read()) indexes[reader.GetString(0)] = reader.GetString(1);
        return indexes;
    }

    private static string Plan(string dir, string query)
    {
        using var connection = Open(dir);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "EXPLAIN QUERY PLAN " + query;
        using var reader = cmd.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read()) plan.Add(reader.GetString(3));
        return string.Join("; ", plan);
    }

    private static object? Scalar(string dir, string sql)
    {
        using var connection = Open(dir);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static void Execute(string dir, string sql)
    {
        using var connection = Open(dir);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static SqliteConnection Open(string dir)
    {
        var connection = new SqliteConnection(AkkaKvHosting.SqliteConnectionString(dir));
        connection.Open();
        return connection;
    }
}
