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
    public void Versions_to_merge_are_refused_past_n_times_the_per_key_limits_or_with_malformed_versions()
    {
        var n = Settings.ReplicationFactor;
        var most = SiblingSet.Of(Enumerable.Range(1, Settings.MaxSiblings * n).Select(i => Version($"n{i}/0.1", 1, B("v"))));
        Assert.Null(PeerInput.CheckVersions(B("k"), most, Settings));
        var tooMany = SiblingSet.Of(Enumerable.Range(1, Settings.MaxSiblings * n + 1).Select(i => Version($"n{i}/0.1", 1, B("v"))));
        Assert.Contains("over N x limits.max-siblings", PeerInput.CheckVersions(B("k"), tooMany, Settings));

        var big = Bytes.From(new byte[Settings.MaxValueBytes]);
        var perKey = Settings.MaxBytesPerKey * (long)n / Settings.MaxValueBytes;
        var tooBig = SiblingSet.Of(Enumerable.Range(1, (int)perKey + 1).Select(i => Version($"n{i}/0.1", 1, big)));
        Assert.Contains("over N x limits.max-bytes-per-key", PeerInput.CheckVersions(B("k"), tooBig, Settings));

        Assert.Contains("max-value-bytes", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 1, Bytes.From(new byte[Settings.MaxValueBytes + 1]))]), Settings));
        Assert.Contains("counters start at 1", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 0, B("v"))]), Settings));
        Assert.Contains("replica id of 300 characters", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 1, B("v"), VersionVector.Of([new(new string('y', 300), 2)]))]), Settings));
        Assert.Contains("replica id of 0 characters", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("", 1, B("v"))]), Settings));
        Assert.Contains("replica id of 257 characters", PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version(new string('x', 257), 1, B("v"))]), Settings));
        Assert.Contains("empty", PeerInput.CheckVersions(Bytes.Empty, SiblingSet.Of([Version("a/0.1", 1, B("v"))]), Settings));
        // A tombstone (no value) is a version like any other.
        Assert.Null(PeerInput.CheckVersions(B("k"), SiblingSet.Of([Version("a/0.1", 3, null)]), Settings));
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
                Assert.Null(PeerInput.CheckVersions(DvvHistory.Key, set, Settings));
        }, iter: 300, print: DvvHistory.Print, writeLine: output.WriteLine);
    }
}
