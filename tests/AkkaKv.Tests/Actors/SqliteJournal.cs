using AkkaKv.Configuration;
using Akka.Configuration;
using Akka.Persistence.Sql;
using AkkaKv.Hosting;
using Microsoft.Data.Sqlite;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The node's journal for actor specs: Akka.Persistence.Sql on a SQLite file in a fresh temp dir,
/// events and snapshots through KvSerializer. Two ActorSystems given the same dir share the file,
/// as a node does across restarts.
/// </summary>
internal static class SqliteJournal
{
    public static string NewDataDir(string spec)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"akkakv-{spec}-" + Guid.NewGuid().ToString("N"));
        AkkaKvHosting.PrepareSqlite(dir);
        return dir;
    }

    /// <summary>
    /// Journal and snapshot store on <paramref name="dir"/>, with the store's serializer bindings,
    /// behind the node's group commit (<see cref="GroupCommitJournal"/>, <paramref name="linger"/>
    /// as the node's default unless given).
    /// </summary>
    public static Config Config(string dir, string linger = "2ms", int maxRows = 100)
    {
        var connection = AkkaKvHosting.SqliteConnectionString(dir).Replace("\"", "\\\"");
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  class = "{{typeof(GroupCommitJournal).AssemblyQualifiedName}}"
                  connection-string = "{{connection}}"
                  provider-name = "SQLite.MS"
                  auto-initialize = on
                  default.journal.use-writer-uuid-column = {{(AkkaKvHosting.JournalWriterIds ? "on" : "off")}}
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = "{{connection}}"
                  provider-name = "SQLite.MS"
                  auto-initialize = on
                }
              }
            }
            akka-kv.storage.group-commit { linger = {{linger}}, max-rows = {{maxRows}} }
            """)
            .WithFallback(KvConfig.Serialization)
            .WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <summary>
    /// A one-node cluster on loopback whose member carries node <paramref name="node"/>'s role,
    /// over the journal on <paramref name="dir"/>: for specs of actors that follow membership.
    /// </summary>
    public static Config OneNodeClusterConfig(string dir, string node) =>
        ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.roles = ["{{KvSettings.NodeRolePrefix}}{{node}}"]
            akka.loglevel = INFO
            """).WithFallback(Config(dir));

    /// <summary>One number from the file, e.g. a row count for <paramref name="persistenceId"/> (bound as <c>$pid</c>).</summary>
    public static long Scalar(string dir, string sql, string persistenceId)
    {
        using var connection = new SqliteConnection(AkkaKvHosting.SqliteConnectionString(dir));
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$pid", persistenceId);
        return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static void DeleteDataDir(string dir)
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { /* best effort: a temp dir */ }
        catch (UnauthorizedAccessException) { }
    }
}
