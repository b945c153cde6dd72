using AkkaKv.Coordination;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.MultiNode;

public sealed class ThreeNodeClusterSpec(ITestOutputHelper output) : ThreeNodeSpecBase
{

    [Fact]
    public async Task A_put_at_W2_is_read_back_at_R2_from_every_node()
    {
        var put = await Cluster.AskAsync<IWriteResponse>("n1", new Put(B("k"), B("v1"), null, Quorum));
        Assert.IsType<WriteSuccess>(put);
        foreach (var node in Nodes)
        {
            var get = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>(node, new Get(B("k"), Quorum)));
            Assert.Equal([B("v1")], get.Values);
        }
    }

    [Fact]
    public async Task Concurrent_puts_with_the_same_context_end_as_siblings_and_nothing_is_lost()
    {
        await Cluster.AskAsync<IWriteResponse>("n1", new Put(B("c"), B("base"), null, Quorum));
        var read = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n2", new Get(B("c"), Quorum)));
        var writes = await Task.WhenAll(
            Cluster.AskAsync<IWriteResponse>("n1", new Put(B("c"), B("left"), read.Context, Quorum)),
            Cluster.AskAsync<IWriteResponse>("n3", new Put(B("c"), B("right"), read.Context, Quorum)));
        Assert.All(writes, w => Assert.IsType<WriteSuccess>(w));
        var after = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n2", new Get(B("c"), Quorum)));
        Assert.Equal(new[] { "left", "right" }, after.Values.Select(v => v.ToUtf8()).Order());

        // A put with the merged context resolves the siblings into one value.
        await Cluster.AskAsync<IWriteResponse>("n2", new Put(B("c"), B("resolved"), after.Context, Quorum));
        var resolved = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n1", new Get(B("c"), Quorum)));
        Assert.Equal([B("resolved")], resolved.Values);
    }

    [Fact]
    public async Task Puts_at_W2_keep_succeeding_while_one_node_is_blackholed()
    {
        await Cluster.SetBlackholeAsync("n3", on: true);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var reply = await Cluster.AskAsync<IWriteResponse>(i % 2 == 0 ? "n1" : "n2", new Put(B($"bh-{i}"), B($"v{i}"), null, Quorum));
                var ok = Assert.IsType<WriteSuccess>(reply is RequestFailed f ? throw new Xunit.Sdk.XunitException($"put {i} failed: {f.Reason}") : reply);
                Assert.True(ok.Acks >= 2);
            }
            for (var i = 0; i < 20; i++)
            {
                var get = Assert.IsType<GetSuccess>(await Cluster.AskAsync<IGetResponse>("n1", new Get(B($"bh-{i}"), Quorum)));
                Assert.Contains(B($"v{i}"), get.Values);
            }
        }
        finally
        {
            await Cluster.SetBlackholeAsync("n3", on: false);
        }
    }

    [Fact]
    public async Task Invalid_requests_get_a_clear_error_and_the_node_keeps_serving()
    {
        var empty = Assert.IsType<RequestFailed>(await Cluster.AskAsync<IGetResponse>("n1", new Get(Bytes.Empty, Quorum)));
        Assert.Contains("key is empty", empty.Reason);
        var bigW = Assert.IsType<RequestFailed>(await Cluster.AskAsync<IWriteResponse>("n1", new Put(B("x"), B("y"), null, new RequestOptions(W: 4))));
        Assert.Contains("W=4", bigW.Reason);
        var badContext = Assert.IsType<RequestFailed>(await Cluster.AskAsync<IWriteResponse>("n1", new Put(B("x"), B("y"), "!!not-a-context", Quorum)));
        Assert.Contains("context is malformed", badContext.Reason);
        var tooBig = Assert.IsType<RequestFailed>(await Cluster.AskAsync<IWriteResponse>("n1", new Put(B("x"), Bytes.From(new byte[1_048_577]), null, Quorum)));
        Assert.Contains("over the limit", tooBig.Reason);
        Assert.IsType<WriteSuccess>(await Cluster.AskAsync<IWriteResponse>("n1", new Put(B("x"), B("y"), null, Quorum)));
        output.WriteLine("errors: " + string.Join(" | ", empty.Reason, bigW.Reason, badContext.Reason, tooBig.Reason));
    }
}
