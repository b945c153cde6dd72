using System.Collections.Immutable;
using AkkaKv.Coordination;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

/// <summary>
/// The one view of the cluster, exhaustively: for clusters of 1 to 7 members and every subset of
/// them down (unreachable, still members) or gone (removed), every partition's preference list,
/// annotated replica placement, fallbacks, write plan and read plan satisfy what the gateway,
/// hinted handoff, allocation strategy and status rely on. No ActorSystem.
/// </summary>
public sealed class ClusterViewPropertyTests(ITestOutputHelper output)
{
    private const int N = 3;
    private const int Q = 16;
    private const int V = 16;

    public static TheoryData<int> ClusterSizes => new() { 1, 2, 3, 4, 5, 6, 7 };

    private static string[] Nodes(int members) => Enumerable.Range(1, members).Select(i => $"n{i}").ToArray();

    private static Membership MembersOf(IEnumerable<string> nodes, IReadOnlySet<string> down) =>
        Membership.Of(nodes.Select(n => new MemberState(n, $"akka.tcp://akkakv@127.0.0.1:{4000 + int.Parse(n[1..])}", MemberStatus.Up, !down.Contains(n))));

    private static IEnumerable<HashSet<string>> Subsets(string[] nodes) =>
        Enumerable.Range(0, 1 << nodes.Length).Select(mask => nodes.Where((_, i) => (mask & (1 << i)) != 0).ToHashSet());

    private static ClusterView View(Membership members, string self = "n1") =>
        ClusterView.Empty(self, N, Q, V).WithMembers(members);

    [Theory]
    [MemberData(nameof(ClusterSizes))]
    public void With_any_subset_of_nodes_down_every_partition_is_placed_and_planned_as_the_data_path_needs(int members)
    {
        var nodes = Nodes(members);
        var checkedPlans = 0;
        foreach (var down in Subsets(nodes))
        {
            var view = View(MembersOf(nodes, down));
            // Unreachable nodes stay on the ring: only leaving or being downed takes a node off it.
            Assert.Equal(nodes.Order(StringComparer.Ordinal), view.Ring.Nodes.ToList());
            Assert.Equal(down.Order(), view.Members.Unreachable.Order());
            foreach (var node in nodes) Assert.Equal(!down.Contains(node), view.AcceptsHandoff(node));
            for (var p = 0; p < Q; p++)
            {
                var preference = view.PreferenceListOf(p);
                Assert.Equal(Math.Min(N, members), preference.Primaries.Length);
                Assert.Equal(nodes.Order(), preference.Primaries.Concat(preference.Fallbacks).Order());
                Assert.Equal(preference.Primaries.Length + preference.Fallbacks.Length, preference.Primaries.Concat(preference.Fallbacks).Distinct().Count());

                var replicas = view.For(p);
                Assert.Equal(N, replicas.SlotNodes.Count);
                var holders = replicas.SlotNodes.Values.ToHashSet();
                Assert.All(replicas.SlotNodes.Values, node => Assert.Contains(node, preference.Primaries));
                // N distinct nodes whenever there are N members; fewer members share, at most ceil(N/m) each.
                if (members >= N) Assert.Equal(N, holders.Count);
                Assert.All(replicas.SlotNodes.Values.GroupBy(n => n), g => Assert.True(g.Count() <= (N + members - 1) / members));
                for (var slot = 0; slot < N; slot++) Assert.Equal(!down.Contains(replicas.SlotNodes[slot]), replicas.IsReachable(slot));
                // Fallbacks: exactly the partition's non-primary nodes that are reachable and hold no slot, in ring order.
                Assert.Equal(preference.Fallbacks.Where(f => !down.Contains(f) && !holders.Contains(f)), replicas.Fallbacks);

                var reachable = Enumerable.Range(0, N).Count(replicas.IsReachable);
                for (var w = 1; w <= N; w++)
                    foreach (var sloppy in new[] { false, true })
                    {
                        var options = new ResolvedOptions(N, R: w, W: w, TimeSpan.FromSeconds(5), sloppy);
                        var plan = WritePlan.For(p, replicas, options, "n1");
                        checkedPlans++;
                        CheckWritePlan(plan, replicas, reachable, down, holders);
                        Assert.Equal(reachable >= w, ReadPlan.FailFastReason(replicas, options) is null);
                    }
            }
        }
        output.WriteLine($"{members} member(s): {1 << members} subsets down, {Q} partitions each, {checkedPlans} write plans checked");
    }

