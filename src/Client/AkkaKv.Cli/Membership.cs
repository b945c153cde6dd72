using System.Diagnostics;
using AkkaKv.Client;
using AkkaKv.Placement;
using AkkaKv.Protocol;

namespace AkkaKv.Cli;

/// <summary><c>akkakv leave &lt;node&gt; --wait</c>: the transfers, once a second, until the node is gone and nothing moves.</summary>
internal static class Membership
{
    public static async Task<int> WaitForLeaveAsync(IKvClient client, string node, TimeSpan maxWait)
    {
        var clock = Stopwatch.StartNew();
        TransferReport? first = null, last = null;
        while (clock.Elapsed < maxWait)
        {
            TransferReport report;
            NodeStatus status;
            try
            {
                report = await client.TransfersAsync();
                status = await client.StatusAsync();
            }
            catch (KvUnavailableException e)
            {
                // The node answering may be the one leaving, as it exits: the client tries the others next time.
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] no answer ({e.Message}); asking again");
                await Task.Delay(TimeSpan.FromSeconds(1));
                continue;
            }
            first ??= report;
            last = report;
            // A report from the leaving node itself says nothing about its successors' catch-ups.
            var gone = status.Node != node && status.Members.All(m => m.Node != node);
            Console.WriteLine(TransferText.Line(report, clock.Elapsed, report.DoneSince(first)));
            if (gone && report.Settled && report.Warning is null)
            {
                var (keys, bytes) = report.DoneSince(first);
                Console.WriteLine($"{node} left in {clock.Elapsed.TotalSeconds:0.0} s; {keys:N0} keys, {TransferText.Size(bytes)} moved to their new replicas; the cluster is settled");
                return 0;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        Console.Error.WriteLine($"akkakv leave: {node} is not gone and settled after {maxWait.TotalSeconds:0} s (--max-wait)" + (last is null ? "" : $":\n{TransferText.Render(last)}"));
        return 3;
    }
}
