using AkkaKv.Replica;
using AkkaKv.Ring;
using Xunit;

namespace AkkaKv.Tests.Core;

public sealed class SnapshotScheduleTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(int.MaxValue)]
    public void A_slots_stagger_lies_within_the_interval_and_is_the_same_every_time(int every)
    {
        for (var p = 0; p < 256; p++)
            for (var i = 0; i < 5; i++)
            {
                var slot = new SlotId(p, i);
                var stagger = SnapshotSchedule.InitialCount(slot, every);
                Assert.InRange(stagger, 0, every - 1);
                Assert.Equal(stagger, SnapshotSchedule.InitialCount(new SlotId(p, i), every));
            }
    }

    [Fact]
    public void The_slots_of_a_default_ring_spread_their_first_snapshots_over_the_whole_interval()
    {
        // 256 partitions x 3 replicas, snapshot-every = 1000 (the defaults): every tenth of the
        // interval holds some slots, none more than twice its even share (768 / 10 = 77).
        var counts = new int[10];
        for (var p = 0; p < 256; p++)
            for (var i = 0; i < 3; i++)
                counts[SnapshotSchedule.InitialCount(new SlotId(p, i), 1000) / 100]++;
        Assert.All(counts, c => Assert.InRange(c, 20, 154));
        // The slots of one partition (which a 3-node cluster puts on 3 different nodes) also differ,
        // and a node's slots do not share one stagger.
        Assert.True(Enumerable.Range(0, 256).Select(p => SnapshotSchedule.InitialCount(new SlotId(p, 0), 1000)).Distinct().Count() > 200);
    }

    [Fact]
    public void A_snapshot_is_due_once_the_count_reaches_the_interval()
    {
        Assert.False(SnapshotSchedule.Due(999, 1000));
        Assert.True(SnapshotSchedule.Due(1000, 1000));
        Assert.True(SnapshotSchedule.Due(1001, 1000));
    }

    [Fact]
    public void An_interval_below_1_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SnapshotSchedule.InitialCount(new SlotId(0, 0), 0));
    }
}
