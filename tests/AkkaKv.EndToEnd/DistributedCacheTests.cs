using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// .NET's standard distributed cache, <c>IDistributedCache</c> from
/// Microsoft.Extensions.Caching.StackExchangeRedis (registered with <c>AddStackExchangeRedisCache</c>),
/// unchanged, against the shared 3-node cluster (<see cref="RespClusterCollection"/>). It stores an
/// entry as a hash (fields absexp, sldexp, data) written with HSET and EXPIRE, reads it with HMGET,
/// slides a sliding expiration with EXPIRE on every read, and removes it with UNLINK. Each cache
/// instance talks to one node; what one writes, the others read. The second test kills n3 with
/// kill -9 in the middle and restarts it: it ends with n3 back and the cluster settled.
/// </summary>
[Collection(RespClusterCollection.Name)]
public sealed class DistributedCacheTests : IDisposable
{
    private readonly ClusterTestContext _cluster;
    private readonly ITestOutputHelper _output;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<ServiceProvider> _providers = [];

    public DistributedCacheTests(RespClusterFixture fixture, ITestOutputHelper output)
    {
        fixture.Output.Attach(output);
        _cluster = fixture.Cluster;
        _output = output;
    }

    public void Dispose()
    {
        foreach (var p in _providers) p.Dispose();
    }

    /// <summary>The cache as an application gets it: from the service collection, configured with one node's RESP endpoint.</summary>
    private IDistributedCache Cache(string node)
    {
        var services = new ServiceCollection();
        services.AddStackExchangeRedisCache(options =>
        {
            options.Configuration = $"{_cluster.RespEndpoint(node)},abortConnect=false";
            options.InstanceName = $"{_run}:";
        });
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredService<IDistributedCache>();
    }

    private RedisCli Cli(string node) => new(_output, _cluster.RespPorts[node]);

    private static byte[] Data(string text) => Encoding.UTF8.GetBytes(text);

    private static async Task UntilAsync(string what, Func<Task<bool>> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within {timeout.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Set_get_refresh_remove_and_expiry_work_across_the_nodes()
    {
        IDistributedCache n1 = Cache("n1"), n2 = Cache("n2"), n3 = Cache("n3");
        var absolute = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) };

        // Absolute expiration: written through n1, read through every node; stored as Redis stores it.
        await n1.SetAsync("abs", Data("absolute"), absolute);
        foreach (var cache in new[] { n1, n2, n3 }) Assert.Equal(Data("absolute"), await cache.GetAsync("abs"));
        Assert.Equal(new CliStatus("hash"), await Cli("n2").CallAsync("TYPE", $"{_run}:abs"));
        var fields = Assert.IsType<CliArray>(await Cli("n3").CallAsync("HKEYS", $"{_run}:abs"));
        Assert.Equal(["absexp", "data", "sldexp"], fields.Elements.Select(f => Assert.IsType<CliBulk>(f).Value));
        Assert.InRange(Assert.IsType<CliInteger>(await Cli("n1").CallAsync("TTL", $"{_run}:abs")).Value, 3500, 3600);

        // Sliding expiration of 3 s: read through the nodes every second for 6 s, it stays (each read
        // slides it); left alone, it expires on every node.
        var sliding = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(3) };
        await n2.SetAsync("sld", Data("sliding"), sliding);
        var started = DateTime.UtcNow;
        var caches = new[] { n1, n2, n3 };
        for (var i = 0; DateTime.UtcNow - started < TimeSpan.FromSeconds(6); i++)
        {
            Assert.Equal(Data("sliding"), await caches[i % 3].GetAsync("sld"));
            await Task.Delay(1000);
        }
        // Refresh slides it without reading it.
        await n3.RefreshAsync("sld");
        Assert.InRange(Assert.IsType<CliInteger>(await Cli("n1").CallAsync("PTTL", $"{_run}:sld")).Value, 1, 3000);
        // Polled with EXISTS, which does not slide it.
        foreach (var node in new[] { "n1", "n2", "n3" })
            await UntilAsync($"sliding entry expired on {node}", async () => await Cli(node).CallAsync("EXISTS", $"{_run}:sld") is CliInteger { Value: 0 }, TimeSpan.FromSeconds(30));
        foreach (var cache in caches) Assert.Null(await cache.GetAsync("sld"));

