namespace AkkaKv.AntiEntropy;

// What other actors tell a node's anti-entropy actor (NodeActors.AntiEntropy). Its status is in
// the status family (Protocol: GetAntiEntropyStats, AntiEntropyStats); what a replica reports
// after its start-up catch-up is the replica's own message (Replica.CatchUpDone).

/// <summary>Asks a node's <see cref="AntiEntropyActor"/> to start a round soon (a hint overflowed, a node returned).</summary>
internal sealed record RepairSoon(string Reason) : IKvMessage;

/// <summary>A get on this node found <paramref name="Replicas"/> stale replicas of one key and sent them the merged set (read repair).</summary>
internal sealed record ReadRepaired(int Replicas) : IKvMessage;
