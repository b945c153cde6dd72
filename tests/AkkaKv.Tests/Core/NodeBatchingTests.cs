using AkkaKv.Coordination;
using AkkaKv.Placement;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class NodeBatchingTests(ITestOutputHelper output)
{
    [Fact]
    public void A_batch_goes_before_it_would_pass_its_byte_or_item_limit_and_keeps_the_order_items_came_in()
    {
        var buffer = new BatchBuffer<int>(maxBytes: 100, maxItems: 3);
        Assert.False(buffer.MustSendBefore(1_000));
        buffer.Add(1, 40);
        buffer.Add(2, 40);
        Assert.True(buffer.MustSendBefore(21));
        Assert.False(buffer.MustSendBefore(20));
        buffer.Add(3, 20);
        // Three items: the fourth waits for the next batch even at one byte.
        Assert.True(buffer.MustSendBefore(1));
        Assert.Throws<InvalidOperationException>(() => buffer.Add(4, 1));
        Assert.Equal([1, 2, 3], buffer.Take());
        Assert.True(buffer.IsEmpty);
        Assert.Equal(0, buffer.Bytes);
    }

    [Fact]
    public void An_item_over_the_byte_limit_travels_alone()
    {
        var buffer = new BatchBuffer<string>(maxBytes: 100, maxItems: 10);
        buffer.Add("small", 10);
        Assert.True(buffer.MustSendBefore(500));
        Assert.Equal(["small"], buffer.Take());
        // Into an empty buffer it goes, whatever its size; nothing joins it.
        Assert.False(buffer.MustSendBefore(500));
        buffer.Add("large", 500);
        Assert.True(buffer.MustSendBefore(1));
        Assert.Equal(["large"], buffer.Take());
    }

    [Fact]
    public void Batches_cut_from_any_sequence_of_sizes_hold_every_item_once_in_order_and_within_the_limits()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var maxBytes = random.Next(1, 500);
            var maxItems = random.Next(1, 20);
            var buffer = new BatchBuffer<int>(maxBytes, maxItems);
            var sizes = Enumerable.Range(0, random.Next(0, 300)).Select(_ => (long)random.Next(0, 2 * maxBytes)).ToArray();
            var batches = new List<List<int>>();
            for (var i = 0; i < sizes.Length; i++)
            {
                if (buffer.MustSendBefore(sizes[i])) batches.Add(buffer.Take());
                buffer.Add(i, sizes[i]);
            }
            if (!buffer.IsEmpty) batches.Add(buffer.Take());

            Assert.Equal(Enumerable.Range(0, sizes.Length), batches.SelectMany(b => b));
            foreach (var batch in batches)
            {
                Assert.NotEmpty(batch);
                Assert.True(batch.Count <= maxItems, $"seed {seed}: {batch.Count} items over {maxItems}");
                var bytes = batch.Sum(i => sizes[i]);
                Assert.True(batch.Count == 1 || bytes <= maxBytes, $"seed {seed}: {batch.Count} items of {bytes} bytes over {maxBytes}");
            }
        }
    }

    [Fact]
    public void A_reply_goes_to_whoever_sent_its_request_once_and_ids_are_never_zero()
    {
        var table = new ReplyTable<string>();
        var a = table.Add("coordinator a");
        var b = table.Add("coordinator b");
        Assert.NotEqual(0, a);
        Assert.NotEqual(a, b);
        Assert.True(table.TryTake(b, out var to));
        Assert.Equal("coordinator b", to);
        Assert.False(table.TryTake(b, out _));
        Assert.False(table.TryTake(0, out _));
        Assert.False(table.TryTake(12345, out _));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_request_whose_reply_never_comes_is_forgotten_after_two_rotations_and_not_after_one()
    {
        var table = new ReplyTable<string>();
        var early = table.Add("early");
        Assert.Equal(0, table.Rotate());
        // One rotation after it was sent: its reply still finds it.
        Assert.True(table.TryTake(early, out var to));
        Assert.Equal("early", to);
        var lost = table.Add("lost");
        Assert.Equal(0, table.Rotate());
        Assert.Equal(1, table.Count);
        Assert.Equal(1, table.Rotate());
        Assert.False(table.TryTake(lost, out _));
        Assert.Equal(0, table.Count);
    }

    private static MemberState M(string node, MemberStatus status = MemberStatus.Up, string level = FeatureLevel.Current, string? address = null) =>
        new(node, address ?? $"akka.tcp://akkakv@127.0.0.1:{4000 + node[^1] - '0'}", status, Reachable: true, level);

    [Fact]
    public void Batches_go_only_to_other_nodes_at_the_batching_level_each_with_one_live_incarnation()
    {
        var members = Membership.Of(
        [
            M("n1"),
            M("n2"),
            M("n3", MemberStatus.Leaving),
            M("n4", level: "1.3.0"),
            M("n5", MemberStatus.Exiting),
            // n6 restarted: its old incarnation is still a member (down), the new one is up.
            M("n6", MemberStatus.Down, address: "akka.tcp://akkakv@127.0.0.1:4006"),
            M("n6", address: "akka.tcp://akkakv@127.0.0.1:4016"),
            M("n7", level: ""),
            M("n8", MemberStatus.Joining, level: "1.4.1"),
        ]);

        var peers = BatchPeers.Of(members, self: "n1");

        Assert.Equal(["n2", "n3", "n8"], peers.Keys.Order());
        Assert.Equal("akka.tcp://akkakv@127.0.0.1:4002", peers["n2"]);
    }

    [Fact]
    public void An_unreachable_peer_still_gets_batches_as_its_region_would_get_messages()
    {
        var members = Membership.Of([M("n1"), M("n2") with { Reachable = false }]);
        Assert.Equal(["n2"], BatchPeers.Of(members, "n1").Keys);
    }
}
