using System.Diagnostics;
using System.Text;
using AkkaKv.Client;

namespace AkkaKv.Cli;

/// <summary>
/// A bounded closed-loop load: <c>concurrency</c> workers each issue one request at a time for
/// <c>duration</c>, then stop. Reports throughput and latency percentiles per operation.
/// </summary>
public sealed class LoadGenerator(IKvClient client, TimeSpan duration, int concurrency, int keys, int valueSize, double getRatio, int seed)
{
    private static readonly AkkaKv.Coordination.RequestOptions Overwrite = new(Overwrite: true);

    public async Task<string> RunAsync()
    {
        var puts = new List<double>[concurrency];
        var gets = new List<double>[concurrency];
        var errors = new int[concurrency];
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
                    if (isGet) await client.GetAsync(key);
                    // Overwrite, like a cache's SET: blind puts without it would pile up siblings.
                    else await client.PutAsync(key, value, options: Overwrite);
                    (isGet ? gets[w] : puts[w]).Add((sw.Elapsed - start).TotalMilliseconds);
                }
                catch (Exception e) when (e is KvRequestException or KvUnavailableException)
                {
                    errors[w]++;
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var elapsed = sw.Elapsed.TotalSeconds;
        var sb = new StringBuilder();
        sb.AppendLine($"loadgen: puts overwrite; {concurrency} concurrent clients, {elapsed:0.0} s, {keys} keys, {valueSize} B values, get ratio {getRatio:0.00}, seed {seed}");
        Line(sb, "put", puts.SelectMany(x => x).ToList(), elapsed);
        Line(sb, "get", gets.SelectMany(x => x).ToList(), elapsed);
        sb.AppendLine($"errors: {errors.Sum()}");
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string op, List<double> latencies, double seconds)
    {
        latencies.Sort();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        sb.AppendLine($"{op}: {latencies.Count} ok, {latencies.Count / seconds:0} ops/s, p50 {P(0.50):0.00} ms, p99 {P(0.99):0.00} ms, max {(latencies.Count == 0 ? double.NaN : latencies[^1]):0.00} ms");
    }
}
