using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// The node's HTTP port on a live 3-node cluster (issue 14, items 2 and 3): <c>/health/live</c>,
/// <c>/health/ready</c> (Up, every slot placed, none catching up), and a Prometheus scrape of
/// <c>/metrics</c> whose request counters move under load. The cluster is the one the RESP tests
/// share (<see cref="RespClusterCollection"/>): its nodes have HTTP ports too.
/// </summary>
[Collection(RespClusterCollection.Name)]
public sealed class HttpEndpointTests
{
    private static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(8));

    private readonly ClusterTestContext _cluster;
    private readonly ITestOutputHelper _output;
    // The cluster is shared: this class writes keys of its own.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public HttpEndpointTests(RespClusterFixture fixture, ITestOutputHelper output)
    {
        fixture.Output.Attach(output);
        _cluster = fixture.Cluster;
        _output = output;
    }

    [Fact]
    public async Task Health_answers_live_and_ready_and_a_scrape_during_load_shows_the_request_metrics_move()
    {
        var cluster = _cluster;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        // Live while the actor system runs.
        var live = await PollAsync(http, new Uri(cluster.HttpBase("n1"), "/health/live"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        Assert.Equal("Healthy", JsonDocument.Parse(live.Body).RootElement.GetProperty("status").GetString());

        // Ready once every member is Up and every slot is placed and caught up; not ready before.
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        var ready = await PollAsync(http, new Uri(cluster.HttpBase("n1"), "/health/ready"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(120));
        var readyCheck = JsonDocument.Parse(ready.Body).RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "akkakv-ready");
        Assert.Equal("Healthy", readyCheck.GetProperty("status").GetString());

        // A scrape, load, a second scrape: the request counters moved by at least the requests made.
        var before = Parse(await GetAsync(http, new Uri(cluster.HttpBase("n1"), "/metrics")));
        await using var client = cluster.Client("n1");
        const int puts = 40;
        for (var i = 0; i < puts; i++) await client.PutAsync(Bytes.FromUtf8($"{_run}:metrics-{i}"), Bytes.FromUtf8("v"), options: Quorum);
        for (var i = 0; i < puts; i++) Assert.True((await client.GetAsync(Bytes.FromUtf8($"{_run}:metrics-{i}"), Quorum)).Found);
        var invalid = await Assert.ThrowsAsync<KvRequestException>(() => client.PutAsync(Bytes.FromUtf8($"{_run}:metrics-bad"), Bytes.FromUtf8("v"), options: Quorum with { W = 4 }));
        Assert.Contains("W=4 is invalid", invalid.Message);
        // The request counters are recorded before the reply leaves, so the first scrape after the load shows
        // them; n1's own replica may journal a write after the W=2 quorum answered, so scrape again (within a
        // deadline) until its journal count has caught up too.
        Dictionary<string, double> after = [];
        var scrapeDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        do after = Parse(await GetAsync(http, new Uri(cluster.HttpBase("n1"), "/metrics")));
        while (Delta("akkakv_journal_write_duration_seconds_count") < puts && DateTime.UtcNow < scrapeDeadline && await Pause());

        static async Task<bool> Pause() { await Task.Delay(200); return true; }
        double Delta(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);
        string Series(string op, string outcome) => $"akkakv_request_duration_seconds_count{{akkakv_operation=\"{op}\",akkakv_outcome=\"{outcome}\"}}";
        _output.WriteLine(string.Join("\n", after.Where(kv => kv.Key.StartsWith("akkakv_", StringComparison.Ordinal) && !kv.Key.Contains("_bucket")).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(Delta(Series("put", "ok")) >= puts, $"put ok moved by {Delta(Series("put", "ok"))}");
        Assert.True(Delta(Series("get", "ok")) >= puts, $"get ok moved by {Delta(Series("get", "ok"))}");
        Assert.True(Delta(Series("put", "invalid")) >= 1, $"put invalid moved by {Delta(Series("put", "invalid"))}");
        Assert.True(Delta("akkakv_read_siblings_count") >= puts, "siblings per read recorded");
        Assert.True(Delta("akkakv_journal_write_duration_seconds_count") >= puts, "journal writes timed");
        // The ring's slots per node (N x Q = 3 x partitions over three nodes) and the hint gauge.
        var slots = after.Where(kv => kv.Key.StartsWith("akkakv_slots{", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, slots.Count);
        Assert.All(slots, s => Assert.True(s.Value > 0, s.Key));
        Assert.Contains("akkakv_hints_held", after.Keys);
    }

    [Fact]
    public async Task A_node_whose_HTTP_port_is_taken_stops_at_start_naming_the_port()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var dataDir = Path.Combine(Path.GetTempPath(), "akkakv-http-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var run = await RedisTools.RunProcessAsync(_output, "dotnet", "akkakv-node",
                [ClusterTestContext.HostDll(), "--name", "n1", "--port", "0", "--http-port", port.ToString(), "--data-dir", dataDir], TimeSpan.FromSeconds(60));
            Assert.Equal(1, run.ExitCode);
            Assert.Contains($"failed to start: the HTTP port (--http-port): Failed to bind to address http://127.0.0.1:{port}: address already in use", run.Stderr);
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }

    private sealed record HttpAnswer(HttpStatusCode Status, string Body);

    private static async Task<HttpAnswer> PollAsync(HttpClient http, Uri uri, Func<HttpAnswer, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        HttpAnswer? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(uri);
                last = new HttpAnswer(response.StatusCode, await response.Content.ReadAsStringAsync());
                if (done(last)) return last;
            }
            catch (HttpRequestException) { }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{uri} did not answer as expected within {timeout.TotalSeconds:0} s; last: {last?.Status} {last?.Body}");
    }

    private static async Task<string> GetAsync(HttpClient http, Uri uri)
    {
        using var response = await http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Prometheus text: each sample line's series (name and labels, without otel_scope labels) and value.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            // name{labels} value [timestamp], or name value [timestamp]
            var brace = line.IndexOf('{');
            var space = line.IndexOf(' ');
            var end = brace >= 0 && (space < 0 || brace < space) ? line.IndexOf('}', brace) + 1 : space;
            if (end <= 0) continue;
            var series = Regex.Replace(line[..end], @",?otel_scope_[a-z_]+=""[^""]*""", "").Replace("{,", "{").Replace("{}", "");
            var valueText = line[end..].Trim().Split(' ')[0];
            if (double.TryParse(valueText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
                samples[series] = samples.GetValueOrDefault(series) + value;
        }
        return samples;
    }
}
