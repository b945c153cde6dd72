using System.Collections.Immutable;
using AkkaKv.Ring;
using AkkaKv.Versioning;

namespace AkkaKv.HintedHandoff;

// The hint actor's persisted events and snapshot: a storage format (manifests HA, HX, HV, HN).

public sealed record HintAdded(long Id, SlotId Target, string TargetNode, Bytes Key, SiblingSet Siblings) : IKvMessage;

/// <summary>The target acknowledged the hint (its replica persisted it): the hint is gone.</summary>
public sealed record HintDelivered(long Id) : IKvMessage;

/// <summary>A write for <see cref="TargetNode"/> could not be held: the bound was full.</summary>
public sealed record HintOverflowed(string TargetNode) : IKvMessage;

public sealed record HintSnapshot(long NextId, ImmutableSortedDictionary<long, Hint> Hints,
    ImmutableSortedDictionary<string, long> Replayed, ImmutableSortedDictionary<string, long> Overflowed) : IKvMessage;
