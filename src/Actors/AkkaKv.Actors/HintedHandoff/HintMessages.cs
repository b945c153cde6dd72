using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.HintedHandoff;

// The hinted-handoff protocol: a put coordinator asks a fallback node's hint actor
// (NodeActors.Hints) to hold a replica's write while that replica's node is unreachable.

/// <summary>
/// Hold <see cref="Siblings"/> of <see cref="Key"/> for replica slot <see cref="Target"/>, whose
/// node <see cref="TargetNode"/> is unreachable, and hand them to it once it is back. Answered
/// with <see cref="HintStored"/> once the hint is in this node's journal, or <see cref="HintRefused"/>.
/// </summary>
internal sealed record StoreHint(long RequestId, SlotId Target, string TargetNode, Bytes Key, SiblingSet Siblings) : IKvMessage;

/// <summary>The hint is durable on <see cref="Holder"/>.</summary>
internal sealed record HintStored(long RequestId, SlotId Target, string Holder) : IKvMessage;

/// <summary>The hint was not stored (the holder's bound for that target is full); the target is marked as needing repair.</summary>
internal sealed record HintRefused(long RequestId, SlotId Target, string Holder, string Reason) : IKvMessage;
