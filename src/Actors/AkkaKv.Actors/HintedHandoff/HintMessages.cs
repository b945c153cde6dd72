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

/// <summary>
/// Local only, at shutdown when the node leaves: give every held hint to another member's hint
/// actor (it holds it durably, then this node forgets it). Answered with <see cref="HintsHandedOver"/>.
/// <paramref name="Receivers"/>: the members to offer them to, by node name; null: the Up,
/// reachable members of the actor's own view.
/// </summary>
internal sealed record HandOverHints(IReadOnlyList<(string Node, Akka.Actor.Address Address)>? Receivers = null);

/// <summary><paramref name="HandedOver"/> hints are held by other nodes now; <paramref name="Kept"/> could not be (no member took them).</summary>
internal sealed record HintsHandedOver(int HandedOver, int Kept);
