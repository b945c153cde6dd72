namespace AkkaKv.Protocol;

/// <summary>
/// Whether a node is ready to serve, from its <see cref="NodeStatus"/>: what <c>/health/ready</c>
/// answers. Ready means the member is Up, no replica slot is unallocated or waiting to move to its
/// ring position, and none of this node's slots is still recovering or catching up.
/// </summary>
public static class StatusReadiness
{
    /// <summary>Why the node is not ready (empty: ready), each a sentence an operator can act on.</summary>
    public static IReadOnlyList<string> Reasons(NodeStatus st)
    {
        var reasons = new List<string>();
        var self = st.Members.FirstOrDefault(m => m.Node == st.Node);
        if (self is null) reasons.Add($"{st.Node} is not a member of the cluster yet");
        else if (self.Status != "Up") reasons.Add($"{st.Node} is {self.Status}, not Up");
        if (st.UnallocatedSlots > 0) reasons.Add($"{st.UnallocatedSlots} replica slot(s) are not allocated to a node yet");
        if (st.MisplacedSlots > 0) reasons.Add($"{st.MisplacedSlots} replica slot(s) wait to move to their ring position");
        if (st.AntiEntropy?.FirstOrDefault(a => a.Node == st.Node) is not { } mine)
            reasons.Add($"{st.Node}'s anti-entropy did not report whether its slots are caught up");
        else if (mine.SlotsCatchingUp > 0)
            reasons.Add($"{mine.SlotsCatchingUp} replica slot(s) on {st.Node} are still recovering or catching up");
        if (st.Warning is { } warning && warning.StartsWith("sharding stats did not arrive", StringComparison.Ordinal))
            reasons.Add(warning);
        return reasons;
    }
}
