
namespace AkkaKv.Versioning;

/// <summary>The string value an increment counts from: the version that wrote it (its dot and minting time) and its integer.</summary>
public sealed record CounterBase(Dot Dot, long TimestampMs, long Value);

/// <summary>
/// The counter fields of a version (<see cref="Sibling.Counter"/>):
/// <list type="bullet">
/// <item><see cref="Entries"/>: the PN-counter of every increment this version's writer had seen.</item>
/// <item><see cref="Floor"/>: the entries that resets (a <c>SET</c>, a <c>DEL</c>, the key expiring)
/// seen by the writer cancelled: only increments above the floor count.</item>
/// <item><see cref="IsIncrement"/>: this version was minted by an increment, and its value is the
/// number it made (<see cref="Base"/> plus the entries above the floor); <see cref="Base"/> is the
/// string it counted from, or null for 0. Otherwise the version is a plain write (a value or a
/// tombstone) that reset counter versions: it carries their entries, as both entries and floor,
/// so those increments stop counting while each replica's entry keeps growing.</item>
/// </list>
/// See <see cref="Counters.CounterRules"/> and docs/typed-values.md.
/// </summary>
public sealed record CounterPart(PnCounter Entries, PnCounter Floor, CounterBase? Base, bool IsIncrement);
