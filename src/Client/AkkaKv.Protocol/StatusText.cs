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
        if (st.AntiEntropy is not null)
            sb.AppendLine($"slots catching up: {st.AntiEntropy.Sum(a => a.SlotsCatchingUp)} (recovering their journal or exchanging with their peers after a start)");
        if (st.Hints is not null)
        {
            sb.AppendLine("hinted handoff (per node: writes held for an unreachable node, replayed when it is back):");
            foreach (var member in st.Members)
            {
                var held = st.Hints.FirstOrDefault(h => h.Node == member.Node);
                if (held is null)
                {
                    sb.AppendLine($"  {member.Node,-8} {(member.Reachable ? "reachable" : "UNREACHABLE")}, hints not reported");
                    continue;
                }
                var targets = held.Targets.Where(t => t.Held > 0 || t.Replayed > 0 || t.Overflowed > 0).ToList();
                sb.AppendLine($"  {member.Node,-8} {(member.Reachable ? "reachable" : "UNREACHABLE")}, holds {held.Targets.Sum(t => t.Held)} hint(s)"
                    + (targets.Count == 0 ? "" : ": " + string.Join("; ", targets.Select(t =>
                        $"for {t.Target} {t.Held} held, {t.Replayed} replayed" + (t.Overflowed > 0 ? $", {t.Overflowed} NOT HELD (bound full: {t.Target} needs repair)" : "")))));
            }
        }
        if (st.AntiEntropy is not null)
        {
            sb.AppendLine("anti-entropy (per node: Merkle exchanges with the other replicas of the partitions it holds):");
            foreach (var member in st.Members)
            {
                var ae = st.AntiEntropy.FirstOrDefault(a => a.Node == member.Node);
                if (ae is null)
                {
                    sb.AppendLine($"  {member.Node,-8} not reported");
                    continue;
                }
                var last = ae.LastExchangeAtMs == 0 ? "no exchange yet"
                    : $"last exchange {DateTimeOffset.FromUnixTimeMilliseconds(ae.LastExchangeAtMs).UtcDateTime:HH:mm:ss} UTC";
                var round = ae.RoundsCompleted == 0 ? "no round completed"
                    : $"last round: {ae.PartitionsInSync} of {ae.PartitionsChecked} partitions in sync ({ae.PairsInSync} of {ae.PairsChecked} replica pairs)";
                sb.AppendLine($"  {member.Node,-8} {ae.RoundsCompleted} round(s), {round}; {ae.Exchanges} exchanges ({ae.ExchangesFailed} abandoned), {ae.SlotCatchUps} slot catch-up(s) ({ae.SlotsCatchingUp} in progress" +
                    (ae.SlotCatchUpsIncomplete > 0 ? $", {ae.SlotCatchUpsIncomplete} served before every peer answered" : "") + "), " +
                    $"{ae.KeysRepaired} key(s) repaired, {ae.BytesExchanged} bytes exchanged; read repair: {ae.ReadRepairedKeys} key(s), {ae.ReadRepairedReplicas} replica(s); {last}" + (ae.PairsLeftInRound > 0 ? $"; round in progress, {ae.PairsLeftInRound} pair(s) left" : ""));
                sb.AppendLine($"  {"",-8} tombstone GC: {ae.TombstonesPurged} purged, {ae.TombstonesPending} listed awaiting confirmation by the next round"
                    + (ae.LastGcSkipped is null ? "" : $"; last pass skipped: {ae.LastGcSkipped}"));
            }
        }
        if (st.Warning is not null) sb.AppendLine($"warning: {st.Warning}");
        return sb.ToString();
    }
}
