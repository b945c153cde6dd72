using System.Text.Json;

namespace AkkaKv.Protocol;

/// <summary>
/// The machine-readable rendering of a <see cref="NodeStatus"/>: what <c>akkakv status --json</c>
/// prints. The same facts as <see cref="StatusText"/>, as one JSON object with camelCase names; a
/// part the node did not collect (hints, anti-entropy) is null. Scripts depend on these names:
/// add fields, never rename or remove one. <c>slotOwners</c> (the node of slot i of partition p at
/// index p·N+i, null where unallocated) and <c>slotsMoving</c> (<c>{slot: "p/i", from, to}</c>)
/// feed the dashboard's ring grid.
/// </summary>
public static class StatusJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    public static string Render(NodeStatus st) => JsonSerializer.Serialize(new
    {
        node = st.Node,
        ring = new { partitions = st.Partitions, replicationFactor = st.ReplicationFactor, virtualNodes = st.VirtualNodes },
        members = st.Members.Select(m => new { node = m.Node, address = m.Address, status = m.Status, reachable = m.Reachable }),
        slotsPerNode = st.SlotsPerNode.ToDictionary(kv => kv.Key, kv => kv.Value),
        partitionsHeld = st.PartitionsHeld,
        unallocatedSlots = st.UnallocatedSlots,
        coLocatedPartitions = st.CoLocatedPartitions,
        misplacedSlots = st.MisplacedSlots,
        slotsCatchingUp = st.AntiEntropy?.Sum(a => a.SlotsCatchingUp),
        hints = st.Hints?.Select(h => new
        {
            node = h.Node,
            held = h.Targets.Sum(t => t.Held),
            targets = h.Targets.Select(t => new { target = t.Target, held = t.Held, replayed = t.Replayed, overflowed = t.Overflowed }),
        }),
        antiEntropy = st.AntiEntropy,
        warning = st.Warning,
        slotOwners = st.SlotOwners,
        slotsMoving = st.SlotsMoving?.Select(m => new { slot = m.Slot.ToString(), from = m.From, to = m.To }),
    }, Options) + "\n";
}
