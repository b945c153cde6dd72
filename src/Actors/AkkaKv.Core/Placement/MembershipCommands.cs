namespace AkkaKv.Placement;

/// <summary>What a membership command does: the member's address to act on, or why it is refused.</summary>
public sealed record MembershipDecision(string? Address, string Message)
{
    public bool Accepted => Address is not null;
}

/// <summary>
/// The rules of <c>akkakv leave</c> and <c>akkakv down</c>, pure: which incarnation of the named
/// node they act on, and when they refuse. Leave is for a node that is Up (its slots move and it
/// exits); down is for one that is unreachable (dead, or cut off for good: it is removed at once,
/// and its slots start again elsewhere and catch up from their peers).
/// </summary>
public static class MembershipCommands
{
    public static MembershipDecision Leave(Membership members, string node, int replicationFactor, bool force)
    {
        if (Find(members, node, out var error) is not { } member) return new(null, error!);
        switch (member.Status)
        {
            case MemberStatus.Leaving or MemberStatus.Exiting:
                return new(null, $"{node} is already leaving ({member.Status}): `akkakv transfers` shows its progress");
            case MemberStatus.Down:
                return new(null, $"{node} is Down; it is removed without a leave");
            case MemberStatus.Joining or MemberStatus.WeaklyUp:
                return new(null, $"{node} is still joining ({member.Status}); let it become Up, then ask it to leave");
        }
        if (!member.Reachable)
            return new(null, $"{node} is unreachable: it cannot hand its slots over. If it is dead, `akkakv down {node}` removes it");
        // Akka moves a leaving member out only when every member is reachable (gossip convergence):
        // a leave asked now would hang, holding the node's slots, until that member is back or downed.
        if (members.Members.Where(m => !m.Reachable && m.Node != node).Select(m => m.Node).Distinct().Order(StringComparer.Ordinal).ToList() is { Count: > 0 } unreachable)
            return new(null, $"{string.Join(", ", unreachable)} {(unreachable.Count == 1 ? "is" : "are")} unreachable: a leave completes only when every member is reachable. " +
                $"Bring {(unreachable.Count == 1 ? "it" : "them")} back, or `akkakv down` {(unreachable.Count == 1 ? "it" : "them")} if dead, then leave");
        var remaining = members.Members.Where(m => m.Status == MemberStatus.Up && m.Node != node).Select(m => m.Node).Distinct().Count();
        if (remaining < replicationFactor && !force)
            return new(null, $"after {node} leaves, {remaining} member(s) would be Up, fewer than N={replicationFactor}: replicas of a partition would share nodes. --force leaves anyway");
        return new(member.Address, remaining < replicationFactor
            ? $"{node} is leaving (forced: {remaining} member(s) remain, fewer than N={replicationFactor})"
            : $"{node} is leaving: it hands its hints over, pushes its replicas to their peers, hands its slots off and exits");
    }

    public static MembershipDecision Down(Membership members, string node)
    {
        // An unreachable incarnation, if any: an old one can linger beside a restarted node.
        string? error = null;
        var member = members.Members.FirstOrDefault(m => m.Node == node && !m.Reachable && m.Status != MemberStatus.Removed)
                     ?? Find(members, node, out error);
        if (member is null) return new(null, error!);
        if (member.Reachable)
            return new(null, $"{node} is reachable: down is for a node that is dead. To take a running node out, `akkakv leave {node}`");
        return new(member.Address, $"{node} is marked Down: it is removed now, and its slots start again on the other nodes and catch up from their peers");
    }

    /// <summary>The newest incarnation named <paramref name="node"/> (an older one may linger until removed).</summary>
    private static MemberState? Find(Membership members, string node, out string? error)
    {
        var incarnations = members.Members.Where(m => m.Node == node && m.Status != MemberStatus.Removed).ToList();
        error = null;
        if (incarnations.Count > 0)
            return incarnations.FirstOrDefault(m => m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Joining or MemberStatus.WeaklyUp)
                   ?? incarnations[0];
        var names = members.Members.Select(m => m.Node).Distinct().Order(StringComparer.Ordinal);
        error = $"no member is named '{node}' (members: {string.Join(", ", names)})";
        return null;
    }
}
