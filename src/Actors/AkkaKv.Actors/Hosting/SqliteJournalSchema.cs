using Microsoft.Data.Sqlite;

namespace AkkaKv.Hosting;

/// <summary>
/// The journal table of the node's SQLite file, made before the actor system starts, with only the
/// index the store reads through.
/// <para>
/// Akka.Persistence.Sql creates its journal with three indexes: a unique one on (persistence id,
/// sequence number), which every replay, highest-sequence-number read and post-snapshot delete of
/// a replica goes through, and one each on <c>created</c> and on <c>sequence_number</c> alone, for
/// persistence queries the store never runs. Every journal row is an entry in each, and the
/// <c>sequence_number</c> one puts the rows of many replicas on pages all over its tree: on a
/// 3-node cluster under SET load the two doubled the bytes each node wrote per SET (43 KB against
/// 22 KB: write-ahead-log pages and their checkpoints) and cost about 12 % of the nodes' CPU per SET
/// (docs/performance.md, "The journal's two unused indexes and its writer ids").
/// </para>
/// <para>
/// The plugin creates its indexes with <c>CREATE INDEX IF NOT EXISTS</c> on every start, which
/// looks only at the name. So the file gets the two names as empty partial indexes (<c>WHERE 0</c>:
/// no row is ever an entry, and no query can use them) before the plugin runs, and the table (the
/// plugin's own statement, so that the indexes have something to be on) when it is missing. A file
/// from an earlier build has its two full indexes replaced the same way, its rows untouched.
/// </para>
/// </summary>
public static class SqliteJournalSchema
{
    /// <summary>Akka.Persistence.Sql 1.5's SQLite journal table, as its own <c>CREATE TABLE</c> makes it.</summary>
    private const string JournalTable = """
        CREATE TABLE IF NOT EXISTS [journal]
        (
        	[ordering]        INTEGER        NOT NULL PRIMARY KEY AUTOINCREMENT,
        	[created]         INTEGER        NOT NULL,
        	[deleted]         Bit            NOT NULL,
        	[persistence_id]  NVarChar(255)  NOT NULL,
        	[sequence_number] INTEGER        NOT NULL,
        	[message]         VarBinary      NOT NULL,
        	[manifest]        NVarChar(500)      NULL,
        	[identifier]      INTEGER            NULL,
        	[writer_uuid]     NVarChar(128)      NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS journal_uq ON journal (persistence_id, sequence_number);
        """;

    /// <summary>The plugin's indexes that the store never reads through, and the columns it puts them on.</summary>
    public static readonly IReadOnlyList<(string Name, string Column)> Unused =
        [("journal_created_idx", "created"), ("journal_sequence_number_idx", "sequence_number")];

    /// <summary>The empty stand-in for an unused index: no row matches <c>WHERE 0</c>.</summary>
    public static string EmptyIndex(string name, string column) => $"CREATE INDEX {name} ON journal ({column}) WHERE 0";

    /// <summary>
    /// Makes the journal table (when missing) with its unique index, and the two unused indexes as
    /// empty ones (replacing full ones an earlier build left), in one transaction.
    /// </summary>
    public static void Prepare(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, transaction, JournalTable);
        foreach (var (name, column) in Unused)
        {
            var empty = EmptyIndex(name, column);
            using var find = connection.CreateCommand();
            find.Transaction = transaction;
            find.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $name";
            find.Parameters.AddWithValue("$name", name);
            var existing = find.ExecuteScalar() as string;
            if (existing == empty) continue;
            if (existing is not null) Execute(connection, transaction, $"DROP INDEX {name}");
            Execute(connection, transaction, empty);
        }
        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
