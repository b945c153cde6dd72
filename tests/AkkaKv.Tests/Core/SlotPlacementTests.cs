using AkkaKv.Ring;
using AkkaKv.Sharding;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class SlotPlacementTests(ITestOutputHelper output)
{
    private static readonly string[] Pool = ["n1", "n2", "n3", "n4", "n5", "n6"];

    /// <summary>N, the partition's primaries (distinct, in ring order) and the current owner of each slot (any node or none).</summary>
    private static readonly Gen<(int N, string[] Primaries, string?[] Current)> GenAssignment =
        Gen.Int[1, 5].SelectMany(n => Gen.Select(
            Gen.Int[0, Pool.Length - 1].Array[0, 6].Select(ix => ix.Distinct().Select(i => Pool[i]).ToArray()),
            Gen.Int[-1, Pool.Length - 1].Array[n].Select(ix => ix.Select(i => i < 0 ? null : Pool[i]).ToArray()),
            (primaries, current) => (n, primaries, current)));

    private static string Print((int N, string[] Primaries, string?[] Current) t) =>
        $"N={t.N} primaries=[{string.Join(",", t.Primaries)}] current=[{string.Join(",", t.Current.Select(c => c ?? "-"))}]";

    [Fact]
    public void With_at_least_N_primaries_the_N_slots_sit_on_N_distinct_primaries()
    {
        GenAssignment.Where(t => t.Primaries.Length >= t.N).Sample(t =>
        {
            var result = SlotPlacement.Assign(t.N, t.Current, t.Primaries);
            Assert.Equal(t.N, result.Length);
            Assert.All(result, owner => Assert.Contains(owner, t.Primaries));
            Assert.Equal(t.N, result.Distinct().Count());
        }, iter: 1000, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void With_fewer_primaries_than_N_every_slot_still_gets_a_primary_and_no_node_takes_more_than_its_share()
    {
        GenAssignment.Where(t => t.Primaries.Length > 0).Sample(t =>
        {
            var result = SlotPlacement.Assign(t.N, t.Current, t.Primaries);
            var cap = (t.N + t.Primaries.Length - 1) / t.Primaries.Length;
            Assert.All(result, owner => Assert.Contains(owner, t.Primaries));
            Assert.All(result.GroupBy(o => o), g => Assert.True(g.Count() <= cap, $"{g.Key} holds {g.Count()} slots, more than ceil(N/m)={cap}"));
        }, iter: 1000, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_slot_whose_node_is_still_a_primary_never_moves()
    {
        GenAssignment.Where(t => t.Primaries.Length > 0).Sample(t =>
        {
            var result = SlotPlacement.Assign(t.N, t.Current, t.Primaries);
            var cap = (t.N + t.Primaries.Length - 1) / t.Primaries.Length;
            for (var i = 0; i < t.N; i++)
            {
                var owner = t.Current[i];
                if (owner is null || !t.Primaries.Contains(owner)) continue;
                // Earlier slots on the same node keep their place first; a node never holds more than its share.
                var earlierOnSameNode = t.Current.Take(i).Count(c => c == owner);
                if (earlierOnSameNode < cap) Assert.Equal(owner, result[i]);
            }
        }, iter: 1000, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Without_primaries_nothing_moves()
    {
        GenAssignment.Sample(t =>
        {
            var result = SlotPlacement.Assign(t.N, t.Current, []);
            Assert.Equal(t.Current, result.ToArray());
        }, iter: 200, print: Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Assign_refuses_a_current_owner_list_of_the_wrong_length()
    {
        var e = Assert.Throws<ArgumentException>(() => SlotPlacement.Assign(3, ["n1", "n2"], ["n1", "n2", "n3"]));
        Assert.Contains("expected 3 current owners, got 2", e.Message);
    }

    [Fact]
    public void Unallocated_slots_go_to_the_primary_of_their_own_index()
    {
        var result = SlotPlacement.Assign(3, [null, null, null], ["x", "y", "z"]);
        Assert.Equal(new string?[] { "x", "y", "z" }, result.ToArray());
    }

    [Fact]
    public void Adding_a_4th_node_to_3_moves_only_the_slots_whose_node_left_the_primaries()
    {
        const int q = 256, v = 128, n = 3;
        var partitioner = new Partitioner(q);
        var ring3 = new HashRing(["n1", "n2", "n3"], v);
        var ring4 = new HashRing(["n1", "n2", "n3", "n4"], v);

        var plan3 = SlotPlacement.Plan(ring3, partitioner, n, new Dictionary<SlotId, string>());
        Assert.Equal(q * n, plan3.Count);
        Assert.Equal(0, SlotPlacement.CountCoLocatedPartitions(plan3));
        var plan4 = SlotPlacement.Plan(ring4, partitioner, n, plan3);
        Assert.Equal(q * n, plan4.Count);
        Assert.Equal(0, SlotPlacement.CountCoLocatedPartitions(plan4));

        var moved = plan3.Count(kv => plan4[kv.Key] != kv.Value);
        var ownerLeftPrimaries = plan3.Count(kv =>
            !PreferenceList.For(kv.Key.Partition, n, ring4, partitioner).Primaries.Contains(kv.Value));
        output.WriteLine($"slots moved: {moved} of {q * n}, ideal {q * n / 4}");

        Assert.Equal(ownerLeftPrimaries, moved);
        Assert.All(plan3.Where(kv => plan4[kv.Key] != kv.Value), kv => Assert.Equal("n4", plan4[kv.Key]));
        Assert.InRange(moved, 0.5 * q * n / 4, 1.5 * q * n / 4);
    }

    [Fact]
    public void A_fresh_plan_puts_slot_i_on_the_i_th_primary()
    {
        var partitioner = new Partitioner(16);
        var ring = new HashRing(["n1", "n2", "n3", "n4", "n5"], 16);
        var plan = SlotPlacement.Plan(ring, partitioner, 3, new Dictionary<SlotId, string>());
        for (var p = 0; p < 16; p++)
        {
            var primaries = PreferenceList.For(p, 3, ring, partitioner).Primaries;
            for (var i = 0; i < 3; i++) Assert.Equal(primaries[i], plan[new SlotId(p, i)]);
        }
    }

    [Fact]
    public void With_2_nodes_and_N_3_every_slot_has_an_owner_and_every_partition_is_co_located()
    {
        const int q = 256, n = 3;
        var partitioner = new Partitioner(q);
        var ring2 = new HashRing(["n1", "n2"], 128);
        var plan = SlotPlacement.Plan(ring2, partitioner, n, new Dictionary<SlotId, string>());
        Assert.Equal(q * n, plan.Count);
        Assert.All(plan.Values, owner => Assert.Contains(owner, new[] { "n1", "n2" }));
        Assert.Equal(q, SlotPlacement.CountCoLocatedPartitions(plan));
        for (var p = 0; p < q; p++)
            Assert.Equal(2, Enumerable.Range(0, n).Select(i => plan[new SlotId(p, i)]).Distinct().Count());

        // A third node joining spreads every partition over three distinct nodes again.
        var plan3 = SlotPlacement.Plan(new HashRing(["n1", "n2", "n3"], 128), partitioner, n, plan);
        Assert.Equal(0, SlotPlacement.CountCoLocatedPartitions(plan3));
    }

    [Fact]
    public void After_a_fourth_node_joins_the_moves_are_exactly_the_slots_whose_planned_owner_changed_and_all_go_to_it()
    {
        const int q = 64, n = 3;
        var partitioner = new Partitioner(q);
        var plan3 = SlotPlacement.Plan(new HashRing(["n1", "n2", "n3"], 32), partitioner, n, new Dictionary<SlotId, string>());
        Assert.Empty(SlotPlacement.Moves(plan3, plan3));

        var plan4 = SlotPlacement.Plan(new HashRing(["n1", "n2", "n3", "n4"], 32), partitioner, n, plan3);
        var moves = SlotPlacement.Moves(plan3, plan4);

        Assert.Equal(plan3.Count(kv => plan4[kv.Key] != kv.Value), moves.Count);
        Assert.NotEmpty(moves);
        Assert.All(moves, m => Assert.Equal((plan3[m.Slot], "n4"), (m.From, m.To)));
        Assert.Equal(moves.OrderBy(m => m.Slot.Partition).ThenBy(m => m.Slot.Index), moves);
    }

    [Fact]
    public void An_unallocated_slot_or_one_the_plan_does_not_cover_is_not_a_move()
    {
        var owners = new Dictionary<SlotId, string> { [new SlotId(0, 0)] = "n1", [new SlotId(0, 1)] = "n2", [new SlotId(1, 0)] = "n3" };
        var plan = new Dictionary<SlotId, string> { [new SlotId(0, 0)] = "n1", [new SlotId(0, 1)] = "n3", [new SlotId(0, 2)] = "n2" };

        var moves = SlotPlacement.Moves(owners, plan);

        var move = Assert.Single(moves);
        Assert.Equal(new SlotMove(new SlotId(0, 1), "n2", "n3"), move);
        Assert.Equal("0/1 n2→n3", move.ToString());
    }

    [Fact]
    public void An_empty_ring_plans_nothing()
    {
        var plan = SlotPlacement.Plan(new HashRing([], 8), new Partitioner(4), 3, new Dictionary<SlotId, string>());
        Assert.Empty(plan);
        Assert.Equal(0, SlotPlacement.CountCoLocatedPartitions(plan));
    }

    [Theory]
    [InlineData("0/0", 0, 0)]
    [InlineData("255/2", 255, 2)]
    [InlineData("12/10", 12, 10)]
    public void A_slot_id_prints_as_partition_slash_index_and_parses_back(string text, int partition, int index)
    {
        var slot = SlotId.Parse(text);
        Assert.Equal(new SlotId(partition, index), slot);
        Assert.Equal(text, slot.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/1")]
    [InlineData("1/")]
    [InlineData("1")]
    [InlineData("a/b")]
    [InlineData("-1/2")]
    [InlineData("1/-2")]
    [InlineData(" 1/2")]
    [InlineData("1/2/3")]
    [InlineData("99999999999/1")]
    public void Anything_else_is_not_a_slot_id(string? text)
    {
        Assert.False(SlotId.TryParse(text, out _));
        if (text is not null) Assert.Throws<FormatException>(() => SlotId.Parse(text));
    }
}
