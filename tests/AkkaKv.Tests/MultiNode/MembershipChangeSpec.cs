using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using AkkaKv.Sharding;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.MultiNode;

public sealed class MembershipChangeSpec(ITestOutputHelper output) : ThreeNodeSpecBase
{

    private KvSettings Settings => KvSettings.FromConfig(AkkaKvHosting.NodeConfig(new NodeOptions { NodeName = "n1", DataDir = "unused", ExtraHocon = InProcessCluster.TestHocon }));

    [Fact]
    public async Task A_fourth_node_takes_over_only_the_slots_whose_node_left_the_preference_set()
    {
        var settings = Settings;
        var before = await Cluster.SlotOwnersAsync("n1");
        for (var i = 0; i < 30; i++)
            Assert.IsType<WriteSuccess>(await Cluster.AskAsync<IWriteResponse>("n1", new Put(B($"k{i}"), B($"v{i}"), null, Quorum)));

        await Cluster.StartAsync("n4", seed: "n1");
        string[] four = ["n1", "n2", "n3", "n4"];
        foreach (var n in four) await Cluster.AwaitSettledAsync(n, four, TimeSpan.FromSeconds(60));
        var after = await Cluster.SlotOwnersAsync("n1");

        var ring4 = new HashRing(four, settings.VirtualNodesPerNode);
        var partitioner = new Partitioner(settings.PartitionCount);
        var mustMove = before.Where(kv => !PreferenceList.For(kv.Key.Partition, settings.ReplicationFactor, ring4, partitioner).Primaries.Contains(kv.Value))
            .Select(kv => kv.Key).ToHashSet();
        var moved = before.Where(kv => after[kv.Key] != kv.Value).Select(kv => kv.Key).ToHashSet();
        var total = settings.PartitionCount * settings.ReplicationFactor;
        output.WriteLine($"slots moved when n4 joined: {moved.Count} of {total} (ideal {total / 4.0:0}); slots whose node left the preference set: {mustMove.Count}");

        Assert.Equal(mustMove.OrderBy(s => s.ToString()), moved.OrderBy(s => s.ToString()));
        Assert.All(moved, s => Assert.Equal("n4", after[s]));
        for (var p = 0; p < settings.PartitionCount; p++)
            Assert.Equal(settings.ReplicationFactor, Enumerable.Range(0, settings.ReplicationFactor).Select(i => after[new SlotId(p, i)]).Distinct().Count());
        // The slots that moved to n4 caught up from their peers when they started: the first R=3
        // read of every key (before any read repair of it) finds all three replicas current.
        for (var i = 0; i < 30; i++)
        {
            var get = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n4", new Get(B($"k{i}"), Quorum with { R = 3 })));
            Assert.Equal([B($"v{i}")], get.Values);
            Assert.All(get.Replicas, r => Assert.Equal(ReplicaReadState.Current, r.State));
        }
    }

    [Fact]
    public async Task With_fewer_members_than_N_replicas_share_nodes_the_status_says_so_and_no_write_is_lost()
    {
        for (var i = 0; i < 20; i++)
            Assert.IsType<WriteSuccess>(await Cluster.AskAsync<IWriteResponse>("n1", new Put(B($"before-{i}"), B($"v{i}"), null, Quorum with { W = 3 })));

        await Cluster.StopAsync("n3");
        string[] two = ["n1", "n2"];
        foreach (var n in two) await Cluster.AwaitSettledAsync(n, two, TimeSpan.FromSeconds(60), coLocationExpected: true);

        var status = await Cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
        output.WriteLine($"warning: {status.Warning}; co-located partitions {status.CoLocatedPartitions}");
        Assert.Contains("fewer than N=3", status.Warning);
        Assert.Equal(status.Partitions, status.CoLocatedPartitions);

        for (var i = 0; i < 20; i++)
            Assert.IsType<WriteSuccess>(await Cluster.AskAsync<IWriteResponse>("n2", new Put(B($"during-{i}"), B($"d{i}"), null, Quorum)));
        for (var i = 0; i < 20; i++)
        {
            // The slots n3 handed off restarted on n1/n2 and caught up from their peers first.
            var before = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n1", new Get(B($"before-{i}"), Quorum with { R = 3 })));
            Assert.Equal([B($"v{i}")], before.Values);
            Assert.All(before.Replicas, r => Assert.Equal(ReplicaReadState.Current, r.State));
            var during = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n2", new Get(B($"during-{i}"), Quorum)));
            Assert.Contains(B($"d{i}"), during.Values);
        }
    }
}
