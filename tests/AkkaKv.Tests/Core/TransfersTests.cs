using System.Collections.Immutable;
using AkkaKv.Placement;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary><c>akkakv transfers</c>, pure: which slots must move, what is left and done, the rate and the ETA.</summary>
public sealed class TransfersTests
{
    private static NodeTransfers Node(string node, long keysDone = 0, long bytesDone = 0, long keysWindow = 0, long bytesWindow = 0, long windowMs = 0, params SlotCatchUp[] catchingUp) =>
        new(node, ValueList.From(catchingUp), 0, keysDone, bytesDone, keysWindow, bytesWindow, windowMs);

    [Fact]
    public void Pending_lists_every_slot_not_where_the_plan_puts_it_sized_by_its_current_holder()
    {
        var owners = new Dictionary<SlotId, string> { [new(0, 0)] = "n1", [new(0, 1)] = "n4", [new(1, 0)] = "n2" };
        var plan = new Dictionary<SlotId, string> { [new(0, 0)] = "n1", [new(0, 1)] = "n2", [new(1, 0)] = "n2", [new(1, 1)] = "n3" };
        var sizes = new Dictionary<SlotId, (long, long)> { [new(0, 1)] = (40, 4_000) };
        var pending = TransferPlan.Pending(owners, plan, sizes);
        Assert.Equal([new PendingMove("0/1", "n4", "n2", 40, 4_000), new PendingMove("1/1", null, "n3", -1, -1)], pending.ToArray());
    }

    [Fact]
    public void A_slot_allocated_where_the_plan_wants_it_but_not_started_is_still_pending()
    {
        var owners = new Dictionary<SlotId, string> { [new(0, 0)] = "n1", [new(0, 1)] = "n2" };
        var plan = new Dictionary<SlotId, string> { [new(0, 0)] = "n1", [new(0, 1)] = "n2" };
        var sizes = new Dictionary<SlotId, (long, long)> { [new(0, 0)] = (9, 90), [new(0, 1)] = (9, 90) };
        Assert.Empty(TransferPlan.Pending(owners, plan, sizes));
        var pending = TransferPlan.Pending(owners, plan, sizes, new HashSet<SlotId> { new(0, 1) });
        Assert.Equal([new PendingMove("0/1", "n2", "n2", 9, 90)], pending.ToArray());
        var report = new TransferReport("n1", ValueList<string>.Empty, ValueList.From(pending.ToArray()), ValueList<NodeTransfers>.Empty);
        Assert.False(report.Settled);
        Assert.Contains("0/1      n2       -> n2       9 keys, 90 B (allocated, replica not started yet)", TransferText.Render(report));
    }

    [Fact]
    public void A_pending_slot_is_sized_by_the_largest_replica_of_its_partition_so_a_gone_holder_does_not_hide_it()
    {
        var held = new Dictionary<SlotId, (long, long)> { [new(0, 0)] = (40, 4_000), [new(0, 2)] = (42, 4_100), [new(3, 1)] = (7, 70) };
        var sized = TransferPlan.SizeByPeers(held, 3);
        Assert.Equal((42L, 4_100L), sized[new SlotId(0, 1)]);
        Assert.Equal((42L, 4_100L), sized[new SlotId(0, 0)]);
        Assert.Equal((7L, 70L), sized[new SlotId(3, 0)]);
        Assert.False(sized.ContainsKey(new SlotId(1, 0)));
        var owners = new Dictionary<SlotId, string> { [new(0, 1)] = "n4" };
        var plan = new Dictionary<SlotId, string> { [new(0, 1)] = "n2", [new(3, 2)] = "n1" };
        Assert.Equal([new PendingMove("0/1", "n4", "n2", 42, 4_100), new PendingMove("3/2", null, "n1", 7, 70)], TransferPlan.Pending(owners, plan, sized).ToArray());
    }

    [Fact]
    public void A_report_sums_what_is_left_and_done_and_derives_rate_and_eta_from_the_nodes_windows()
    {
        var report = new TransferReport("n1", ValueList.From(["n4"]),
            ValueList.From([new PendingMove("0/1", "n4", "n2", 40, 4_000), new PendingMove("2/0", "n4", "n3", 60, 6_000)]),
            ValueList.From([
                Node("n2", keysDone: 100, bytesDone: 10_000, keysWindow: 60, bytesWindow: 6_000, windowMs: 60_000, new SlotCatchUp("5/1", "n2", 1, 2, 7, 700, 300)),
                Node("n3", keysDone: 50, bytesDone: 5_000, keysWindow: 30, bytesWindow: 4_000, windowMs: 10_000)]));
        Assert.False(report.Settled);
        Assert.Equal(100, report.KeysLeft);
        Assert.Equal(10_000, report.BytesLeft);
        Assert.Equal(157, report.KeysDone);
        Assert.Equal(15_700, report.BytesDone);
        Assert.Equal(1.0 + 3.0, report.KeysPerSecond, 6);
        Assert.Equal(100.0 + 400.0, report.BytesPerSecond, 6);
        Assert.Equal(TimeSpan.FromSeconds(20), report.Eta);
        Assert.Equal(1, report.SlotsCatchingUp);
    }

