using System.Collections.Immutable;
using AkkaKv.Protocol;
using AkkaKv.Ring;
using AkkaKv.Versioning;

namespace AkkaKv.HintedHandoff;

/// <summary>A write held for replica slot <see cref="Target"/> on an unreachable node.</summary>
public sealed record Hint(long Id, SlotId Target, string TargetNode, Bytes Key, SiblingSet Siblings);

/// <summary>
/// The hints one node holds: pure, immutable, rebuilt from the hint actor's journal (sloppy quorum
/// and hinted handoff, DeCandia et al., "Dynamo", SOSP 2007, section 4.6).
///
/// Invariants: at most one hint per (target slot, key): a second write for the same key is merged
/// into it (sibling sets merge by clock, so nothing is lost) under a fresh id, so an ack for the
/// older id, whose content the target may not have got in full, deletes nothing. A hint is removed
/// only by <see cref="HintDelivered"/>, i.e. after the target's replica acknowledged it durably.
/// </summary>
public sealed class HintStore
{
    public static readonly HintStore Empty = new(1,
        ImmutableSortedDictionary<long, Hint>.Empty,
        ImmutableDictionary<(SlotId, Bytes), long>.Empty,
        ImmutableSortedDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, int>.Empty);

    private readonly ImmutableDictionary<(SlotId, Bytes), long> _byKey;
    private readonly ImmutableDictionary<string, int> _held;

    private HintStore(long nextId, ImmutableSortedDictionary<long, Hint> hints, ImmutableDictionary<(SlotId, Bytes), long> byKey,
        ImmutableSortedDictionary<string, long> replayed, ImmutableSortedDictionary<string, long> overflowed, ImmutableDictionary<string, int> held)
    {
        NextId = nextId;
        Hints = hints;
        _byKey = byKey;
        Replayed = replayed;
        Overflowed = overflowed;
        _held = held;
    }

    /// <summary>The id the next stored hint gets; ids only grow.</summary>
    public long NextId { get; }
    public ImmutableSortedDictionary<long, Hint> Hints { get; }
    /// <summary>Hints delivered and acknowledged, per target node.</summary>
    public ImmutableSortedDictionary<string, long> Replayed { get; }
    /// <summary>Writes refused because the bound for the target was full, per target node: data that target needs repaired.</summary>
    public ImmutableSortedDictionary<string, long> Overflowed { get; }

    public int Count => Hints.Count;
    public int HeldFor(string targetNode) => _held.GetValueOrDefault(targetNode);

    /// <summary>
    /// Whether a hint for (target, key) would exceed <paramref name="maxPerTarget"/> hints held for
    /// <paramref name="targetNode"/>. Merging into an existing hint for the same key never does.
    /// </summary>
    public bool IsFull(string targetNode, SlotId target, Bytes key, int maxPerTarget) =>
        !_byKey.ContainsKey((target, key)) && HeldFor(targetNode) >= maxPerTarget;

    /// <summary>The event that stores these siblings: merged with any hint already held for the same slot and key.</summary>
    public HintAdded Store(SlotId target, string targetNode, Bytes key, SiblingSet siblings)
    {
        var merged = _byKey.TryGetValue((target, key), out var existing) ? Hints[existing].Siblings.Merge(siblings) : siblings;
        return new HintAdded(NextId, target, targetNode, key, merged);
    }

    public HintStore Apply(object evt) => evt switch
    {
        HintAdded a => Add(new Hint(a.Id, a.Target, a.TargetNode, a.Key, a.Siblings)),
        HintDelivered d => Deliver(d.Id),
        HintOverflowed o => new HintStore(NextId, Hints, _byKey, Replayed, Overflowed.SetItem(o.TargetNode, Overflowed.GetValueOrDefault(o.TargetNode) + 1), _held),
        _ => this,
    };

    private HintStore Add(Hint hint)
    {
        var hints = Hints;
        var held = _held;
        if (_byKey.TryGetValue((hint.Target, hint.Key), out var old) && hints.TryGetValue(old, out var replaced))
        {
            hints = hints.Remove(old);
            held = Decrement(held, replaced.TargetNode);
        }
        hints = hints.SetItem(hint.Id, hint);
        held = held.SetItem(hint.TargetNode, held.GetValueOrDefault(hint.TargetNode) + 1);
        return new HintStore(Math.Max(NextId, hint.Id + 1), hints, _byKey.SetItem((hint.Target, hint.Key), hint.Id), Replayed, Overflowed, held);
    }

    private HintStore Deliver(long id)
    {
        if (!Hints.TryGetValue(id, out var hint)) return this;
        return new HintStore(NextId, Hints.Remove(id), _byKey.Remove((hint.Target, hint.Key)),
            Replayed.SetItem(hint.TargetNode, Replayed.GetValueOrDefault(hint.TargetNode) + 1), Overflowed, Decrement(_held, hint.TargetNode));
    }

    private static ImmutableDictionary<string, int> Decrement(ImmutableDictionary<string, int> held, string node) =>
        held.GetValueOrDefault(node) <= 1 ? held.Remove(node) : held.SetItem(node, held[node] - 1);

    /// <summary>The hints for <paramref name="targetNode"/>, oldest first.</summary>
    public IEnumerable<Hint> PendingFor(string targetNode) => Hints.Values.Where(h => h.TargetNode == targetNode);

    /// <summary>Target nodes that have hints waiting.</summary>
    public IEnumerable<string> Targets => _held.Keys;

    /// <summary>Per target node: held, replayed, overflowed; every node that ever had one.</summary>
    public IEnumerable<HintTargetStats> Stats() =>
        _held.Keys.Concat(Replayed.Keys).Concat(Overflowed.Keys).Distinct().Order(StringComparer.Ordinal)
            .Select(t => new HintTargetStats(t, HeldFor(t), Replayed.GetValueOrDefault(t), Overflowed.GetValueOrDefault(t)));

    public HintSnapshot ToSnapshot() => new(NextId, Hints, Replayed, Overflowed);

    public static HintStore FromSnapshot(HintSnapshot s)
    {
        var store = new HintStore(s.NextId, ImmutableSortedDictionary<long, Hint>.Empty, ImmutableDictionary<(SlotId, Bytes), long>.Empty,
            s.Replayed.WithComparers(StringComparer.Ordinal), s.Overflowed.WithComparers(StringComparer.Ordinal), ImmutableDictionary<string, int>.Empty);
        foreach (var hint in s.Hints.Values) store = store.Add(hint);
        return store;
    }
}
