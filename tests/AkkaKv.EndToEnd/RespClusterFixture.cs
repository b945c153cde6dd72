using System.Diagnostics;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// One settled 3-node cluster, each node with a RESP port and an HTTP port, shared by every test
/// of every class in <see cref="RespClusterCollection"/> (starting one costs 30-60 s on a 2-core
/// box). Tests share it, so each uses keys of its own. Two tests kill a node (kill -9) and start it
/// again (<see cref="KillAndRestartTests"/>, <see cref="DashboardTests"/>); when they pass, that
/// node is back, every member Up and every slot placed (a failure there may fail the tests that
/// run after it on this cluster). No other test kills, freezes or stops a node.
/// </summary>
public sealed class RespClusterFixture : IAsyncLifetime
{
    public OutputRelay Output { get; } = new();
    public ClusterTestContext Cluster { get; }

    public RespClusterFixture()
    {
        Cluster = new ClusterTestContext(Output, 3);
        Cluster.UseHttp();
    }

    public async Task InitializeAsync()
    {
        var sw = Stopwatch.StartNew();
        try
        {
            Cluster.StartAll();
            foreach (var n in Cluster.Names) await Cluster.WaitForMembersAsync(n, Cluster.Names.ToList(), TimeSpan.FromSeconds(120));
        }
        catch (Exception e)
        {
            // Disposing deletes the logs: keep their tails in the failure.
            var logs = string.Join("\n", Cluster.Names.Select(n => Path.Combine(Cluster.Root, n + ".log")).Where(File.Exists)
                .Select(f => $"--- {Path.GetFileName(f)}\n" + string.Join("\n", File.ReadLines(f).TakeLast(30))));
            await Cluster.DisposeAsync();
            throw new InvalidOperationException($"the 3-node cluster did not settle: {e.Message}\n{logs}", e);
        }
        Output.WriteLine($"3-node cluster settled in {sw.Elapsed.TotalSeconds:0.0} s");
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Test classes that share one <see cref="RespClusterFixture"/>: xUnit runs them one after the
/// other on the same cluster (a class fixture would start a cluster per class).
/// </summary>
[CollectionDefinition(Name)]
public sealed class RespClusterCollection : ICollectionFixture<RespClusterFixture>
{
    public const string Name = "Shared 3-node cluster";
}

/// <summary>
/// The output of a shared fixture: lines go to the test that is running (set by each test's
/// constructor); lines written before the first test (the cluster's start) go to that test.
/// </summary>
public sealed class OutputRelay : ITestOutputHelper
{
    private readonly List<string> _pending = new();
    private ITestOutputHelper? _current;

    public void Attach(ITestOutputHelper output)
    {
        lock (_pending)
        {
            _current = output;
            foreach (var line in _pending) output.WriteLine(line);
            _pending.Clear();
        }
    }

    public void WriteLine(string message)
    {
        lock (_pending)
        {
            if (_current is null) _pending.Add(message);
            else
            {
                // A finished test's output refuses lines; nothing to keep them for.
                try { _current.WriteLine(message); } catch (InvalidOperationException) { }
            }
        }
    }

    public void WriteLine(string format, params object[] args) => WriteLine(string.Format(CultureInfo.InvariantCulture, format, args));
}
