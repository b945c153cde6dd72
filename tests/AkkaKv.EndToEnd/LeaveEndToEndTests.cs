using System.Collections.Concurrent;
using System.Diagnostics;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// <c>akkakv leave n4 --wait</c> on four real node processes under a steady load of W=2 puts and
/// R=2 gets through the other three: the CLI prints the transfers until n4 is gone and its slots
/// have caught up elsewhere, n4 exits by itself (exit code 0), no request fails (each may retry
/// once, as a real client does), and every acknowledged write reads back afterwards. Membership
/// commands through the CLI: down refuses a reachable node, and leave one that would leave
/// fewer than N members.
/// </summary>
public sealed class LeaveEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Leave_with_wait_moves_a_node_out_under_load_with_no_failed_request_and_no_lost_write()
    {
        await using var ctx = new ClusterTestContext(output, 4);
        ctx.StartAll();
        await ctx.WaitForMembersAsync("n1", ctx.Names, TimeSpan.FromSeconds(120));
        var stay = new[] { "n1", "n2", "n3" };
        await using var client = ctx.Client(stay);
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");

        // Data before the leave: 400 keys written once.
        var before = Enumerable.Range(0, 400).Select(i => $"before-{i}").ToList();
        await Parallel.ForEachAsync(before, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, _) =>
            await client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8("v-" + key), options: new RequestOptions(W: 2, Overwrite: true)));

        var refused = await ctx.CliRunAsync("down", "n2");
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("refused: n2 is reachable", refused.Stderr);

        // Steady load: 4 writers, each overwriting its own 25 keys in turn and reading each back.
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var acked = new ConcurrentDictionary<string, string>();
        var failures = new ConcurrentBag<string>();
        var latencies = new ConcurrentBag<double>();
        var retried = 0;
        async Task<T> OnceMoreAsync<T>(Func<Task<T>> call)
        {
            try { return await call(); }
            catch (Exception e) when (e is KvRequestException or KvUnavailableException)
            {
                Interlocked.Increment(ref retried);
                return await call();
            }
        }
        var load = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var key = $"load-{w}-{random.Next(25)}";
                var value = $"{w}-{round}";
                var clock = Stopwatch.StartNew();
                try
                {
                    await OnceMoreAsync(() => client.PutAsync(Bytes.FromUtf8(key), Bytes.FromUtf8(value), options: new RequestOptions(W: 2, Overwrite: true)));
                    acked[key] = value;
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
                    clock.Restart();
                    var read = await OnceMoreAsync(() => client.GetAsync(Bytes.FromUtf8(key), new RequestOptions(R: 2)));
                    latencies.Add(clock.Elapsed.TotalMilliseconds);
                    if (!read.Values.Any(v => v.ToUtf8() == value)) failures.Add($"{key}: read [{string.Join(",", read.Values)}] right after writing {value}");
                }
                catch (Exception e) when (e is KvRequestException or KvUnavailableException)
                {
                    failures.Add($"{key}: {e.Message}");
                }
                await Task.Delay(50);
            }
        })).ToList();

        var clock = Stopwatch.StartNew();
        var leave = await RedisTools.RunProcessAsync(output, "dotnet", "akkakv",
            [ClusterTestContext.CliDll(), "--nodes", string.Join(",", stay.Select(ctx.Endpoint)), "leave", "n4", "--wait", "--max-wait", "150"],
            TimeSpan.FromSeconds(170));
        var took = clock.Elapsed;
        Assert.True(leave.ExitCode == 0, $"leave --wait exited {leave.ExitCode}: {leave.Stdout}{leave.Stderr}");
        Assert.Contains("n4 is leaving", leave.Stdout);
        Assert.Contains("n4 left in", leave.Stdout);
        Assert.Contains("the cluster is settled", leave.Stdout);
        Assert.Equal(0, await ctx.WaitForExitAsync("n4", TimeSpan.FromSeconds(60)));
        stop.Cancel();
        await Task.WhenAll(load);

        var sorted = latencies.Order().ToList();
        output.WriteLine($"leave of n4 (of 4) with {before.Count + acked.Count} keys: {took.TotalSeconds:0.0} s; load during it: {sorted.Count} requests, " +
                         $"p50 {sorted[sorted.Count / 2]:0.0} ms, p99 {sorted[(int)(sorted.Count * 0.99)]:0.0} ms, max {sorted[^1]:0.0} ms, {retried} retried once, {failures.Count} failed");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));

        // Nothing acknowledged is lost: every key, read at R=3 from the three that stay.
        foreach (var key in before)
            Assert.Equal("v-" + key, Assert.Single((await client.GetAsync(Bytes.FromUtf8(key), new RequestOptions(R: 3))).Values).ToUtf8());
        // Each load key's last acknowledged write is what a plain GET returns (the newest sibling).
        // Two sequential blind writes can be siblings when the slot's coordinating replica changed
        // between them (the slot moved off n4) before the new one had received the earlier write:
        // both are kept (README, "SET"), and the later one is the pick.
        foreach (var (key, value) in acked)
        {
            var values = (await client.GetAsync(Bytes.FromUtf8(key), new RequestOptions(R: 3))).Values.Select(v => v.ToUtf8()).ToList();
            Assert.True(values.Count > 0 && values[^1] == value, $"{key}: read [{string.Join(", ", values)}], last acknowledged {value}");
            if (values.Count > 1) output.WriteLine($"{key}: siblings [{string.Join(", ", values)}] after the leave");
        }

        var tooFew = await ctx.CliRunAsync("leave", "n3");
        Assert.Equal(3, tooFew.ExitCode);
        Assert.Contains("fewer than N=3", tooFew.Stderr);
        var transfers = await ctx.CliRunAsync("transfers");
        Assert.Equal(0, transfers.ExitCode);
        Assert.Contains("none, the cluster is settled", transfers.Stdout);
    }
}