    [Fact]
    public void The_eta_is_unknown_without_a_rate_and_zero_when_nothing_is_left()
    {
        var noRate = new TransferReport("n1", ValueList<string>.Empty, ValueList.From([new PendingMove("0/1", "n4", "n2", 40, 4_000)]), ValueList.From([Node("n2")]));
        Assert.Null(noRate.Eta);
        var unknownSize = new TransferReport("n1", ValueList<string>.Empty, ValueList.From([new PendingMove("0/1", null, "n2", -1, -1)]),
            ValueList.From([Node("n2", keysWindow: 5, bytesWindow: 50, windowMs: 1000)]));
        Assert.Null(unknownSize.Eta);
        Assert.Equal(1, unknownSize.PendingOfUnknownSize);
        var settled = new TransferReport("n1", ValueList<string>.Empty, ValueList<PendingMove>.Empty, ValueList.From([Node("n2")]));
        Assert.True(settled.Settled);
        Assert.Equal(TimeSpan.Zero, settled.Eta);
        Assert.Contains("none, the cluster is settled", TransferText.Render(settled));
    }

    [Fact]
    public void Done_since_counts_per_node_from_an_earlier_report_new_nodes_from_zero_and_a_restarted_node_never_below_zero()
    {
        var earlier = new TransferReport("n1", ValueList<string>.Empty, ValueList<PendingMove>.Empty,
            ValueList.From([Node("n1", keysDone: 10, bytesDone: 100), Node("n2", keysDone: 500, bytesDone: 5_000), Node("n4", keysDone: 7, bytesDone: 70)]));
        var later = new TransferReport("n1", ValueList<string>.Empty, ValueList<PendingMove>.Empty,
            ValueList.From([Node("n1", keysDone: 25, bytesDone: 250, catchingUp: new SlotCatchUp("1/0", "n1", 0, 2, 5, 50, 10)),
                Node("n2", keysDone: 3, bytesDone: 30), Node("n5", keysDone: 40, bytesDone: 400)]));
        Assert.Equal((15L + 5 + 0 + 40, 150L + 50 + 0 + 400), later.DoneSince(earlier));
    }

    [Fact]
    public void The_window_counts_only_the_last_minute_and_is_as_long_as_it_has_run_before_that()
    {
        var window = new TransferWindow();
        Assert.Equal((0L, 0L, 0L), window.Sum(1_000));
        window.Add(10_000, 5, 500);
        window.Add(40_000, 10, 1_000);
        Assert.Equal((15L, 1_500L, 30_000L), window.Sum(40_000));
        Assert.Equal((10L, 1_000L, 60_000L), window.Sum(80_000));
        Assert.Equal((0L, 0L, 60_000L), window.Sum(200_000));
    }

    [Fact]
    public void The_text_lists_moves_and_catch_ups_and_says_what_it_does_not_know()
    {
        var report = new TransferReport("n1", ValueList.From(["n4"]),
            ValueList.From(Enumerable.Range(0, TransferText.Listed + 3).Select(p => new PendingMove($"{p}/0", "n4", "n2", 10, 2_048)).ToArray()),
            ValueList.From([Node("n2", catchingUp: new SlotCatchUp("5/1", "n2", 1, 2, 7, 700, 1_500))]), "n3 did not answer in time");
        var text = TransferText.Render(report);
        Assert.Contains("warning: n3 did not answer in time", text);
        Assert.Contains("leaving: n4", text);
        Assert.Contains($"slots waiting to move: {TransferText.Listed + 3} (230 keys, 46.0 KiB left)", text);
        Assert.Contains("0/0      n4       -> n2       10 keys, 2.0 KiB", text);
        Assert.Contains("... and 3 more", text);
        Assert.Contains("5/1      on n2       1 of 2 peer exchange(s), 7 keys, 700 B so far, 1.5 s", text);
        Assert.Contains("ETA: not known yet (no rate measured)", text);
    }
}
