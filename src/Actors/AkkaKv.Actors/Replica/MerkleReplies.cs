using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.Replica;

/// <summary>How a replica answers an exchange's questions about its Merkle tree: pure, so it is tested without an actor.</summary>
internal static class MerkleReplies
{
    /// <summary>
    /// The children of each requested node, concatenated. Indexes outside the level, or a level
    /// at or below the leaves, get no children (the asker's shape differs; it sees the shape in
    /// the reply and stops).
    /// </summary>
    public static MerkleNodes Nodes(MerkleNodesRequest request, MerkleTree tree, SlotId slot, string node, long gcGeneration = 0)
    {
        var shape = tree.Shape;
        var hashes = new List<ulong>(request.Indexes.Count * shape.Fanout);
        var indexes = new List<int>(request.Indexes.Count);
        if (request.Level >= 0 && request.Level < shape.Depth)
            foreach (var index in request.Indexes)
            {
                if (index < 0 || index >= shape.NodesAt(request.Level)) continue;
                indexes.Add(index);
                hashes.AddRange(tree.Children(request.Level, index));
            }
        return new MerkleNodes(request.RequestId, slot, node, tree.RootHash, shape.Depth, shape.Fanout, request.Level,
            ValueList.From(indexes), ValueList.From(hashes), gcGeneration);
    }

    /// <summary>
    /// A page of the entries of the requested leaves (unknown leaf indexes are skipped) after the
    /// request's cursor, in key order, within <paramref name="budget"/> bytes (<c>limits.max-repair-reply-bytes</c>).
    /// </summary>
    public static MerkleLeaves Leaves(MerkleLeavesRequest request, MerkleTree tree, SlotId slot, long budget)
    {
        var page = LeafPage.Of(tree, request.Leaves, request.After, budget);
        return new MerkleLeaves(request.RequestId, slot, page.Entries, page.More);
    }
}
