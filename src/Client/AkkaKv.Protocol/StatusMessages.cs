namespace AkkaKv.Protocol;

// The status family: what a node's hint and anti-entropy actors report, gathered by a node's
// gateway into one NodeStatus. Nodes ask each other for these; clients see them inside NodeStatus.

/// <summary>Ask a node's hint actor (<see cref="NodeActors.Hints"/>) for its counters; answered with <see cref="HintStats"/>.</summary>
public sealed record GetHintStats : IKvMessage
{
    public static readonly GetHintStats Instance = new();
}

public sealed record HintStats(string Node, ValueList<HintTargetStats> Targets) : IKvMessage;

/// <summary>Asks a node's anti-entropy actor (<see cref="NodeActors.AntiEntropy"/>) for its <see cref="AntiEntropyStats"/>.</summary>
public sealed record GetAntiEntropyStats : IKvMessage
{
    public static readonly GetAntiEntropyStats Instance = new();
}

/// <summary>
/// One node's anti-entropy progress. <see cref="PairsInSync"/> of <see cref="PairsChecked"/>: the
/// replica-slot pairs this node checked in its last complete round and found identical (equal
/// Merkle roots); <see cref="PartitionsInSync"/>: partitions all of whose checked pairs were.
/// <see cref="SlotCatchUpsIncomplete"/>: of the <see cref="SlotCatchUps"/>, those in which some peer
/// did not answer (the slot serves without it; anti-entropy repairs the difference later).
/// </summary>
public sealed record AntiEntropyStats(string Node, long RoundsCompleted, long LastRoundCompletedAtMs, long LastExchangeAtMs,
    long Exchanges, long ExchangesFailed, int PairsChecked, int PairsInSync, int PartitionsChecked, int PartitionsInSync,
    long KeysRepaired, long BytesExchanged, int PairsLeftInRound, long ReadRepairedKeys = 0, long ReadRepairedReplicas = 0,
    long TombstonesPurged = 0, int TombstonesPending = 0, string? LastGcSkipped = null, long SlotCatchUps = 0, int SlotsCatchingUp = 0,
    long SlotCatchUpsIncomplete = 0) : IKvMessage;