    private static void CheckWritePlan(WritePlan plan, PartitionView replicas, int reachable, HashSet<string> down, HashSet<string> holders)
    {
        // Every slot is tried to coordinate once: reachable ones first, each group in slot order.
        Assert.Equal(Enumerable.Range(0, N), plan.CoordinatorOrder.Order());
        var expectedOrder = Enumerable.Range(0, N).Where(replicas.IsReachable).Concat(Enumerable.Range(0, N).Where(i => !replicas.IsReachable(i)));
        Assert.Equal(expectedOrder, plan.CoordinatorOrder);
        Assert.Equal(Enumerable.Range(0, N).Where(i => !replicas.IsReachable(i)), plan.HintNow);
        for (var c = 0; c < N; c++) Assert.Equal(c < N - 1, plan.MayDecline(c));

        // Fail fast exactly when W cannot be reached: strict counts reachable primaries only;
        // sloppy adds one counted hint per unreachable primary, each on a distinct reachable fallback.
        var countableHints = plan.Sloppy ? Math.Min(N - reachable, replicas.Fallbacks.Length) : 0;
        var reachableQuorum = reachable >= 1 && reachable + countableHints >= plan.W;
        Assert.Equal(reachableQuorum, plan.FailFast is null);
        if (plan.FailFast is not null) Assert.Contains($"W={plan.W}", plan.FailFast);

        // Hint holders: the fallbacks in ring order, then this node; only a sloppy write's fallback hint counts.
        var counted = new HashSet<string>();
        for (var k = 0; k < N + 2; k++)
        {
            var hint = plan.HintFor(k);
            if (k < replicas.Fallbacks.Length)
            {
                Assert.Equal(replicas.Fallbacks[k], hint.Holder);
                Assert.Equal(plan.Sloppy, hint.Counts);
                Assert.DoesNotContain(hint.Holder, down);
                Assert.DoesNotContain(hint.Holder, holders);
                Assert.True(counted.Add(hint.Holder), "two hints of one write on the same fallback");
            }
            else
            {
                Assert.Equal("n1", hint.Holder);
                Assert.False(hint.Counts);
            }
        }
        // A strict write never counts a hint.
        if (!plan.Sloppy) Assert.All(Enumerable.Range(0, N + 2), k => Assert.False(plan.HintFor(k).Counts));
    }

    [Theory]
    [MemberData(nameof(ClusterSizes))]
    public void A_removed_node_leaves_the_ring_and_every_preference_list_and_takes_replay_at_once(int members)
    {
        var nodes = Nodes(members);
        foreach (var removed in Subsets(nodes).Where(s => s.Count < members))
        {
            var remaining = nodes.Where(n => !removed.Contains(n)).ToArray();
            var view = View(MembersOf(remaining, new HashSet<string>()));
            Assert.Equal(remaining.Order(), view.Ring.Nodes.ToList());
            foreach (var gone in removed) Assert.True(view.AcceptsHandoff(gone), $"{gone} is no member: its hints go to its slots' new homes");
            for (var p = 0; p < Q; p++)
            {
                var replicas = view.For(p);
                Assert.DoesNotContain(replicas.SlotNodes.Values, removed.Contains);
                Assert.DoesNotContain(replicas.Fallbacks, removed.Contains);
                Assert.Equal(Math.Min(N, remaining.Length), replicas.SlotNodes.Values.Distinct().Count());
            }
        }
    }

