using AkkaKv.Ring;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class HashRingTests(ITestOutputHelper output)
{
    /// <summary>A ring input: distinct node names, V, log2 Q, N and a seed for shuffling the input order.</summary>
    private static readonly Gen<(string[] Nodes, int V, int Log2Q, int N, int ShuffleSeed)> GenRing =
        Gen.Select(
            Gen.Int[0, 50].Array[1, 8].Select(ids => ids.Distinct().Select(i => $"node-{i}").ToArray()),
            Gen.Int[1, 16],
            Gen.Int[1, 6],
            Gen.Int[1, 5],
            Gen.Int);

    private static string Print((string[] Nodes, int V, int Log2Q, int N, int ShuffleSeed) t) =>
        $"nodes=[{string.Join(",", t.Nodes)}] V={t.V} Q={1 << t.Log2Q} N={t.N} shuffleSeed={t.ShuffleSeed}";

    [Fact]
    public void Primaries_are_min_N_and_node_count_distinct_nodes()
    {
        GenRing.Sample(t =>
        {
            var ring = new HashRing(t.Nodes, t.V);
            var partitioner = new Partitioner(1 << t.Log2Q);
            for (var p = 0; p < partitioner.PartitionCount; p++)
            {
                var pl = PreferenceList.For(p, t.N, ring, partitioner);
                Assert.Equal(Math.Min(t.N, t.Nodes.Length), pl.Primaries.Length);
                Assert.Equal(pl.Primaries.Length, pl.Primaries.Distinct().Count());
                Assert.Equal(t.Nodes.Length < t.N, pl.IsShortOfNodes(t.N));
                Assert.Equal(p, pl.Partition);
            }
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Primaries_and_fallbacks_together_name_every_node_exactly_once()
    {
        GenRing.Sample(t =>
        {
            var ring = new HashRing(t.Nodes, t.V);
            var partitioner = new Partitioner(1 << t.Log2Q);
            for (var p = 0; p < partitioner.PartitionCount; p++)
            {
                var pl = PreferenceList.For(p, t.N, ring, partitioner);
                var all = pl.Primaries.Concat(pl.Fallbacks).ToList();
                Assert.Equal(t.Nodes.Length, all.Count);
                Assert.Equal(t.Nodes.OrderBy(n => n, StringComparer.Ordinal), all.OrderBy(n => n, StringComparer.Ordinal));
            }
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void The_same_members_in_any_order_give_the_same_preference_lists()
    {
        GenRing.Sample(t =>
        {
            var shuffled = t.Nodes.ToArray();
            new Random(t.ShuffleSeed).Shuffle(shuffled);
            var a = new HashRing(t.Nodes, t.V);
            var b = new HashRing(shuffled, t.V);
            var partitioner = new Partitioner(1 << t.Log2Q);
            for (var p = 0; p < partitioner.PartitionCount; p++)
            {
                var x = PreferenceList.For(p, t.N, a, partitioner);
                var y = PreferenceList.For(p, t.N, b, partitioner);
                Assert.Equal(x.Primaries.ToArray(), y.Primaries.ToArray());
                Assert.Equal(x.Fallbacks.ToArray(), y.Fallbacks.ToArray());
            }
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Adding_a_node_only_ever_moves_primary_memberships_to_the_new_node()
    {
        GenRing.Where(t => !t.Nodes.Contains("node-new")).Sample(t =>
        {
            var before = new HashRing(t.Nodes, t.V);
            var after = new HashRing(t.Nodes.Append("node-new"), t.V);
            var partitioner = new Partitioner(1 << t.Log2Q);
            for (var p = 0; p < partitioner.PartitionCount; p++)
            {
                var old = PreferenceList.For(p, t.N, before, partitioner).Primaries;
                var now = PreferenceList.For(p, t.N, after, partitioner).Primaries;
                Assert.All(now.Except(old), n => Assert.Equal("node-new", n));
                Assert.True(old.Except(now).Count() <= 1, $"partition {p}: more than one node left the primaries");
            }
        }, iter: 300, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Adding_a_4th_node_to_3_moves_about_a_quarter_of_the_primary_memberships()
    {
        const int q = 256, v = 128, n = 3;
        var partitioner = new Partitioner(q);
        var ring3 = new HashRing(["n1", "n2", "n3"], v);
        var ring4 = new HashRing(["n1", "n2", "n3", "n4"], v);
        var changed = 0;
        for (var p = 0; p < q; p++)
        {
            var before = PreferenceList.For(p, n, ring3, partitioner).Primaries;
            var after = PreferenceList.For(p, n, ring4, partitioner).Primaries;
            changed += before.Except(after).Count();
        }
        const int total = q * n;
        var fraction = (double)changed / total;
        output.WriteLine($"primary memberships changed: {changed} of {total} ({fraction:P1}), ideal {total / 4} (25%)");
        Assert.InRange(fraction, 0.5 * 0.25, 1.5 * 0.25);
    }

    [Fact]
    public void An_empty_ring_has_no_preference_list()
    {
        var ring = new HashRing([], 8);
        Assert.True(ring.IsEmpty);
        var pl = PreferenceList.For(0, 3, ring, new Partitioner(4));
        Assert.Empty(pl.Primaries);
        Assert.Empty(pl.Fallbacks);
    }

    [Fact]
    public void A_replication_factor_below_1_or_no_virtual_nodes_is_refused()
    {
        var ring = new HashRing(["n1"], 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => PreferenceList.For(0, 0, ring, new Partitioner(4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HashRing(["n1"], 0));
    }

    [Fact]
    public void Duplicate_member_names_count_as_one_node()
    {
        var ring = new HashRing(["n1", "n2", "n1"], 8);
        Assert.Equal(["n1", "n2"], ring.Nodes);
        var pl = PreferenceList.For(0, 3, ring, new Partitioner(4));
        Assert.Equal(2, pl.Primaries.Length);
    }
}
