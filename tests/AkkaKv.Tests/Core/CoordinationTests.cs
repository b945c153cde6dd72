using AkkaKv.Coordination;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class QuorumTallyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(3, 0)]
    [InlineData(3, 4)]
    [InlineData(1, -1)]
    public void A_quorum_outside_1_to_N_is_refused(int n, int required) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => QuorumTally.Start(n, required));

    [Fact]
    public void A_quorum_is_reached_at_W_distinct_answers_and_complete_at_N()
    {
        var t = QuorumTally.Start(3, 2);
        Assert.False(t.Reached);
        t = t.Add(1);
        Assert.False(t.Reached);
        t = t.Add(1);
        Assert.Equal(1, t.Count);
        Assert.False(t.Reached);
        t = t.Add(0);
        Assert.True(t.Reached);
        Assert.False(t.Complete);
        t = t.Add(2);
        Assert.True(t.Complete);
        Assert.Equal(3, t.Count);
    }

    [Fact]
    public void Answers_from_slots_outside_0_to_N_are_ignored()
    {
        var t = QuorumTally.Start(3, 1).Add(-1).Add(3).Add(99);
        Assert.Equal(0, t.Count);
        Assert.False(t.Reached);
    }

    [Fact]
    public void However_often_and_in_whatever_order_slots_answer_the_count_is_the_number_of_distinct_valid_slots()
    {
        Gen.Select(Gen.Int[1, 5], Gen.Int[1, 5], Gen.Int[-2, 6].Array[0, 20]).Where((n, w, _) => w <= n).Sample((n, w, answers) =>
        {
            var t = answers.Aggregate(QuorumTally.Start(n, w), (acc, slot) => acc.Add(slot));
            var distinct = answers.Where(a => a >= 0 && a < n).Distinct().Count();
            Assert.Equal(distinct, t.Count);
            Assert.Equal(distinct >= w, t.Reached);
            Assert.Equal(distinct == n, t.Complete);
        }, iter: 1000, writeLine: output.WriteLine);
    }
}

public sealed class CoordinatorChoiceTests
{
    [Fact]
    public void With_every_node_reachable_slots_are_tried_in_index_order()
    {
        var order = CoordinatorChoice.Order(3, new Dictionary<int, string> { [0] = "a", [1] = "b", [2] = "c" }, new HashSet<string>());
        Assert.Equal([0, 1, 2], order.ToArray());
    }

    [Fact]
    public void Slots_on_unreachable_nodes_are_tried_last_keeping_index_order_within_each_group()
    {
        var nodes = new Dictionary<int, string> { [0] = "a", [1] = "b", [2] = "c", [3] = "d", [4] = "a" };
        var order = CoordinatorChoice.Order(5, nodes, new HashSet<string> { "a", "c" });
        Assert.Equal([1, 3, 0, 2, 4], order.ToArray());
    }

    [Fact]
    public void A_slot_whose_node_is_unknown_counts_as_reachable()
    {
        var order = CoordinatorChoice.Order(3, new Dictionary<int, string> { [0] = "a" }, new HashSet<string> { "a" });
        Assert.Equal([1, 2, 0], order.ToArray());
    }

    [Fact]
    public void When_every_node_is_unreachable_every_slot_is_still_tried()
    {
        var order = CoordinatorChoice.Order(3, new Dictionary<int, string> { [0] = "a", [1] = "b", [2] = "c" }, new HashSet<string> { "a", "b", "c" });
        Assert.Equal([0, 1, 2], order.ToArray());
    }
}

public sealed class ResolvedOptionsTests
{
    private static readonly Configuration.KvSettings Settings = CoreTestSupport.DefaultSettings();

    [Fact]
    public void A_request_without_options_runs_with_the_node_defaults()
    {
        var resolved = ResolvedOptions.Resolve(RequestOptions.Default, Settings, out var error);
        Assert.Null(error);
        Assert.Equal(new ResolvedOptions(3, 2, 2, TimeSpan.FromSeconds(5), true), resolved);
    }

    [Fact]
    public void Per_request_options_override_the_defaults()
    {
        var resolved = ResolvedOptions.Resolve(new RequestOptions(R: 3, W: 1, Timeout: TimeSpan.FromMilliseconds(250), Sloppy: false), Settings, out var error);
        Assert.Null(error);
        Assert.Equal(new ResolvedOptions(3, 3, 1, TimeSpan.FromMilliseconds(250), false), resolved);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(1, 3)]
    public void R_and_W_anywhere_from_1_to_N_are_accepted(int r, int w)
    {
        var resolved = ResolvedOptions.Resolve(new RequestOptions(R: r, W: w), Settings, out var error);
        Assert.Null(error);
        Assert.NotNull(resolved);
        Assert.Equal(r, resolved.R);
        Assert.Equal(w, resolved.W);
    }

