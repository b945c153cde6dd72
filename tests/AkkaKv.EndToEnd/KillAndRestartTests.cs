using System.Collections.Concurrent;
using System.Diagnostics;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Kill -9 of one node of three and its restart, with the journal in each node's SQLite file (the
/// default), on the cluster the RESP and HTTP tests share (<see cref="RespClusterCollection"/>):
/// it ends with n2 back, every member Up and every slot placed, as it found the cluster.
/// </summary>
[Collection(RespClusterCollection.Name)]
public sealed class KillAndRestartTests : KillAndRestartScenario
{
    private readonly ClusterTestContext _cluster;

    public KillAndRestartTests(RespClusterFixture fixture, ITestOutputHelper output) : base(output)
    {
        fixture.Output.Attach(output);
        _cluster = fixture.Cluster;
    }

    [Fact]
    public async Task A_killed_node_does_not_stop_quorum_reads_and_writes_and_comes_back_with_its_data() =>
        await KilledNodeKeepsServiceAndComesBackWithItsDataAsync(_cluster);
}

/// <summary>The same kill -9 and restart, every node's journal in its own database on a real PostgreSQL server.</summary>
[Collection(PostgresCollection.Name)]
public sealed class KillAndRestartOnPostgresTests(ITestOutputHelper output, PostgresServer postgres) : KillAndRestartScenario(output)
{
    [Fact]
    public async Task A_killed_node_journaling_to_postgresql_does_not_stop_quorum_reads_and_writes_and_comes_back_with_its_data()
    {
        await using var cluster = new ClusterTestContext(Output, 3, postgres: postgres);
        cluster.StartAll();
        await KilledNodeKeepsServiceAndComesBackWithItsDataAsync(cluster);

        // Each node journals to a database of its own on the server, and to no SQLite file.
        Assert.Equal(cluster.Names.Select(ClusterTestContext.DatabaseOf), await postgres.DatabasesAsync("akkakv_"));
        foreach (var n in cluster.Names)
        {
            var rows = await postgres.JournalRowsAsync(ClusterTestContext.DatabaseOf(n));
            Output.WriteLine($"{ClusterTestContext.DatabaseOf(n)}: {rows} journal rows");
            Assert.True(rows > 0, $"{n}'s database holds no journal rows");
            Assert.True(Directory.Exists(cluster.DataDir(n)), $"{n}'s data dir was not created");
            Assert.Empty(Directory.GetFiles(cluster.DataDir(n), "akkakv.db*"));
        }
    }
}