    [Fact]
    public void The_view_is_the_same_whatever_order_members_and_events_arrive_in()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var nodes = Nodes(7);
        var down = new HashSet<string> { "n2", "n5" };
        var reference = View(MembersOf(nodes, down));
        for (var round = 0; round < 20; round++)
        {
            var shuffled = nodes.OrderBy(_ => random.Next()).ToArray();
            var view = View(MembersOf(shuffled, down), self: "n1");
            for (var p = 0; p < Q; p++)
            {
                var a = reference.For(p);
                var b = view.For(p);
                Assert.Equal(a.SlotNodes.OrderBy(kv => kv.Key), b.SlotNodes.OrderBy(kv => kv.Key));
                Assert.Equal(a.Fallbacks.ToList(), b.Fallbacks.ToList());
                Assert.Equal(a.Unreachable.Order(), b.Unreachable.Order());
            }
        }
    }

    [Fact]
    public void Slots_seen_on_a_node_win_over_the_ring_rule_and_an_unreachable_holder_makes_its_slot_unreachable()
    {
        var nodes = Nodes(5);
        var view = View(MembersOf(nodes, new HashSet<string> { "n4" }));
        var planned = view.For(3);
        // Slot 1 of partition 3 was last seen on n4 (it had not moved there by the ring rule).
        var seen = view.WithSlotsSeen(ImmutableDictionary<SlotId, string>.Empty.Add(new SlotId(3, 1), "n4"));
        var replicas = seen.For(3);
        Assert.Equal("n4", replicas.SlotNodes[1]);
        Assert.False(replicas.IsReachable(1));
        Assert.DoesNotContain("n4", replicas.Fallbacks);
        // The other slots keep a home distinct from n4 (the ring rule fills around what is seen).
        Assert.NotEqual("n4", replicas.SlotNodes[0]);
        Assert.NotEqual("n4", replicas.SlotNodes[2]);
        Assert.Equal(3, replicas.SlotNodes.Values.Distinct().Count());
        Assert.NotNull(planned);
    }

    [Fact]
    public void A_partition_view_holds_answers_as_seen_only_when_every_slot_was_seen_on_the_node_that_answered()
    {
        // What decides whether a finished coordinator tells its gateway where the slots answered.
        var view = View(MembersOf(Nodes(5), new HashSet<string>()));
        var planned = view.For(3);
        Assert.False(planned.AllSeen);
        var asPlanned = Enumerable.Range(0, 3).Select(i => (i, planned.NodeOf(i))).ToList();
        // Answers from where the ring places the slots are still news: the gateway had not seen them.
        Assert.False(planned.HoldsSeen(asPlanned));

        var seen = view.WithSlotsSeen(asPlanned.ToImmutableDictionary(a => new SlotId(3, a.Item1), a => a.Item2)).For(3);
        Assert.True(seen.AllSeen);
        Assert.True(seen.HoldsSeen(asPlanned));
        Assert.True(seen.HoldsSeen(asPlanned.Take(2)));
        // A slot that answered from another node, or an index this view does not hold, is news.
        var other = Nodes(5).First(n => !seen.SlotNodes.Values.Contains(n));
        Assert.False(seen.HoldsSeen([(1, other)]));
        Assert.False(seen.HoldsSeen([(-1, seen.NodeOf(0))]));
    }

    [Fact]
    public void A_caller_may_narrow_who_counts_as_unreachable_for_routing()
    {
        // The gateway routes around a node only when its own failure detector agrees with the gossip.
        var view = View(MembersOf(Nodes(4), new HashSet<string> { "n2", "n3" }));
        var narrowed = view.For(0, ImmutableHashSet.Create("n3"));
        foreach (var (slot, node) in narrowed.SlotNodes) Assert.Equal(node != "n3", narrowed.IsReachable(slot));
    }

    [Fact]
    public void The_ring_is_rebuilt_only_when_the_nodes_that_count_change()
    {
        var nodes = Nodes(4);
        var view = View(MembersOf(nodes, new HashSet<string>()));
        var unreachable = view.WithMembers(MembersOf(nodes, new HashSet<string> { "n2" }));
        Assert.Same(view.Ring, unreachable.Ring);
        var smaller = view.WithMembers(MembersOf(nodes[..3], new HashSet<string>()));
        Assert.NotSame(view.Ring, smaller.Ring);
        Assert.Equal(["n1", "n2", "n3"], smaller.Ring.Nodes.ToList());
    }

    [Fact]
    public void Incarnations_of_one_name_are_read_as_the_data_path_expects()
    {
        // n2 restarted: its old incarnation is still a member (unreachable, not yet removed), its new one is Up.
        var members = Membership.Of([
            new MemberState("n1", "a1", MemberStatus.Up, true),
            new MemberState("n2", "a2-old", MemberStatus.Up, false),
            new MemberState("n2", "a2-new", MemberStatus.Up, true),
        ]);
        Assert.Contains("n2", members.Unreachable);     // coordinators route around it until the old one is gone
        Assert.Contains("n2", members.Healthy);         // an Up, reachable incarnation may take slot hand-offs
        Assert.False(members.AcceptsHandoff("n2"));     // hints wait until every incarnation is reachable
        Assert.Equal(["n1", "n2"], members.RingNodes.ToList());
        var removed = members.Without("a2-old");
        Assert.DoesNotContain("n2", removed.Unreachable);
        Assert.True(removed.AcceptsHandoff("n2"));
        Assert.False(members.WithReachability("a2-old", true).AnyUnreachable);
        Assert.True(members.WithReachability("a2-old", true).AllUpAndReachable);
    }
}
