using System.Collections.Immutable;
using AkkaKv.Serialization;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.HintedHandoff;

// The hinted-handoff protocol: a put coordinator asks a fallback node's hint actor
// (/user/kv-hints) to hold a replica's write while that replica's node is unreachable.

/// <summary>
/// Hold <see cref="Siblings"/> of <see cref="Key"/> for replica slot <see cref="Target"/>, whose
/// node <see cref="TargetNode"/> is unreachable, and hand them to it once it is back. Answered
/// with <see cref="HintStored"/> once the hint is in this node's journal, or <see cref="HintRefused"/>.
/// </summary>
public sealed record StoreHint(long RequestId, SlotId Target, string TargetNode, Bytes Key, SiblingSet Siblings) : IKvMessage;

/// <summary>The hint is durable on <see cref="Holder"/>.</summary>
public sealed record HintStored(long RequestId, SlotId Target, string Holder) : IKvMessage;

/// <summary>The hint was not stored (the holder's bound for that target is full); the target is marked as needing repair.</summary>
public sealed record HintRefused(long RequestId, SlotId Target, string Holder, string Reason) : IKvMessage;

/// <summary>Ask a node's hint actor for its counters; answered with <see cref="HintStats"/>.</summary>
public sealed record GetHintStats : IKvMessage
{
    public static readonly GetHintStats Instance = new();
}

/// <summary>What one node holds for one target node.</summary>
/// <param name="Held">Hints waiting for the target.</param>
/// <param name="Replayed">Hints delivered to it and acknowledged (since this node's journal began).</param>
/// <param name="Overflowed">Writes refused as hints because the bound was full: data the target needs repaired.</param>
public sealed record HintTargetStats(string Target, int Held, long Replayed, long Overflowed);

public sealed record HintStats(string Node, ValueList<HintTargetStats> Targets) : IKvMessage;

// Persisted events and snapshot of the hint actor.

public sealed record HintAdded(long Id, SlotId Target, string TargetNode, Bytes Key, SiblingSet Siblings) : IKvMessage;

/// <summary>The target acknowledged the hint (its replica persisted it): the hint is gone.</summary>
public sealed record HintDelivered(long Id) : IKvMessage;

/// <summary>A write for <see cref="TargetNode"/> could not be held: the bound was full.</summary>
public sealed record HintOverflowed(string TargetNode) : IKvMessage;

public sealed record HintSnapshot(long NextId, ImmutableSortedDictionary<long, Hint> Hints,
    ImmutableSortedDictionary<string, long> Replayed, ImmutableSortedDictionary<string, long> Overflowed) : IKvMessage;