    [Theory]
    [InlineData(0, null, "R=0 is invalid: it must be between 1 and N=3")]
    [InlineData(4, null, "R=4 is invalid: it must be between 1 and N=3")]
    [InlineData(-1, null, "R=-1 is invalid: it must be between 1 and N=3")]
    [InlineData(null, 0, "W=0 is invalid: it must be between 1 and N=3")]
    [InlineData(null, 4, "W=4 is invalid: it must be between 1 and N=3")]
    public void R_or_W_outside_1_to_N_is_refused_with_a_clear_message(int? r, int? w, string expected)
    {
        var resolved = ResolvedOptions.Resolve(new RequestOptions(R: r, W: w), Settings, out var error);
        Assert.Null(resolved);
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData(0, "timeout 0 ms is invalid: it must be in (0, 300000] ms")]
    [InlineData(-5, "timeout -5 ms is invalid: it must be in (0, 300000] ms")]
    [InlineData(300001, "timeout 300001 ms is invalid: it must be in (0, 300000] ms")]
    public void A_timeout_that_is_not_positive_or_longer_than_5_minutes_is_refused(int ms, string expected)
    {
        var resolved = ResolvedOptions.Resolve(new RequestOptions(Timeout: TimeSpan.FromMilliseconds(ms)), Settings, out var error);
        Assert.Null(resolved);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void A_timeout_of_exactly_5_minutes_is_accepted()
    {
        var resolved = ResolvedOptions.Resolve(new RequestOptions(Timeout: TimeSpan.FromMinutes(5)), Settings, out var error);
        Assert.Null(error);
        Assert.Equal(TimeSpan.FromMinutes(5), resolved!.Timeout);
    }
}

public sealed class LimitsTests
{
    private static readonly Configuration.KvSettings Settings = CoreTestSupport.DefaultSettings();

    [Fact]
    public void An_empty_or_missing_key_is_refused()
    {
        Assert.Equal("the key is empty: keys must be 1 or more bytes", Limits.CheckKey(Bytes.Empty, Settings));
        Assert.Equal("the key is empty: keys must be 1 or more bytes", Limits.CheckKey(null, Settings));
    }

    [Fact]
    public void Keys_up_to_the_limit_are_accepted_whatever_bytes_they_hold()
    {
        Assert.Null(Limits.CheckKey(Bytes.From([0]), Settings));
        Assert.Null(Limits.CheckKey(Bytes.From([0xFF, 0x00, 0xC3]), Settings));
        Assert.Null(Limits.CheckKey(Bytes.From(new byte[1024]), Settings));
    }

    [Fact]
    public void A_key_over_the_limit_is_refused_naming_its_size_the_limit_and_the_setting()
    {
        Assert.Equal("the key is 1025 bytes, over the limit of 1024 bytes (akka-kv.limits.max-key-bytes)",
            Limits.CheckKey(Bytes.From(new byte[1025]), Settings));
    }

    [Fact]
    public void Values_up_to_the_limit_are_accepted_including_the_empty_value()
    {
        Assert.Null(Limits.CheckValue(Bytes.Empty, Settings));
        Assert.Null(Limits.CheckValue(Bytes.From(new byte[1048576]), Settings));
    }

    [Fact]
    public void A_missing_or_oversize_value_is_refused()
    {
        Assert.Equal("the value is missing", Limits.CheckValue(null, Settings));
        Assert.Equal("the value is 1048577 bytes, over the limit of 1048576 bytes (akka-kv.limits.max-value-bytes)",
            Limits.CheckValue(Bytes.From(new byte[1048577]), Settings));
    }

    [Fact]
    public void The_limits_follow_the_settings()
    {
        var small = Settings with { MaxKeyBytes = 4, MaxValueBytes = 2 };
        Assert.Null(Limits.CheckKey(Bytes.FromUtf8("abcd"), small));
        Assert.NotNull(Limits.CheckKey(Bytes.FromUtf8("abcde"), small));
        Assert.Null(Limits.CheckValue(Bytes.FromUtf8("ab"), small));
        Assert.NotNull(Limits.CheckValue(Bytes.FromUtf8("abc"), small));
    }
}