        // An absolute expiration that passes: the entry is gone from every node.
        await n3.SetAsync("short", Data("short-lived"), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(2) });
        Assert.Equal(Data("short-lived"), await n1.GetAsync("short"));
        foreach (var cache in caches)
            await UntilAsync("short-lived entry expired", async () => await cache.GetAsync("short") is null, TimeSpan.FromSeconds(30));

        // Remove through one node: gone through the others. An overwrite replaces the entry's fields
        // (its TTL stays, as Redis's HSET keeps it, when the new entry has no expiration).
        await n1.SetAsync("rm", Data("to remove"), absolute);
        await n2.RemoveAsync("rm");
        Assert.Null(await n3.GetAsync("rm"));
        Assert.Null(await n1.GetAsync("rm"));
        await n1.SetAsync("over", Data("first"), sliding);
        await n2.SetAsync("over", Data("second"), new DistributedCacheEntryOptions());
        Assert.Equal(Data("second"), await n3.GetAsync("over"));

        // The synchronous API as well.
        n1.Set("sync", Data("sync"), sliding);
        Assert.Equal(Data("sync"), n2.Get("sync"));
        n3.Refresh("sync");
        n3.Remove("sync");
        Assert.Null(n1.Get("sync"));
    }

    [Fact]
    public async Task The_cache_keeps_working_while_a_node_is_killed_and_comes_back_with_the_entries()
    {
        IDistributedCache n1 = Cache("n1"), n2 = Cache("n2");
        foreach (var n in _cluster.Names) await _cluster.WaitForMembersAsync(n, _cluster.Names.ToList(), TimeSpan.FromSeconds(90));
        var sliding = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) };
        var absolute = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var expected = new Dictionary<string, string?>();
        for (var i = 0; i < 20; i++)
        {
            await n1.SetAsync($"before-{i}", Data($"before {i}"), i % 2 == 0 ? sliding : absolute);
            expected[$"before-{i}"] = $"before {i}";
        }

        _cluster.Kill("n3");
        try
        {
            // With n3 dead: sets, gets (sliding ones write their EXPIRE), refreshes and removes through n1 and n2.
            for (var i = 0; i < 20; i++)
            {
                await n2.SetAsync($"during-{i}", Data($"during {i}"), i % 2 == 0 ? sliding : absolute);
                expected[$"during-{i}"] = $"during {i}";
            }
            foreach (var (key, value) in expected) Assert.Equal(Data(value!), await n1.GetAsync(key));
            for (var i = 0; i < 20; i += 4)
            {
                await n2.RefreshAsync($"before-{i}");
                await n1.RemoveAsync($"before-{i + 1}");
                expected[$"before-{i + 1}"] = null;
            }
        }
        finally
        {
            _cluster.Start("n3");
        }
        await _cluster.WaitForMembersAsync("n3", _cluster.Names.ToList(), TimeSpan.FromSeconds(90));

        // Back: n3's cache reads every entry as the others left it, removals included.
        var n3 = Cache("n3");
        await UntilAsync("n3 serves the cache again", async () =>
        {
            try { return await n3.GetAsync("before-0") is not null; }
            catch (StackExchange.Redis.RedisConnectionException) { return false; }
        }, TimeSpan.FromSeconds(60));
        foreach (var (key, value) in expected)
        {
            var read = await n3.GetAsync(key);
            if (value is null) Assert.Null(read);
            else Assert.Equal(Data(value), read);
        }
        _output.WriteLine($"{expected.Count(e => e.Value is not null)} entries read back through n3, {expected.Count(e => e.Value is null)} removed ones absent");
    }
}
