using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaKv.Hosting;
using Npgsql;
using Xunit;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// How a node on <c>storage.journal = postgresql</c> connects, without a server: its own database,
/// a durable commit before every answer, no password in any message, and a clear, quick failure
/// when the server is not there. (The end-to-end tests run a cluster against a real PostgreSQL.)
/// </summary>
public sealed class PostgresJournalTests
{
    private static KvSettings OnPostgres(string connectionString, string extra = "", string node = "n1") =>
        KvSettings.FromConfig(DefaultNodeConfig(
            $"akka-kv.storage.journal = postgresql\nakka-kv.storage.postgresql.connection-string = \"{connectionString}\"\n{extra}", node));

    [Theory]
    [InlineData("akka-kv.storage.durability = process-crash")]
    [InlineData("akka-kv.storage.durability = power-loss")]
    public void Every_journal_session_commits_durably_in_the_nodes_own_database(string durability)
    {
        var settings = OnPostgres("Host=db.example;Port=5433;Username=kv;Password=s3cret;Database=maintenance_db", durability, node: "n2");
        var b = new NpgsqlConnectionStringBuilder(PostgresJournal.NodeConnectionString(settings));
        Assert.Equal("akkakv_n2", b.Database);
        Assert.Equal("db.example", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("kv", b.Username);
        Assert.Equal("s3cret", b.Password);
        Assert.Equal("-c synchronous_commit=on", b.Options);
        Assert.Equal("akkakv-n2", b.ApplicationName);
    }

    [Fact]
    public void The_operators_own_session_options_are_kept_and_cannot_turn_synchronous_commit_off()
    {
        var settings = OnPostgres("Host=db;Username=kv;Options=-c synchronous_commit=off -c statement_timeout=5000;Application Name=kv-eu");
        var b = new NpgsqlConnectionStringBuilder(PostgresJournal.NodeConnectionString(settings));
        // PostgreSQL applies -c options in order: the last one wins.
        Assert.Equal("-c synchronous_commit=off -c statement_timeout=5000 -c synchronous_commit=on", b.Options);
        Assert.Equal("kv-eu", b.ApplicationName);
    }

    [Fact]
    public void A_database_set_explicitly_is_where_the_journal_goes()
    {
        var settings = OnPostgres("Host=db;Username=kv", "akka-kv.storage.postgresql.database = kv_eu_n1");
        Assert.Equal("kv_eu_n1", new NpgsqlConnectionStringBuilder(PostgresJournal.NodeConnectionString(settings)).Database);
    }

    [Fact]
    public void The_journal_is_described_by_server_database_and_user_never_by_password()
    {
        var settings = OnPostgres("Host=db.example;Port=5433;Username=kv;Password=s3cret");
        Assert.Equal("PostgreSQL server db.example:5433, database akkakv_n1, user kv", PostgresJournal.Describe(settings));
        Assert.Equal("PostgreSQL server db.example:5432, database akkakv_n1, user kv",
            PostgresJournal.Describe(OnPostgres("Host=db.example;Username=kv;Password=s3cret")));
    }

    [Fact]
    public void A_connection_string_npgsql_cannot_read_is_refused_naming_the_setting_not_the_password()
    {
        var settings = OnPostgres("Hots=db;Username=kv;Password=s3cret");
        var e = Assert.Throws<KvSettingsException>(() => PostgresJournal.EnsureDatabase(settings));
        Assert.StartsWith("akka-kv: storage.postgresql.connection-string is not a valid Npgsql connection string", e.Message);
        Assert.Contains("hots", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    [Fact]
    public void A_connection_string_without_a_host_is_refused()
    {
        var e = Assert.Throws<KvSettingsException>(() => PostgresJournal.EnsureDatabase(OnPostgres("Username=kv;Password=s3cret")));
        Assert.Contains("names no Host", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    [Fact]
    public void A_server_that_is_not_there_fails_the_start_at_once_naming_it()
    {
        var port = ClosedLoopbackPort();
        var settings = OnPostgres($"Host=127.0.0.1;Port={port};Username=kv;Password=s3cret");
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<KvStorageException>(() => PostgresJournal.EnsureDatabase(settings));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        Assert.StartsWith($"akka-kv: cannot open the journal on the PostgreSQL server 127.0.0.1:{port}, database akkakv_n1, user kv: ", e.Message);
        Assert.Contains("refused", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
