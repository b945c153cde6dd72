using System.Diagnostics;
using System.Text.Json;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// The live dashboard (issue 14, item 4) in a real browser: Debian's chromium, headless, loads n1's
/// page against a live 3-node cluster under load and reads what a person would see: the members
/// and their reachability, the ring of replica slots, request rate and p99. Then n3 is killed
/// (kill -9) and the page, refreshing by itself, shows it unreachable and its slots dimmed.
/// With <c>AKKAKV_SCREENSHOTS=&lt;dir&gt;</c> the test saves the two views there as
/// <c>dashboard-healthy.png</c> and <c>dashboard-n3-unreachable.png</c> (docs/ holds the ones of a run).
/// The cluster is the one the RESP and HTTP tests share (<see cref="RespClusterCollection"/>):
/// n3 is started again at the end and the test waits until every member is Up and every slot
/// placed, so that the tests after it find the cluster whole.
/// </summary>
[Collection(RespClusterCollection.Name)]
public sealed class DashboardTests
{
    private static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(8));

    private readonly ClusterTestContext _cluster;
    private readonly ITestOutputHelper _output;
    // The cluster is shared: this class writes keys of its own.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public DashboardTests(RespClusterFixture fixture, ITestOutputHelper output)
    {
        fixture.Output.Attach(output);
        _cluster = fixture.Cluster;
        _output = output;
    }

    /// <summary>What the test reads off the page: the DOM hooks the dashboard documents (data-node, data-reachable, ...).</summary>
    private const string ReadPage = """
        (() => {
          const put = document.querySelector('#requests tr[data-operation="put"]');
          const slots = [...document.querySelectorAll('#ring .slot')];
          return {
            polls: Number(document.body.dataset.polls ?? 0),
            error: document.body.dataset.statusError ?? null,
            members: Object.fromEntries([...document.querySelectorAll('#members tr[data-node]')].map(r => [r.dataset.node, r.dataset.reachable === 'true'])),
            slots: slots.length,
            unowned: slots.filter(s => !s.dataset.owner).length,
            owners: [...new Set(slots.map(s => s.dataset.owner).filter(o => o))].sort(),
            dimmed: slots.filter(s => s.classList.contains('down')).length,
            onN3: slots.filter(s => s.dataset.owner === 'n3').length,
            putRate: put ? Number(put.children[1].textContent) : 0,
            putP99: put ? put.children[3].textContent : null,
            antiEntropyRows: document.querySelectorAll('#antiEntropy tr[data-anti-entropy]').length,
            hintRows: document.querySelectorAll('#hints tr[data-hints]').length,
          };
        })()
        """;

    private sealed record PageState(int Polls, string? Error, Dictionary<string, bool> Members, int Slots, int Unowned, string[] Owners,
        int Dimmed, int OnN3, double PutRate, string? PutP99, int AntiEntropyRows, int HintRows)
    {
        public override string ToString() =>
            $"polls {Polls}, error {Error ?? "none"}, members [{string.Join(", ", Members.Select(m => $"{m.Key}:{(m.Value ? "reachable" : "unreachable")}"))}], "
            + $"slots {Slots} (unowned {Unowned}, owners {string.Join("/", Owners)}, dimmed {Dimmed}, on n3 {OnN3}), put {PutRate}/s p99 {PutP99}, "
            + $"anti-entropy rows {AntiEntropyRows}, hint rows {HintRows}";
    }

    [Fact]
    public async Task Dashboard_in_headless_chromium_shows_the_cluster_and_then_a_killed_node_turn_unreachable()
    {
        var cluster = _cluster;
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        await using var client = cluster.Client("n1");
        var status = await client.StatusAsync();
        var totalSlots = status.Partitions * status.ReplicationFactor;

        await using var browser = await HeadlessChromium.StartAsync(_output, 1400, 1200, TimeSpan.FromSeconds(60));
        await browser.NavigateAsync(new Uri(cluster.HttpBase("n1"), "/"), TimeSpan.FromSeconds(30));

        // Load through n1 (the page shows the requests its node coordinates), until the end.
        using var stopLoad = new CancellationTokenSource();
        var load = Task.Run(() => LoadAsync(client, _run, stopLoad.Token));
        var killed = false;
        try
        {
            // Healthy: three reachable members, every slot on one of them, requests moving.
            var healthy = await WaitForPageAsync(browser, "all three members reachable, the ring full and puts counted",
                s => s.Error is null && s.Members.Count == 3 && s.Members.Values.All(r => r) && s.Slots == totalSlots && s.Unowned == 0
                     && s.PutRate > 0 && s.PutP99 is not (null or "—") && s.AntiEntropyRows == 3 && s.HintRows > 0,
                TimeSpan.FromSeconds(60));
            Assert.Equal(["n1", "n2", "n3"], healthy.Owners);
            Assert.Equal(0, healthy.Dimmed);
            Assert.True(healthy.OnN3 > 0, healthy.ToString());
            await SaveScreenshotAsync(browser, "dashboard-healthy.png");

            // kill -9 n3: the page, refreshing by itself, shows it unreachable and its slots dimmed.
            var killedAt = Stopwatch.StartNew();
            cluster.Kill("n3");
            killed = true;
            var down = await WaitForPageAsync(browser, "n3 unreachable",
                s => s.Members.GetValueOrDefault("n3", true) == false,
                TimeSpan.FromSeconds(60));
            _output.WriteLine($"the page showed n3 unreachable {killedAt.Elapsed.TotalSeconds:0.0} s after the kill");

            // ... and keeps working from n1: more refreshes, n1 and n2 still reachable, n3's slots
            // (they stay on an unreachable node) drawn dimmed.
            var after = await WaitForPageAsync(browser, "two more refreshes with n3 unreachable",
                s => s.Polls >= down.Polls + 2 && s.Error is null && s.Members.GetValueOrDefault("n3", true) == false && s.OnN3 > 0 && s.Dimmed == s.OnN3,
                TimeSpan.FromSeconds(30));
            Assert.True(after.Members["n1"] && after.Members["n2"], after.ToString());
            Assert.Equal(totalSlots, after.Slots);
            await SaveScreenshotAsync(browser, "dashboard-n3-unreachable.png");
        }
        catch (Exception) when (killed)
        {
            // Failed with n3 down: start it again all the same, so that this failure does not fail
            // the tests after this one on the shared cluster too.
            cluster.Start("n3");
            throw;
        }
        finally
        {
            await stopLoad.CancelAsync();
            var (ok, failed) = await load;
            _output.WriteLine($"load through n1: {ok} requests succeeded, {failed} failed");
        }

        // The tests after this one on the shared cluster find it whole: n3 back, every member Up, every slot placed.
        var back = Stopwatch.StartNew();
        cluster.Start("n3");
        foreach (var n in cluster.Names) await cluster.WaitForMembersAsync(n, cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        _output.WriteLine($"n3 started again; the cluster settled {back.Elapsed.TotalSeconds:0.0} s later");
    }

    /// <summary>Puts and gets at W=2/R=2 until stopped; a failure (n3 just died) is counted, not thrown.</summary>
    private static async Task<(int Ok, int Failed)> LoadAsync(IKvClient client, string run, CancellationToken stop)
    {
        int ok = 0, failed = 0;
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var key = Bytes.FromUtf8($"{run}:dash-{i % 500}");
            try
            {
                await client.PutAsync(key, Bytes.FromUtf8($"v{i}"), options: Quorum, cancellationToken: stop);
                await client.GetAsync(key, Quorum, stop);
                ok += 2;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e) when (e is KvRequestException or KvUnavailableException or TimeoutException) { failed++; }
        }
        return (ok, failed);
    }

    /// <summary>Reads the page every 250 ms until <paramref name="done"/> holds; fails naming what was awaited and the last page seen.</summary>
    private async Task<PageState> WaitForPageAsync(HeadlessChromium browser, string what, Func<PageState, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        PageState? last = null;
        while (clock.Elapsed < timeout)
        {
            var value = await browser.EvaluateAsync(ReadPage);
            last = value.Deserialize<PageState>(new JsonSerializerOptions(JsonSerializerDefaults.Web));
            if (last is not null && done(last))
            {
                _output.WriteLine($"page after {clock.Elapsed.TotalSeconds:0.0} s ({what}): {last}");
                return last;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the dashboard did not show {what} within {timeout.TotalSeconds:0} s; last seen: {last?.ToString() ?? "nothing"}");
    }

    private async Task SaveScreenshotAsync(HeadlessChromium browser, string name)
    {
        var png = await browser.ScreenshotAsync();
        Assert.True(png.Length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', $"{name}: not a PNG ({png.Length} bytes)");
        var dir = Environment.GetEnvironmentVariable("AKKAKV_SCREENSHOTS");
        if (string.IsNullOrEmpty(dir))
        {
            _output.WriteLine($"{name}: {png.Length} bytes (set AKKAKV_SCREENSHOTS=<dir> to keep it)");
            return;
        }
        Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(Path.Combine(dir, name), png);
        _output.WriteLine($"saved {Path.Combine(dir, name)} ({png.Length} bytes)");
    }
}
