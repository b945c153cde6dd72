using System.Text;
namespace AkkaKv.Protocol;

/// <summary>The human-readable rendering of a <see cref="NodeStatus"/>: what <c>akkakv status</c> and RESP <c>KV.STATUS</c> print.</summary>
public static class StatusText
{
    public static string Render(NodeStatus st)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"node: {st.Node}");
        sb.AppendLine($"ring: Q={st.Partitions} partitions, N={st.ReplicationFactor}, V={st.VirtualNodes} virtual nodes per node");
        sb.AppendLine("members:");
        foreach (var m in st.Members)
            sb.AppendLine($"  {m.Node,-8} {m.Address,-36} {m.Status,-8} {(m.Reachable ? "reachable" : "UNREACHABLE")}");
        sb.AppendLine("replica slots per node:");
        foreach (var (node, count) in st.SlotsPerNode) sb.AppendLine($"  {node,-8} {count}");
        sb.AppendLine($"partitions held by {st.Node}: {st.PartitionsHeld}");
        sb.AppendLine($"unallocated slots: {st.UnallocatedSlots} (allocated on first use)");
        sb.AppendLine($"co-located partitions: {st.CoLocatedPartitions}");
        sb.AppendLine($"slots waiting to move to their ring position: {st.MisplacedSlots}");
        if (st.Warning is not null) sb.AppendLine($"warning: {st.Warning}");
        return sb.ToString();
    }
}