/// <summary>
/// Writes, kill -9 of n2, writes and reads meanwhile (one through a client whose first node is
/// the dead one), restart, then every acknowledged write read back and n2's recovered replicas
/// checked: the same body, equally strict, on either journal. The cluster's nodes are started
/// (the cluster may be shared: the keys carry a run id of their own).
/// </summary>
public abstract class KillAndRestartScenario(ITestOutputHelper output)
{
    private static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(8));
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    protected ITestOutputHelper Output { get; } = output;

    private string Key(string name) => $"{_run}:{name}";

    protected async Task KilledNodeKeepsServiceAndComesBackWithItsDataAsync(ClusterTestContext cluster)
    {
        var output = Output;
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));

        await using var client = cluster.Client();
        var acknowledged = new ConcurrentDictionary<string, string>();

        // Before the fault: W=3, so every replica (n2's included) holds these durably.
        foreach (var i in Enumerable.Range(0, 40))
        {
            var key = Key($"before-{i}");
            await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8($"v-{i}"), options: Quorum with { W = 3 });
            acknowledged[key] = $"v-{i}";
        }

        cluster.Kill("n2");

        // What n2 acknowledged is in its own journal (SQLite file or database), as kill -9 left it.
        var journal = await cluster.JournalBlobsAsync("n2");
        foreach (var i in Enumerable.Range(0, 40))
            Assert.True(journal.Any(blob => ClusterTestContext.MentionsKey(blob, Key($"before-{i}"))), $"n2's journal lacks {Key($"before-{i}")}");
        // A replica finds its own rows through an index, not by reading the whole journal (its
        // recovery, and its deletes after every snapshot, would otherwise grow with all the data).
        var lookup = await cluster.JournalLookupByReplicaAsync("n2");
        output.WriteLine($"n2's journal, one replica's rows: {lookup}");
        if (cluster.Postgres is null) Assert.Contains("USING INDEX", lookup);
        else Assert.Contains("UNIQUE INDEX journal_uq ON public.journal USING btree (persistence_id, sequence_number)", lookup);
        if (cluster.Postgres is null)
        {
            // Only that index holds entries, and rows carry no writer id (docs/performance.md,
            // "The journal's two unused indexes and its writer ids").
            var (withWriterId, indexes) = await cluster.SqliteJournalLayoutAsync("n2");
            Assert.Equal(0, withWriterId);
            Assert.Equal(["journal_created_idx", "journal_sequence_number_idx", "journal_uq"], indexes.Keys.Order());
            Assert.EndsWith("WHERE 0", indexes["journal_created_idx"]);
            Assert.EndsWith("WHERE 0", indexes["journal_sequence_number_idx"]);
        }
        await using var survivors = cluster.Client("n1", "n3");
        var sw = Stopwatch.StartNew();
        var failures = 0;
        foreach (var batch in Enumerable.Range(0, 60).Chunk(10))
        {
            await Task.WhenAll(batch.Select(async i =>
            {
                var key = Key($"during-{i}");
                try
                {
                    await survivors.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8($"d-{i}"), options: Quorum);
                    acknowledged[key] = $"d-{i}";
                }
                catch (KvRequestException e)
                {
                    Interlocked.Increment(ref failures);
                    output.WriteLine($"put {key} failed: {e.Message}");
                }
            }));
        }
        output.WriteLine($"60 puts at W=2 with n2 down took {sw.ElapsedMilliseconds} ms, {failures} failed");
        Assert.Equal(0, failures);

        // A client whose first endpoint is the dead node fails over to a live one.
        await using (var failover = cluster.Client("n2", "n1", "n3"))
        {
            var put = await failover.PutAsync(Bytes.FromUtf8(Key("failover")), Bytes.FromUtf8("f"), options: Quorum);
            Assert.NotEqual(cluster.Endpoint("n2"), put.ServedBy);
            acknowledged[Key("failover")] = "f";
        }
        foreach (var i in Enumerable.Range(0, 40))
        {
            var r = await survivors.GetAsync(Bytes.FromUtf8(Key($"before-{i}")), Quorum);
            Assert.Contains(Bytes.FromUtf8($"v-{i}"), r.Values);
        }

        cluster.Start("n2");
        await cluster.WaitForMembersAsync("n2", cluster.Names.ToList(), TimeSpan.FromSeconds(90));

        // n2 serves what it had acknowledged (recovered from its journal, and caught up from its
        // peers for what it missed). Each key is checked with its first R=3 read that n2 answers,
        // before any read of that key could have repaired n2: n2 must answer with exactly the
        // current version, not not-found or stale.
        var deadline = Stopwatch.StartNew();
        var pending = acknowledged.Keys.Where(k => k.StartsWith(Key("before-"), StringComparison.Ordinal)).ToHashSet();
        while (pending.Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            foreach (var key in pending.ToList())
            {
                KvGetResult r;
                try { r = await client.GetAsync(Bytes.FromUtf8(key), new RequestOptions(R: 3, Timeout: TimeSpan.FromSeconds(3))); }
                catch (KvRequestException) { continue; }
                var fromN2 = r.Replicas.Where(x => x.Node == "n2").ToList();
                if (fromN2.Count == 0) continue;
                Assert.All(fromN2, x => Assert.Equal(ReplicaReadState.Current, x.State));
                pending.Remove(key);
            }
            if (pending.Count > 0) await Task.Delay(1000);
        }
        Assert.True(pending.Count == 0, $"n2 never answered for: {string.Join(", ", pending)}");

        // Every acknowledged write is readable at R=2.
        foreach (var (key, value) in acknowledged)
        {
            var r = await client.GetAsync(Bytes.FromUtf8(key), Quorum);
            Assert.True(r.Found, $"acknowledged key {key} not found");
            Assert.Contains(Bytes.FromUtf8(value), r.Values);
        }

        // The CLI against the restarted cluster: its verbs and output lines are a public interface.
        var cliKey = Key("cli-key");
        var cliPut = await cluster.CliAsync("put", cliKey, "cli-value", "--w", "2");
        Assert.Equal(0, cliPut.ExitCode);
        Assert.Contains("OK acks: ", cliPut.Output);
        var get = await cluster.CliAsync("get", cliKey, "--r", "2");
        Assert.Equal(0, get.ExitCode);
        Assert.Contains("value: cli-value", get.Output);
        Assert.Contains("siblings: 1", get.Output);
        var context = get.Output.Split('\n').Single(l => l.StartsWith("context: ", StringComparison.Ordinal))["context: ".Length..].Trim();
        var replace = await cluster.CliAsync("put", cliKey, "replaced", "--context", context);
        Assert.Equal(0, replace.ExitCode);
        var delete = await cluster.CliAsync("delete", cliKey);
        Assert.Equal(0, delete.ExitCode);
        var gone = await cluster.CliAsync("get", cliKey);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("(not found)", gone.Output);
        var bad = await cluster.CliAsync("put", cliKey, "x", "--w", "4");
        Assert.Equal(3, bad.ExitCode);
        Assert.Contains("W=4 is invalid", bad.Output);
        var status = await cluster.CliAsync("status");
        Assert.Equal(0, status.ExitCode);
        foreach (var n in cluster.Names) Assert.Contains($"  {n} ", status.Output);
        Assert.DoesNotContain("UNREACHABLE", status.Output);
        // status --json: the same facts, machine-readable.
        var json = await cluster.CliRunAsync("status", "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        var members = doc.RootElement.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(cluster.Names.OrderBy(n => n), members.Select(m => m.GetProperty("node").GetString()!).OrderBy(n => n));
        Assert.All(members, m => Assert.True(m.GetProperty("reachable").GetBoolean()));
        Assert.All(members, m => Assert.Equal("Up", m.GetProperty("status").GetString()));
        Assert.Equal(3, doc.RootElement.GetProperty("ring").GetProperty("replicationFactor").GetInt32());
    }
}
