using Akka.Cluster;
using AkkaKv.Configuration;
using KvMemberStatus = AkkaKv.Placement.MemberStatus;

namespace AkkaKv.Placement;

/// <summary>
/// The one adapter from Akka.Cluster's membership to the pure <see cref="Membership"/>: every actor
/// that follows the cluster (gateway, hint actor, allocation strategy, status) reads it through
/// here. A member counts for the store when it carries a <c>kv-node-{name}</c> role.
/// </summary>
internal static class ClusterMembership
{
    /// <summary>The stable node name a member carries in its <c>kv-node-</c> role, if any.</summary>
    public static string? NodeNameOf(Member member)
    {
        foreach (var role in member.Roles)
            if (role.StartsWith(KvSettings.NodeRolePrefix, StringComparison.Ordinal)) return role[KvSettings.NodeRolePrefix.Length..];
        return null;
    }

    public static KvMemberStatus StatusOf(Akka.Cluster.MemberStatus status) => status switch
    {
        Akka.Cluster.MemberStatus.Joining => KvMemberStatus.Joining,
        Akka.Cluster.MemberStatus.WeaklyUp => KvMemberStatus.WeaklyUp,
        Akka.Cluster.MemberStatus.Up => KvMemberStatus.Up,
        Akka.Cluster.MemberStatus.Leaving => KvMemberStatus.Leaving,
        Akka.Cluster.MemberStatus.Exiting => KvMemberStatus.Exiting,
        Akka.Cluster.MemberStatus.Down => KvMemberStatus.Down,
        _ => KvMemberStatus.Removed,
    };

    /// <summary>The member as the pure core sees it, or null for a member that is no store node.</summary>
    public static MemberState? StateOf(Member member, bool reachable) =>
        NodeNameOf(member) is { } node ? new MemberState(node, member.Address.ToString(), StatusOf(member.Status), reachable, member.AppVersion?.ToString() ?? "") : null;

    /// <summary>The store's members in a snapshot of the cluster state (e.g. <c>Cluster.State</c>).</summary>
    public static Membership Of(ClusterEvent.CurrentClusterState state) =>
        Membership.Of(state.Members.Select(m => StateOf(m, !state.Unreachable.Contains(m))).OfType<MemberState>());

    /// <summary>
    /// <paramref name="membership"/> after a cluster event (subscribed with the initial state as a
    /// snapshot): member events add or update an incarnation and keep its reachability, reachability
    /// events flip it, and a removal forgets the incarnation. Other events change nothing.
    /// </summary>
    public static Membership Apply(Membership membership, object clusterEvent) => clusterEvent switch
    {
        ClusterEvent.CurrentClusterState state => Of(state),
        ClusterEvent.MemberRemoved e => membership.Without(e.Member.Address.ToString()),
        ClusterEvent.IMemberEvent e when StateOf(e.Member, Reachable(membership, e.Member)) is { } m => membership.With(m),
        ClusterEvent.UnreachableMember e => membership.WithReachability(e.Member.Address.ToString(), false),
        ClusterEvent.ReachableMember e => membership.WithReachability(e.Member.Address.ToString(), true),
        _ => membership,
    };

    private static bool Reachable(Membership membership, Member member) =>
        !membership.ByAddress.TryGetValue(member.Address.ToString(), out var known) || known.Reachable;
}
