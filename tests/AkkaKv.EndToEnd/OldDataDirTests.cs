using AkkaKv.Client;
using AkkaKv.Protocol;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// A node started on an old copy of its own data dir (a restored backup, a VM rolled back): its
/// journal holds its replica ids with counters older than the versions it minted after the copy,
/// which its peers still hold. Minting under those ids again would re-use counters, and a peer
/// that already holds a version with that counter drops the new write as one it has seen (Riak's
/// kv679 in its second form). Issue 13, item 7.
/// </summary>
public sealed class OldDataDirTests(ITestOutputHelper output)
{
    private const int Keys = 60;
    private static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(8));
    // A blind write that replaces what the key holds, as Redis's SET does (Overwrite).
    private static readonly RequestOptions Set = Quorum with { Overwrite = true };

    [Fact]
    public async Task A_node_restarted_on_an_old_copy_of_its_data_dir_loses_no_acknowledged_write_and_drops_no_version()
    {
        // Catch-up gives up at once (a peer's first answer takes longer than 1 ms), so the restored
        // node serves with what its old journal holds, as after a catch-up whose peers did not answer:
        // nothing relearns its counters from the peers before it mints again.
        await using var cluster = new ClusterTestContext(output, 3, "akka-kv.replica.catch-up-timeout = 1ms");
        cluster.StartAll();
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        await using var client = cluster.Client();
        var last = new Dictionary<string, string>();

        // Every key on every replica, n2's included.
        foreach (var key in Names())
        {
            await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8("v0"), options: Set with { W = 3 });
            last[key] = "v0";
        }

        // The backup: a consistent copy of n2's live journal.
        var backup = Path.Combine(cluster.Root, "n2-backup");
        Directory.CreateDirectory(backup);
        CopyDatabase(Path.Combine(cluster.DataDir("n2"), "akkakv.db"), Path.Combine(backup, "akkakv.db"));
        output.WriteLine($"copied n2's journal to {backup}");

        // Writing goes on: three SETs of every key, each acknowledged by two replicas. The
        // replicas on n2 coordinate a third of them, minting counters the backup does not have.
        foreach (var round in Enumerable.Range(1, 3))
            foreach (var key in Names())
            {
                await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8($"after-copy-{round}"), options: Set);
                last[key] = $"after-copy-{round}";
            }

        cluster.Kill("n2");
        Directory.Delete(cluster.DataDir("n2"), recursive: true);
        Directory.CreateDirectory(cluster.DataDir("n2"));
        File.Copy(Path.Combine(backup, "akkakv.db"), Path.Combine(cluster.DataDir("n2"), "akkakv.db"));
        output.WriteLine("restored n2's data dir from the copy");
        cluster.Start("n2");
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));

        // One more SET of every key, at once: the replicas on n2 coordinate a third of them
        // from their old journal.
        var failed = 0;
        foreach (var key in Names())
        {
            try
            {
                await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8("after-restore"), options: Set);
                last[key] = "after-restore";
            }
            catch (KvRequestException e)
            {
                // Not acknowledged: the key's last acknowledged write stays the one to find.
                failed++;
                output.WriteLine($"put {key} after the restore failed: {e.Message}");
            }
        }
        output.WriteLine($"{Keys - failed} of {Keys} puts after the restore acknowledged");
        Assert.True(failed < Keys / 2, $"{failed} of {Keys} puts after the restore failed");

        // Every acknowledged write reads back: each key's last acknowledged value is among the
        // values read, at R=2 (any two replicas) and at R=3 (every replica's answer merged).
        var withSiblings = 0;
        foreach (var (key, value) in last)
        {
            foreach (var r in new[] { 2, 3 })
            {
                var read = await client.GetAsync(Bytes.FromUtf8(key), Quorum with { R = r });
                Assert.True(read.Found, $"{key} not found at R={r}");
                Assert.True(read.Values.Contains(Bytes.FromUtf8(value)),
                    $"{key}: the last acknowledged write '{value}' is lost at R={r}; read [{string.Join(", ", read.Values.Select(v => v.ToUtf8()))}]");
                if (r == 3 && read.Values.Count > 1 && withSiblings++ < 5) output.WriteLine($"{key}: [{string.Join(", ", read.Values.Select(v => v.ToUtf8()))}] from {string.Join(", ", read.Replicas.Select(x => $"{x.Node}:{x.State}"))}");
            }
        }
        output.WriteLine($"{withSiblings} key(s) read back with siblings (the restored replica wrote without knowing the later versions)");

        // No version is dropped afterwards either: a write with each key's context replaces what
        // was read, on every replica.
        foreach (var key in Names())
        {
            var read = await client.GetAsync(Bytes.FromUtf8(key), Quorum with { R = 3 });
            await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8("resolved"), read.Context, Quorum with { W = 3 });
            var after = await client.GetAsync(Bytes.FromUtf8(key), Quorum with { R = 3 });
            Assert.Equal([Bytes.FromUtf8("resolved")], after.Values);
        }
    }

    private static IEnumerable<string> Names() => Enumerable.Range(0, Keys).Select(i => $"old-dir-{i}");

    /// <summary>A consistent copy of a live SQLite database (<c>VACUUM INTO</c>), as an online backup takes.</summary>
    private static void CopyDatabase(string source, string target)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = source, Pooling = false };
        using var connection = new SqliteConnection(cs.ToString());
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "VACUUM INTO $target";
        cmd.Parameters.AddWithValue("$target", target);
        cmd.ExecuteNonQuery();
    }
}
