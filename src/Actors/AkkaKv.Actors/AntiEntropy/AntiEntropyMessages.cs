namespace AkkaKv.AntiEntropy;

// What other actors tell a node's anti-entropy actor (NodeActors.AntiEntropy). Its status is in
// the status family (Protocol: GetAntiEntropyStats, AntiEntropyStats); what a replica reports
// after its start-up catch-up is the replica's own message (Replica.CatchUpDone).

/// <summary>Asks a node's <see cref="AntiEntropyActor"/> to start a round soon (a hint overflowed, a node returned).</summary>
internal sealed record RepairSoon(string Reason) : IKvMessage;

/// <summary>A get on this node found <paramref name="Replicas"/> stale replicas of one key and sent them the merged set (read repair).</summary>
internal sealed record ReadRepaired(int Replicas) : IKvMessage;

/// <summary>
/// Local only, at shutdown when the node leaves: push every local replica slot to its peers (one
/// Merkle exchange with each), hand nothing else out, then stop. Answered with <see cref="Drained"/>.
/// </summary>
internal sealed record DrainForLeave(TimeSpan Within);

/// <summary>The drain is over: <paramref name="Pairs"/> slot pairs exchanged, <paramref name="KeysRepaired"/> keys carried, or why it was skipped.</summary>
internal sealed record Drained(int Pairs, long KeysRepaired, string? Skipped);
