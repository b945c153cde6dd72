using System.Diagnostics;
using System.Text;
using AkkaKv.Client;
using AkkaKv.Protocol;

namespace AkkaKv.Cli;

/// <summary>
/// A bounded closed-loop load: <c>concurrency</c> workers each issue one request at a time for
/// <c>duration</c>, then stop. Reports throughput and latency percentiles per operation, and
/// availability: acknowledged / attempted, with refusals ("failed": the store said no, e.g. a
/// strict quorum it cannot reach) and timeouts ("unknown": a write may or may not have landed)
/// counted apart. <paramref name="options"/> (R, W, timeout, sloppy) apply to every request;
/// puts always overwrite.
/// </summary>
public sealed class LoadGenerator(IKvClient client, TimeSpan duration, int concurrency, int keys, int valueSize, double getRatio, int seed,
    RequestOptions? options = null)
{
    private readonly RequestOptions _put = (options ?? new()) with { Overwrite = true };
    private readonly RequestOptions _get = (options ?? new()) with { Overwrite = null };

    public async Task<string> RunAsync()
    {
        var puts = new List<double>[concurrency];
        var gets = new List<double>[concurrency];
        var failed = new int[concurrency, 2];
        var unknown = new int[concurrency, 2];
        var value = Bytes.From(Enumerable.Repeat((byte)'x', valueSize).ToArray());
        // Pre-fill a slice of the key space so that gets find values.
        var sw = Stopwatch.StartNew();
        var deadline = sw.Elapsed + duration;
        var workers = Enumerable.Range(0, concurrency).Select(async w =>
        {
            var random = new Random(seed + w);
            puts[w] = [];
            gets[w] = [];
            while (sw.Elapsed < deadline)
            {
                var key = Bytes.FromUtf8($"load-{random.Next(keys)}");
                var isGet = random.NextDouble() < getRatio;
                var start = sw.Elapsed;
                try
                {
                    if (isGet) await client.GetAsync(key, _get);
                    // Overwrite, like a cache's SET: blind puts without it would pile up siblings.
                    else await client.PutAsync(key, value, options: _put);
                    (isGet ? gets[w] : puts[w]).Add((sw.Elapsed - start).TotalMilliseconds);
                }
                catch (KvRequestException e) when (!e.Message.Contains("timed out", StringComparison.Ordinal))
                {
                    failed[w, isGet ? 1 : 0]++;
                }
                catch (Exception e) when (e is KvRequestException or KvUnavailableException)
                {
                    unknown[w, isGet ? 1 : 0]++;
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var elapsed = sw.Elapsed.TotalSeconds;
        var sb = new StringBuilder();
        sb.AppendLine($"loadgen: puts overwrite; {concurrency} concurrent clients, {elapsed:0.0} s, {keys} keys, {valueSize} B values, get ratio {getRatio:0.00}, seed {seed}");
        int Sum(int[,] counts, int op) => Enumerable.Range(0, concurrency).Sum(w => counts[w, op]);
        Line(sb, "put", puts.SelectMany(x => x).ToList(), Sum(failed, 0), Sum(unknown, 0), elapsed);
        Line(sb, "get", gets.SelectMany(x => x).ToList(), Sum(failed, 1), Sum(unknown, 1), elapsed);
        sb.AppendLine($"errors: {Sum(failed, 0) + Sum(failed, 1) + Sum(unknown, 0) + Sum(unknown, 1)}");
        return sb.ToString();
    }

    /// <summary>
    /// Writes each key <c>load-{from}</c> .. <c>load-{from + keys - 1}</c> once (overwrite),
    /// <paramref name="concurrency"/> at a time. Returns the report and how many puts did not succeed.
    /// </summary>
    public static async Task<(string Report, int Failures)> FillAsync(IKvClient client, int from, int keys, int concurrency, int valueSize,
        RequestOptions? options = null)
    {
        var put = (options ?? new()) with { Overwrite = true };
        var value = Bytes.From(Enumerable.Repeat((byte)'x', valueSize).ToArray());
        var next = from - 1;
        var failures = 0;
        string? firstError = null;
        var latencies = new List<double>[concurrency];
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async w =>
        {
            latencies[w] = [];
            for (var i = Interlocked.Increment(ref next); i < from + keys; i = Interlocked.Increment(ref next))
            {
                var start = sw.Elapsed;
                try
                {
                    await client.PutAsync(Bytes.FromUtf8($"load-{i}"), value, options: put);
                    latencies[w].Add((sw.Elapsed - start).TotalMilliseconds);
                }
                catch (Exception e) when (e is KvRequestException or KvUnavailableException)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstError, $"load-{i}: {e.Message}", null);
                }
            }
        }));
        var elapsed = sw.Elapsed.TotalSeconds;
        var sb = new StringBuilder();
        sb.AppendLine($"fill: load-{from}..load-{from + keys - 1}, {concurrency} concurrent clients, {valueSize} B values, {elapsed:0.0} s");
        Line(sb, "put", latencies.SelectMany(x => x).ToList(), failures, 0, elapsed);
        if (firstError is not null) sb.AppendLine($"first error: {firstError}");
        return (sb.ToString(), failures);
    }

    private static void Line(StringBuilder sb, string op, List<double> latencies, int failed, int unknown, double seconds)
    {
        latencies.Sort();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        var attempted = latencies.Count + failed + unknown;
        sb.AppendLine($"{op}: {latencies.Count} ok, {latencies.Count / seconds:0} ops/s, p50 {P(0.50):0.00} ms, p99 {P(0.99):0.00} ms, max {(latencies.Count == 0 ? double.NaN : latencies[^1]):0.00} ms; " +
                      $"availability {(attempted == 0 ? double.NaN : 100.0 * latencies.Count / attempted):0.00}% ({latencies.Count}/{attempted}), {failed} failed, {unknown} unknown");
    }
}
