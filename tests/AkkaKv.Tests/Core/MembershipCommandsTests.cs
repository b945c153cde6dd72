using AkkaKv.Placement;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary>The rules of <c>akkakv leave</c> and <c>akkakv down</c>: whom they act on, and every refusal with its reason.</summary>
public sealed class MembershipCommandsTests
{
    private static MemberState M(string node, MemberStatus status = MemberStatus.Up, bool reachable = true, string? address = null) =>
        new(node, address ?? $"akka.tcp://akkakv@127.0.0.1:{4000 + int.Parse(node[1..])}", status, reachable);

    private static Membership Of(params MemberState[] members) => Membership.Of(members);

    [Fact]
    public void Leave_of_an_Up_reachable_member_acts_on_its_address()
    {
        var d = MembershipCommands.Leave(Of(M("n1"), M("n2"), M("n3"), M("n4")), "n4", 3, force: false);
        Assert.True(d.Accepted);
        Assert.Equal("akka.tcp://akkakv@127.0.0.1:4004", d.Address);
        Assert.Contains("n4 is leaving", d.Message);
    }

    [Fact]
    public void Leave_that_would_leave_fewer_than_N_members_is_refused_unless_forced()
    {
        var three = Of(M("n1"), M("n2"), M("n3"));
        var refused = MembershipCommands.Leave(three, "n3", 3, force: false);
        Assert.False(refused.Accepted);
        Assert.Contains("2 member(s) would be Up, fewer than N=3", refused.Message);
        Assert.Contains("--force", refused.Message);
        var forced = MembershipCommands.Leave(three, "n3", 3, force: true);
        Assert.True(forced.Accepted);
        Assert.Contains("forced", forced.Message);
    }

    [Theory]
    [InlineData(MemberStatus.Leaving, "already leaving")]
    [InlineData(MemberStatus.Exiting, "already leaving")]
    [InlineData(MemberStatus.Joining, "still joining")]
    [InlineData(MemberStatus.WeaklyUp, "still joining")]
    [InlineData(MemberStatus.Down, "is Down")]
    public void Leave_of_a_member_that_is_not_Up_is_refused(MemberStatus status, string reason)
    {
        var d = MembershipCommands.Leave(Of(M("n1"), M("n2"), M("n3"), M("n4", status)), "n4", 3, force: true);
        Assert.False(d.Accepted);
        Assert.Contains(reason, d.Message);
    }

    [Fact]
    public void Leave_is_refused_while_any_member_is_unreachable_and_names_it()
    {
        var d = MembershipCommands.Leave(Of(M("n1"), M("n2"), M("n3", reachable: false), M("n4")), "n4", 3, force: true);
        Assert.False(d.Accepted);
        Assert.Contains("n3 is unreachable", d.Message);
        Assert.Contains("akkakv down", d.Message);
        var self = MembershipCommands.Leave(Of(M("n1"), M("n2"), M("n3"), M("n4", reachable: false)), "n4", 3, force: true);
        Assert.False(self.Accepted);
        Assert.Contains("n4 is unreachable: it cannot hand its slots over", self.Message);
    }

    [Fact]
    public void An_unknown_name_is_refused_with_the_members_listed()
    {
        var d = MembershipCommands.Leave(Of(M("n2"), M("n1")), "n9", 3, force: true);
        Assert.False(d.Accepted);
        Assert.Equal("no member is named 'n9' (members: n1, n2)", d.Message);
        Assert.False(MembershipCommands.Down(Of(M("n1")), "n9").Accepted);
    }

    [Fact]
    public void Down_acts_only_on_an_unreachable_member_and_picks_the_unreachable_incarnation()
    {
        var reachable = MembershipCommands.Down(Of(M("n1"), M("n2")), "n2");
        Assert.False(reachable.Accepted);
        Assert.Contains("n2 is reachable", reachable.Message);
        Assert.Contains("akkakv leave n2", reachable.Message);

        // A restarted n2 (new incarnation, Up) beside its old, unreachable one: down takes the old one.
        var members = Of(M("n1"), M("n2", address: "akka.tcp://akkakv@127.0.0.1:4002#new"), M("n2", reachable: false, address: "akka.tcp://akkakv@127.0.0.1:4002#old"));
        var d = MembershipCommands.Down(members, "n2");
        Assert.True(d.Accepted);
        Assert.Equal("akka.tcp://akkakv@127.0.0.1:4002#old", d.Address);
    }
}
