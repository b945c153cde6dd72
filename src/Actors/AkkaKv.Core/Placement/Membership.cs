using System.Collections.Immutable;

namespace AkkaKv.Placement;

/// <summary>A member's lifecycle status, as the cluster's gossip reports it (Akka's <c>MemberStatus</c>, without Akka).</summary>
public enum MemberStatus
{
    Joining,
    WeaklyUp,
    Up,
    Leaving,
    Exiting,
    Down,
    Removed,
}

/// <summary>
/// One member incarnation: its stable node name, its address (unique per incarnation: a node
/// restarted with the same name is a new incarnation), its status, and whether the failure
/// detector marks it unreachable. <see cref="AppVersion"/>: the feature level it gossips
/// (<c>akka.cluster.app-version</c>; see <see cref="FeatureLevel"/>), "" when unknown.
/// </summary>
public sealed record MemberState(string Node, string Address, MemberStatus Status, bool Reachable, string AppVersion = "");

/// <summary>
/// The store's members as the cluster reports them: every incarnation by address, with its stable
/// node name. Pure and immutable; an actor feeds it cluster events through the Akka adapter
/// (<c>ClusterMembership</c>) and asks it the questions below, so every actor derives membership
/// the same way. Several incarnations of one name can be members at once (a node restarted before
/// its old incarnation was removed): each question says how it treats them.
/// </summary>
public sealed class Membership : IEquatable<Membership>
{
    public static readonly Membership Empty = new(ImmutableSortedDictionary<string, MemberState>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>Every incarnation, by address.</summary>
    public ImmutableSortedDictionary<string, MemberState> ByAddress { get; }

    private Membership(ImmutableSortedDictionary<string, MemberState> byAddress)
    {
        ByAddress = byAddress;
        // Derived once per membership change, not per request: the gateway asks for them on every one.
        RingNodes = byAddress.Values.Where(m => m.Status == MemberStatus.Up).Select(m => m.Node).ToImmutableSortedSet(StringComparer.Ordinal);
        Unreachable = byAddress.Values.Where(m => !m.Reachable).Select(m => m.Node).ToImmutableHashSet(StringComparer.Ordinal);
        Healthy = byAddress.Values.Where(m => m.Status == MemberStatus.Up && m.Reachable).Select(m => m.Node).ToImmutableHashSet(StringComparer.Ordinal);
    }

    public static Membership Of(IEnumerable<MemberState> members)
    {
        var b = ImmutableSortedDictionary.CreateBuilder<string, MemberState>(StringComparer.Ordinal);
        foreach (var m in members) b[m.Address] = m;
        return new Membership(b.ToImmutable());
    }

    /// <summary>Adds or updates an incarnation (a member event).</summary>
    public Membership With(MemberState member) => new(ByAddress.SetItem(member.Address, member));

    /// <summary>The incarnation at <paramref name="address"/> was removed from the cluster.</summary>
    public Membership Without(string address) => ByAddress.ContainsKey(address) ? new(ByAddress.Remove(address)) : this;

    /// <summary>The failure detector marked the incarnation at <paramref name="address"/> (un)reachable.</summary>
    public Membership WithReachability(string address, bool reachable) =>
        ByAddress.TryGetValue(address, out var m) && m.Reachable != reachable ? new(ByAddress.SetItem(address, m with { Reachable = reachable })) : this;

    public IEnumerable<MemberState> Members => ByAddress.Values;

    /// <summary>
    /// The nodes that count for the ring: a name with an Up incarnation, reachable or not. A node
    /// that is merely unreachable stays on the ring (the data path routes around it with sloppy
    /// quorum and hints); only one that leaves or is downed leaves it (Dynamo, section 4.8.1).
    /// </summary>
    public ImmutableSortedSet<string> RingNodes { get; }

    /// <summary>Names with an incarnation the failure detector marks unreachable (any one incarnation is enough).</summary>
    public ImmutableHashSet<string> Unreachable { get; }

    /// <summary>Names with an incarnation that is Up and reachable: the ends a slot can be handed between.</summary>
    public ImmutableHashSet<string> Healthy { get; }

    /// <summary>The address of <paramref name="node"/>'s newest-known incarnation (the last one by address order among those present), or null.</summary>
    public string? AddressOf(string node) => ByAddress.Values.LastOrDefault(m => m.Node == node)?.Address;

    /// <summary>Incarnations that are Up (reachable or not).</summary>
    public int UpCount => ByAddress.Values.Count(m => m.Status == MemberStatus.Up);

    public bool AnyUnreachable => ByAddress.Values.Any(m => !m.Reachable);

    /// <summary>Every incarnation is Up and reachable: nothing is joining, leaving or failing.</summary>
    public bool AllUpAndReachable => ByAddress.Values.All(m => m.Status == MemberStatus.Up && m.Reachable);

    /// <summary>
    /// Whether hints for <paramref name="node"/> may be replayed to it now: every incarnation of it
    /// that is a member is Up and reachable, or it is no member at all (it was removed: its slots
    /// have moved, and replay reaches them at their new home through the shard region).
    /// </summary>
    public bool AcceptsHandoff(string node) =>
        ByAddress.Values.Where(m => m.Node == node).All(m => m.Status == MemberStatus.Up && m.Reachable);

    public bool Equals(Membership? other) => other is not null && ByAddress.Count == other.ByAddress.Count && ByAddress.All(kv => other.ByAddress.TryGetValue(kv.Key, out var m) && m == kv.Value);
    public override bool Equals(object? obj) => obj is Membership m && Equals(m);
    public override int GetHashCode() => ByAddress.Count;
    public override string ToString() => "{" + string.Join(", ", ByAddress.Values.Select(m => $"{m.Node}@{m.Address} {m.Status}{(m.Reachable ? "" : " UNREACHABLE")}")) + "}";
}
