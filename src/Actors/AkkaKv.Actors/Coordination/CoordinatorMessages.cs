using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;

namespace AkkaKv.Coordination;

/// <summary>Local only: a finished coordinator tells its gateway which node answered for which slot.</summary>
internal sealed record SlotsSeen(ImmutableDictionary<SlotId, string> Nodes)
{
    /// <summary>
    /// Tells <paramref name="gateway"/> which node answered for which slot of <paramref name="partition"/>,
    /// unless <paramref name="view"/> (the one the coordinator started with) already held exactly that.
    /// </summary>
    public static void Report(IActorRef gateway, PartitionView view, int partition, IEnumerable<KeyValuePair<SlotId, string>> answers)
    {
        if (view.HoldsSeen(answers.Select(a => (a.Key.Partition == partition ? a.Key.Index : -1, a.Value)))) return;
        gateway.Tell(new SlotsSeen(answers.ToImmutableDictionary()));
    }
}

internal sealed record CoordinatorTimeout(string Kind)
{
    public static readonly CoordinatorTimeout Overall = new("overall");
    public static readonly CoordinatorTimeout CoordinatingReplica = new("coordinating-replica");
    public static readonly CoordinatorTimeout ReadRepair = new("read-repair");
    public static readonly CoordinatorTimeout Stragglers = new("stragglers");
}

/// <summary>A reachable replica did not ack its merge within replica-ack-timeout: hint it too.</summary>
internal sealed record ReplicaAckTimeout(int Slot);

/// <summary>A request coordinator tells its parent (the gateway) it has stopped: one request fewer in flight.</summary>
internal sealed class CoordinatorFinished
{
    public static readonly CoordinatorFinished Instance = new();
    private CoordinatorFinished() { }
}

/// <summary>Where a put coordinator sends a hint for a replica: the hint actor of a node, by name.</summary>
internal delegate ICanTell HintsOf(string node);

internal static class NoHints
{
    public static readonly HintsOf Instance = _ => ActorRefs.Nobody;
}
