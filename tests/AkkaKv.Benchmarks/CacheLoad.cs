using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;

namespace AkkaKv.Benchmarks;

/// <summary>
/// A load generator for .NET's <c>IDistributedCache</c> (Microsoft.Extensions.Caching.StackExchangeRedis,
/// unchanged) against one RESP endpoint, printing one row in redis-benchmark's CSV format so that
/// resp-vs-redis.sh tabulates it beside redis-benchmark's tests:
/// <list type="bullet">
/// <item><c>cache-set</c>: <c>SetAsync</c> of 100-byte entries (HMSET, then EXPIRE in the same
/// pipeline); even keys with a 1 h absolute expiration, odd keys with a 1 h sliding one.</item>
/// <item><c>cache-get</c>: <c>GetAsync</c> of the even keys (HMGET).</item>
/// <item><c>cache-get-sliding</c>: <c>GetAsync</c> of the odd keys: HMGET, then the EXPIRE that
/// slides the entry (a quorum read plus a quorum write on AkkaKv).</item>
/// </list>
/// Run cache-set first, with at least as many requests as keys: the gets read what it wrote.
/// <code>dotnet run -c Release --project tests/AkkaKv.Benchmarks -- cache &lt;test&gt; &lt;host:port&gt; [requests 20000] [clients 50] [keys 10000]</code>
/// </summary>
public static class CacheLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3) { Console.Error.WriteLine("usage: cache <cache-set|cache-get|cache-get-sliding> <host:port> [requests] [clients] [keys]"); return 2; }
        var test = args[1];
        var endpoint = args[2];
        var requests = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 20_000;
        var clients = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 50;
        var keys = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 10_000;
        if (test is not ("cache-set" or "cache-get" or "cache-get-sliding")) { Console.Error.WriteLine($"unknown test {test}"); return 2; }

        using var cache = new RedisCache(Options.Create(new RedisCacheOptions { Configuration = endpoint, InstanceName = "bench:" }));
        var value = new byte[100];
        Random.Shared.NextBytes(value);
        var absolute = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) };
        var sliding = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromHours(1) };
        // The connection is made before the clock starts.
        await cache.GetAsync("bench-warm-up");

        var latencies = new double[requests];
        var next = -1;
        var errors = 0;
        var missing = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var random = new Random(c);
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                // Even keys hold absolute expirations, odd ones sliding ones; the sets write every key
                // (in turn), the gets read random ones of their kind.
                var k = test == "cache-set" ? i % keys : random.Next(keys / 2) * 2 + (test == "cache-get-sliding" ? 1 : 0);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    if (test == "cache-set") await cache.SetAsync($"k{k}", value, k % 2 == 0 ? absolute : sliding);
                    else if (await cache.GetAsync($"k{k}") is null) Interlocked.Increment(ref missing);
                }
                catch (Exception e)
                {
                    if (Interlocked.Increment(ref errors) <= 3) Console.Error.WriteLine($"error: {e.Message}");
                }
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        double P(double q) => latencies[Math.Min(latencies.Length - 1, (int)(q * latencies.Length))];
        if (missing > 0) Console.Error.WriteLine($"error: {missing} gets found no entry (run cache-set first, with as many keys)");
        if (errors > 0) Console.Error.WriteLine($"error: {errors} requests failed");
        Console.WriteLine("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\"{test.ToUpperInvariant()}\",\"{requests / seconds:0.00}\",\"{latencies.Average():0.000}\",\"{latencies[0]:0.000}\",\"{P(0.5):0.000}\",\"{P(0.95):0.000}\",\"{P(0.99):0.000}\",\"{latencies[^1]:0.000}\""));
        return 0;
    }
}
