using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Core;

/// <summary>What a node refuses from other nodes (<see cref="PeerInput"/>), and that nothing an honest node sends is refused.</summary>
public sealed class PeerInputTests(ITestOutputHelper output)
{
    private static readonly KvSettings Settings = DefaultSettings(); // 256 partitions, N=3, the shipped limits

    private static Sibling Version(string actor, long counter, Bytes? value, VersionVector? past = null) =>
        new(new Dot(actor, counter), past ?? VersionVector.Empty, value, 1);

    [Theory]
    [InlineData(0, 0, null)]
    [InlineData(255, 2, null)]
    [InlineData(256, 0, "partition 256 is outside [0, 256)")]
    [InlineData(-1, 0, "partition -1 is outside")]
    [InlineData(3, 3, "replica index 3 is outside [0, N=3)")]
    [InlineData(3, -1, "replica index -1 is outside")]
    public void A_slot_outside_the_ring_is_refused(int partition, int index, string? error)
    {
        var answer = PeerInput.CheckSlot(new SlotId(partition, index), Settings.PartitionCount, Settings.ReplicationFactor);
        if (error is null) Assert.Null(answer);
        else Assert.Contains(error, answer);
    }

    [Fact]
    public void A_put_is_held_to_the_limits_clients_are_held_to()
    {
        Assert.Null(PeerInput.CheckPut(B("k"), B("v"), null, Settings));
        Assert.Null(PeerInput.CheckPut(B("k"), null, VersionVector.Empty, Settings)); // a delete
        Assert.Contains("empty", PeerInput.CheckPut(Bytes.Empty, B("v"), null, Settings));
        Assert.Contains("max-key-bytes", PeerInput.CheckPut(Bytes.From(new byte[Settings.MaxKeyBytes + 1]), B("v"), null, Settings));
        Assert.Contains("max-value-bytes", PeerInput.CheckPut(B("k"), Bytes.From(new byte[Settings.MaxValueBytes + 1]), null, Settings));
        var huge = VersionVector.Of(Enumerable.Range(0, PeerInput.MaxVectorEntries + 1).Select(i => KeyValuePair.Create($"n1/0.{i}", 1L)));
        Assert.Contains("4097 replica ids", PeerInput.CheckPut(B("k"), B("v"), huge, Settings));
    }

    [Fact]
    public void Versions_to_merge_are_held_to_fixed_bounds_not_the_configured_limits_and_malformed_versions_are_refused()
    {
        // Past the configured client limits (a limit lowered since they were written): still merged.
        var bigValue = Bytes.From(new byte[Settings.MaxValueBytes * 2]);
        var many = SiblingSet.Of(Enumerable.Range(1, Settings.MaxSiblings * 10).Select(i => Version($"n{i}/0.1", 1, B("v"))));
        Assert.Null(PeerInput.CheckVersions(Bytes.From(new byte[Settings.MaxKeyBytes * 4]), SiblingSet.Of([Version("a/0.1", 1, bigValue)])));
        Assert.Null(PeerInput.CheckVersions(B("k"), many));

        // Past what a frame carries or any replica holds: refused.
        Assert.Contains("over 4096", PeerInput.CheckVersions(B("k"), SiblingSet.Of(Enumerable.Range(1, 4097).Select(i => Version($"n{i}/0.1", 1, null)))));
        Assert.Contains("over 16777216", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 1, Bytes.From(new byte[PeerInput.MaxMergedValueBytes + 1]))])));
        Assert.Contains("over 65536", PeerInput.CheckVersions(Bytes.From(new byte[PeerInput.MaxMergedKeyBytes + 1]), SiblingSet.Of([Version("a/0.1", 1, null)])));
        Assert.Contains("counters start at 1", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 0, B("v"))])));
        Assert.Contains("replica id of 300 characters", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 1, B("v"), VersionVector.Of([new(new string('y', 300), 2)]))])));
        Assert.Contains("replica id of 0 characters", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("", 1, B("v"))])));
        Assert.Contains("replica id of 257 characters", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version(new string('x', 257), 1, B("v"))])));
        Assert.Contains("empty", PeerInput.CheckVersions(Bytes.Empty, SiblingSet.Of([Version("a/0.1", 1, B("v"))])));
        // A tombstone (no value) is a version like any other.
        Assert.Null(PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 3, null)])));
    }

    [Theory]
    [InlineData(new long[] { 3, 3 }, 0, 3, 3L)]      // both peers purged: reset to their generation
    [InlineData(new long[] { 3, 0 }, 0, 3, null)]    // one peer ahead of two: not a majority
    [InlineData(new long[] { 5, 3 }, 0, 3, 3L)]      // the highest generation a majority holds
    [InlineData(new long[] { 3 }, 0, 3, null)]       // only one answer so far
    [InlineData(new long[] { 2, 2 }, 2, 3, null)]    // not ahead
    [InlineData(new long[] { 9, 9, 0, 0 }, 1, 5, null)] // N=5: two of five is no majority
    [InlineData(new long[] { 9, 9, 4, 0 }, 1, 5, 4L)]   // three of five at 4 or more
    public void A_replica_resets_only_to_a_generation_a_majority_of_the_partition_holds(long[] peers, long own, int n, long? expected) =>
        Assert.Equal(expected, PeerInput.ConfirmedGeneration(peers, own, n));

    [Fact]
    public void A_purge_moves_the_generation_on_by_one_at_most()
    {
        Assert.Null(PeerInput.CheckPurgeGeneration(4, 3));
        Assert.Null(PeerInput.CheckPurgeGeneration(3, 3));
        Assert.Null(PeerInput.CheckPurgeGeneration(1, 3));
        Assert.Contains("moves the generation on by one", PeerInput.CheckPurgeGeneration(5, 3));
        Assert.NotNull(PeerInput.CheckPurgeGeneration(long.MaxValue, 3));
        Assert.NotNull(PeerInput.CheckPurgeGeneration(-1, 3));
    }

    [Fact]
    public void Every_set_an_honest_replica_ever_holds_passes()
    {
        // Generated histories of puts, blind puts, deletes, merges and wiped replicas (DvvHistory):
        // whatever a replica holds and sends on is accepted, so the checks never drop an honest write.
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            foreach (var set in h.Observed)
                Assert.Null(PeerInput.CheckVersions(DvvHistory.Key, set));
        }, iter: 300, print: DvvHistory.Print, writeLine: output.WriteLine);
    }
}
