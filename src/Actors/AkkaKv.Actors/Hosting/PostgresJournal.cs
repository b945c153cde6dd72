using AkkaKv.Configuration;
using LinqToDB;
using Npgsql;

namespace AkkaKv.Hosting;

/// <summary>
/// A node's journal and snapshot store on a PostgreSQL server (<c>akka-kv.storage.journal =
/// postgresql</c>): one database per node, as SQLite has one file per node, because a replica
/// slot's persistence id is the same on whichever node holds it. The node creates its database at
/// start when it is missing; Akka.Persistence.Sql's auto-initialize then creates the tables.
/// </summary>
public static class PostgresJournal
{
    /// <summary>Where a node connects to create its database when the connection string names none.</summary>
    public const string MaintenanceDatabase = "postgres";

    /// <summary>
    /// The single-row table that records which node a database belongs to: a node never journals
    /// into another node's tables, even when two names sanitize to the same database name.
    /// </summary>
    public const string OwnerTable = "akkakv_node";

    /// <summary>
    /// The operator's connection string pointed at the node's own database, every session with
    /// <c>synchronous_commit = on</c>: the server makes a commit durable (as its own fsync settings
    /// say) before it answers, so a replica's ack always follows a durable commit, whatever
    /// <see cref="KvSettings.Durability"/> says or the server's default is.
    /// </summary>
    public static string NodeConnectionString(KvSettings settings)
    {
        var b = Parse(settings);
        b.Database = settings.PostgresDatabase;
        // Appended last: a later -c wins over an earlier one, including the operator's.
        b.Options = string.IsNullOrWhiteSpace(b.Options) ? "-c synchronous_commit=on" : b.Options + " -c synchronous_commit=on";
        if (string.IsNullOrEmpty(b.ApplicationName)) b.ApplicationName = "akkakv-" + settings.NodeName;
        return b.ConnectionString;
    }

    /// <summary>The journal's and snapshot store's connections: linq2db's PostgreSQL 15 provider (PostgreSQL 15 or newer) on the node's database.</summary>
    public static DataOptions DataOptions(KvSettings settings) =>
        new DataOptions().UseConnectionString(ProviderName.PostgreSQL15, NodeConnectionString(settings));

    /// <summary>Server, database and user, for messages: never the password.</summary>
    public static string Describe(KvSettings settings)
    {
        var b = Parse(settings);
        var port = b.Port == 0 ? NpgsqlConnection.DefaultPort : b.Port;
        return $"PostgreSQL server {b.Host ?? "(no Host)"}:{port}, database {settings.PostgresDatabase}, user {b.Username ?? "(default)"}";
    }

    /// <summary>
    /// Makes sure the node's database exists and belongs to this node, before the actor system
    /// starts: connects to it, creates it (through <see cref="MaintenanceDatabase"/>, or the
    /// connection string's Database) when the server says it does not exist, tolerating another
    /// process creating it at the same moment, then records or checks its owner. Fails with a
    /// <see cref="KvStorageException"/> naming the server (not the password) when the server cannot
    /// be reached, refuses the login or the creation: a node does not start without its journal.
    /// </summary>
    public static void EnsureDatabase(KvSettings settings)
    {
        var where = Describe(settings);
        try
        {
            using var connection = OpenNodeDatabase(settings);
            using var cmd = connection.CreateCommand();
            cmd.CommandText =
                $"CREATE TABLE IF NOT EXISTS {OwnerTable} (id int PRIMARY KEY CHECK (id = 1), node_name text NOT NULL);" +
                $"INSERT INTO {OwnerTable} (id, node_name) VALUES (1, @node) ON CONFLICT (id) DO NOTHING;" +
                $"SELECT node_name FROM {OwnerTable} WHERE id = 1;";
            cmd.Parameters.AddWithValue("node", settings.NodeName);
            var owner = (string?)cmd.ExecuteScalar();
            if (owner != settings.NodeName)
                throw new KvStorageException(
                    $"akka-kv: the journal database on the {where} belongs to node '{owner}', not to '{settings.NodeName}': every node needs a database of its own (set akka-kv.storage.postgresql.database)");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new KvStorageException($"akka-kv: the journal's user may not create the database or its tables on the {where}: grant it CREATEDB, or create the database owned by that user ({e.MessageText})", e);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new KvStorageException($"akka-kv: cannot open the journal on the {where}: {Reason(e)}", e);
        }
    }

    /// <summary>A connection to the node's own database, created first if the server says it does not exist.</summary>
    private static NpgsqlConnection OpenNodeDatabase(KvSettings settings)
    {
        var b = Parse(settings);
        var maintenance = string.IsNullOrEmpty(b.Database) ? MaintenanceDatabase : b.Database;
        // The start-up connections are not pooled: they are closed for good before the journal opens its own.
        b.Pooling = false;
        b.Database = settings.PostgresDatabase;
        var connection = new NpgsqlConnection(b.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            connection.Dispose();
        }
        b.Database = maintenance;
        using (var admin = new NpgsqlConnection(b.ConnectionString))
        {
            admin.Open();
            using var create = admin.CreateCommand();
            // The name is a validated plain identifier (KvSettings.IsValidPostgresDatabase); quoted all the same.
            create.CommandText = $"CREATE DATABASE \"{settings.PostgresDatabase}\"";
            try { create.ExecuteNonQuery(); }
            // Another process created it first: the duplicate error, or a unique violation on the catalog when both raced.
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation) { }
        }
        b.Database = settings.PostgresDatabase;
        connection = new NpgsqlConnection(b.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static NpgsqlConnectionStringBuilder Parse(KvSettings settings)
    {
        NpgsqlConnectionStringBuilder b;
        try { b = new NpgsqlConnectionStringBuilder(settings.PostgresConnectionString); }
        catch (ArgumentException e)
        {
            // The message names the bad keyword, never the string (it may hold a password).
            throw new KvSettingsException($"akka-kv: storage.postgresql.connection-string is not a valid Npgsql connection string: {e.Message}", e);
        }
        return string.IsNullOrWhiteSpace(b.Host)
            ? throw new KvSettingsException("akka-kv: storage.postgresql.connection-string names no Host (the PostgreSQL server, e.g. Host=127.0.0.1;Port=5432;Username=akkakv)")
            : b;
    }

    /// <summary>The exception's message and, when it wraps one, its root cause's (e.g. "Connection refused").</summary>
    private static string Reason(Exception e)
    {
        var root = e.GetBaseException();
        var text = e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : e.Message;
        return ReferenceEquals(root, e) || text.Contains(root.Message, StringComparison.Ordinal) ? text : $"{text} ({root.Message})";
    }
}

/// <summary>The node's journal store cannot be used (a PostgreSQL server that is down, refuses the login, or holds another node's journal): the node does not start.</summary>
public sealed class KvStorageException(string message, Exception? inner = null) : Exception(message, inner);
