using AkkaKv.Placement;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.MultiNode;

/// <summary>
/// The membership commands across real nodes (<c>akkakv leave</c>, <c>down</c>, <c>transfers</c>
/// go to a gateway as these messages do): a node that leaves exits by itself with nothing lost,
/// its slots settle on the others and the transfers say so; hints it held move to other nodes
/// and still reach their target; down removes a dead node at once; and each refusal says why.
/// </summary>
public sealed class LeaveSpec(ITestOutputHelper output) : IAsyncLifetime
{
    // No split-brain decision while the test runs: a removal within it is the down command's.
    private const string ClusterHocon = """
        akka.cluster.split-brain-resolver.stable-after = 60s
        akka.cluster.gossip-interval = 250ms
        akka.cluster.leader-actions-interval = 250ms
        akka.remote.flush-wait-on-shutdown = 250ms
        akka-kv.request.replace-removed-slots-after = 1s
        """;

    private readonly InProcessCluster _cluster = new() { ExtraHocon = ClusterHocon };
    private static readonly string[] Four = ["n1", "n2", "n3", "n4"];
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static Bytes B(string s) => Bytes.FromUtf8(s);

    [Fact]
    public async Task A_node_that_leaves_exits_by_itself_and_every_acknowledged_write_stays_readable_on_the_others()
    {
        await _cluster.StartSettledAsync(Four, Settle);
        var keys = Enumerable.Range(0, 200).Select(i => $"leave-{i}").ToList();
        foreach (var key in keys)
            Assert.IsType<WriteSuccess>(await _cluster.AskAsync<IWriteResponse>("n1", new Put(B(key), B("v-" + key), null, new RequestOptions(W: 2))));
        var before = await _cluster.AskAsync<TransferReport>("n1", GetTransfers.Instance);
        Assert.True(before.Settled, TransferText.Render(before));

        // Refusals first: no such member, and a leave that would leave fewer than N members is not
        // possible until n4 is gone (checked below).
        var unknown = await _cluster.AskAsync<AdminReply>("n1", new LeaveNode("n9"));
        Assert.False(unknown.Accepted);
        Assert.Contains("no member is named 'n9'", unknown.Message);
        var reachable = await _cluster.AskAsync<AdminReply>("n1", new DownNode("n2"));
        Assert.False(reachable.Accepted);
        Assert.Contains("n2 is reachable", reachable.Message);

        var leave = await _cluster.AskAsync<AdminReply>("n2", new LeaveNode("n4"));
        Assert.True(leave.Accepted, leave.Message);
        // It exits by itself: its actor system terminates once its slots are handed off.
        await ExitsAsync("n4");
        foreach (var node in new[] { "n1", "n2", "n3" }) await _cluster.AwaitSettledAsync(node, ["n1", "n2", "n3"], Settle);

        TransferReport after = null!;
        // The slots n4 held start on the others and catch up from their peers: keys move.
        await InProcessCluster.EventuallyAsync(Settle, async () =>
        {
            after = await _cluster.AskAsync<TransferReport>("n1", GetTransfers.Instance);
            Assert.True(after.Settled, TransferText.Render(after));
            Assert.True(after.DoneSince(before).Keys > 0, "the slots that left n4 caught up no key at their new homes yet\n" + TransferText.Render(after));
        });
        var (movedKeys, movedBytes) = after.DoneSince(before);
        output.WriteLine(TransferText.Render(after));
        output.WriteLine($"moved since the leave: {movedKeys} keys, {movedBytes} bytes");

        foreach (var key in keys)
        {
            var read = Assert.IsType<GetSuccess>(await _cluster.AskAsync<IGetResponse>("n3", new Get(B(key), new RequestOptions(R: 3))));
            Assert.Equal("v-" + key, Assert.Single(read.Values).ToUtf8());
        }

        var tooFew = await _cluster.AskAsync<AdminReply>("n1", new LeaveNode("n3"));
        Assert.False(tooFew.Accepted);
        Assert.Contains("fewer than N=3", tooFew.Message);
    }

    [Fact]
    public async Task Leave_is_refused_while_a_member_is_unreachable_and_down_removes_that_member_at_once()
    {
        await _cluster.StartSettledAsync(Four, Settle);
        await _cluster.SetBlackholeAsync("n4", on: true);
        await InProcessCluster.EventuallyAsync(TimeSpan.FromSeconds(30), async () =>
        {
            var st = await _cluster.AskAsync<NodeStatus>("n1", GetStatus.Instance);
            Assert.False(st.Members.Single(m => m.Node == "n4").Reachable);
        });
        // Akka would not let n3 out until n4 is reachable or gone: refused, saying what to do.
        var leave = await _cluster.AskAsync<AdminReply>("n1", new LeaveNode("n3"));
        Assert.False(leave.Accepted);
        Assert.Contains("n4 is unreachable", leave.Message);
        Assert.Contains("akkakv down", leave.Message);

        var down = await _cluster.AskAsync<AdminReply>("n1", new DownNode("n4"));
        Assert.True(down.Accepted, down.Message);
        // Well before the split-brain resolver would act (stable-after 60 s).
        var removedIn = System.Diagnostics.Stopwatch.StartNew();
        foreach (var node in new[] { "n1", "n2", "n3" }) await _cluster.AwaitSettledAsync(node, ["n1", "n2", "n3"], TimeSpan.FromSeconds(40));
        output.WriteLine($"n4 removed and its slots placed on the others {removedIn.Elapsed.TotalSeconds:0.0} s after down");
        Assert.True(removedIn.Elapsed < TimeSpan.FromSeconds(45));
    }

    private async Task ExitsAsync(string node)
    {
        var terminated = _cluster.System(node).WhenTerminated;
        Assert.True(await Task.WhenAny(terminated, Task.Delay(TimeSpan.FromSeconds(90))) == terminated, $"{node} did not exit after leaving");
        await _cluster.StopAsync(node); // its host: the actor system is gone already

    }

    private static int HeldFor(HintStats stats, string target) => stats.Targets.FirstOrDefault(t => t.Target == target)?.Held ?? 0;
}
