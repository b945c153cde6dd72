using Akka.Actor;
using AkkaKv.Coordination;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Sharding;
using Xunit;

namespace AkkaKv.Tests.MultiNode;

/// <summary>
/// Requests to replica slots on other nodes, and their replies, travel in batches through each
/// node's courier (<c>request.batch-per-node</c>, on by default): a cluster serves through them, and
/// a request that reaches a node whose slot has moved on still gets its reply.
/// </summary>
public sealed class CourierSpec : ThreeNodeSpecBase
{
    [Fact]
    public async Task Concurrent_puts_and_gets_go_through_the_couriers_and_every_reply_comes_back()
    {
        var stats = await Cluster.Courier("n1").Ask<CourierStats>(GetCourierStats.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(["n2", "n3"], stats.Peers);

        var puts = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Cluster.AskAsync<IWriteResponse>("n1", new Put(B($"batched-{i}"), B($"v{i}"), null, Quorum))));
        Assert.All(puts, p => Assert.IsType<WriteSuccess>(p));
        var gets = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Cluster.AskAsync<IGetResponse>("n1", new Get(B($"batched-{i}"), Quorum))));
        for (var i = 0; i < gets.Length; i++)
            Assert.Equal(B($"v{i}"), Assert.Single(Assert.IsType<GetSuccess>(gets[i]).Values));

        // Every put and every get asked the replicas on the two other nodes (a put: its coordinating
        // replica or a merge each; a get: a read each), all through n1's courier.
        // A get answers at R = 2, so the third replica's reply may still be on its way: wait for it.
        // Read repair asks for no reply; every other request got one, back through n2's or n3's courier.
        await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(10), async () =>
        {
            var replies = 0L;
            foreach (var node in new[] { "n2", "n3" })
                replies += (await Cluster.Courier(node).Ask<CourierStats>(GetCourierStats.Instance, TimeSpan.FromSeconds(5))).Replies;
            Assert.True(replies >= 60 * 2 + 60 * 2, $"n2 and n3 sent {replies} replies back");
            var n1 = await Cluster.Courier("n1").Ask<CourierStats>(GetCourierStats.Instance, TimeSpan.FromSeconds(5));
            Assert.True(n1.Requests >= 60 * 2 + 60 * 2, $"n1's courier carried {n1.Requests} requests");
            Assert.InRange(n1.RequestBatches, 1, n1.Requests);
            Assert.Equal(0, n1.Waiting);
        });
    }

    [Fact]
    public async Task A_request_sent_to_a_node_the_slot_is_not_on_is_forwarded_there_and_its_reply_still_comes_back()
    {
        var owners = await Cluster.SlotOwnersAsync("n1");
        var slot = owners.First(kv => kv.Value == "n3").Key;
        var key = B("moved-on");

        // A coordinator whose view still places the slot on n2 (it moved since): n1's courier sends
        // it to n2, n2's region forwards it to n3, and n3's answer comes back through n2 to n1.
        var reply = await Cluster.Courier("n1").Ask<ReplicaReadResult>(
            new ToSlot("n2", new SlotEnvelope(slot, new ReplicaRead(77, key)), Courier.EstimateBytes(new ReplicaRead(77, key)), ReplyWanted: true),
            TimeSpan.FromSeconds(10));

        Assert.Equal(77, reply.RequestId);
        Assert.Equal(slot, reply.Slot);
        Assert.Equal("n3", reply.Node);
        var n2 = await Cluster.Courier("n2").Ask<CourierStats>(GetCourierStats.Instance, TimeSpan.FromSeconds(5));
        Assert.True(n2.Replies >= 1, "the reply went back in n2's batch");
    }
}
