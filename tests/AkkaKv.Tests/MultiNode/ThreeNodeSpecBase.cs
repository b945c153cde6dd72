using AkkaKv.Coordination;
using Xunit;

namespace AkkaKv.Tests.MultiNode;

/// <summary>A fresh, settled 3-node in-process cluster for every test of a derived spec.</summary>
public abstract class ThreeNodeSpecBase : IAsyncLifetime
{
    protected readonly InProcessCluster Cluster = new();
    protected static readonly string[] Nodes = ["n1", "n2", "n3"];
    protected static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(4));

    public async Task InitializeAsync()
    {
        await Cluster.StartAsync("n1", seed: null);
        await Cluster.StartAsync("n2", seed: "n1");
        await Cluster.StartAsync("n3", seed: "n1");
        foreach (var n in Nodes) await Cluster.AwaitSettledAsync(n, Nodes, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    protected static Bytes B(string s) => Bytes.FromUtf8(s);
}
