using System.Collections.Immutable;

namespace AkkaKv.Ring;

/// <summary>
/// The ring of virtual nodes: every member node owns V tokens, <c>token_i = hash64("{node}:{i}")</c>,
/// computed from the node's stable name only, so every process derives the same ring from the same
/// member set with no coordination (DeCandia et al., "Dynamo", SOSP 2007, section 4.2).
/// </summary>
public sealed class HashRing
{
    private readonly ulong[] _tokens;
    private readonly string[] _owners;

    public ImmutableSortedSet<string> Nodes { get; }
    public int VirtualNodesPerNode { get; }

    public HashRing(IEnumerable<string> nodes, int virtualNodesPerNode)
    {
        if (virtualNodesPerNode < 1) throw new ArgumentOutOfRangeException(nameof(virtualNodesPerNode), "at least one virtual node per node");
        Nodes = nodes.ToImmutableSortedSet(StringComparer.Ordinal);
        VirtualNodesPerNode = virtualNodesPerNode;
        var entries = new List<(ulong Token, string Node)>(Nodes.Count * virtualNodesPerNode);
        foreach (var node in Nodes)
            for (var i = 0; i < virtualNodesPerNode; i++)
                entries.Add((KeyHash.Of($"{node}:{i}"), node));
        // Ties (astronomically rare) are broken by node name so the order stays a pure function of the input.
        entries.Sort((a, b) => a.Token != b.Token ? a.Token.CompareTo(b.Token) : string.CompareOrdinal(a.Node, b.Node));
        _tokens = entries.Select(e => e.Token).ToArray();
        _owners = entries.Select(e => e.Node).ToArray();
    }

    public bool IsEmpty => _tokens.Length == 0;

    /// <summary>
    /// Distinct nodes met walking clockwise from <paramref name="position"/> (inclusive), each once,
    /// in ring order, until every node has been met.
    /// </summary>
    public IEnumerable<string> WalkFrom(ulong position)
    {
        if (_tokens.Length == 0) yield break;
        var start = Array.BinarySearch(_tokens, position);
        if (start < 0) start = ~start;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var k = 0; k < _tokens.Length && seen.Count < Nodes.Count; k++)
        {
            var owner = _owners[(start + k) % _tokens.Length];
            if (seen.Add(owner)) yield return owner;
        }
    }
}
