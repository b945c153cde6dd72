using System.Collections.Immutable;
using AkkaKv.Ring;

namespace AkkaKv.Placement;

/// <summary>
/// A replica slot that is not where the ring places it: hosted on <see cref="From"/> (null: not
/// allocated anywhere) and going to <see cref="To"/>. <see cref="Keys"/> and <see cref="Bytes"/>:
/// what the replicas of its partition hold, which is what the new holder catches up from the
/// slot's peers (-1: not known, no replica of the partition answered).
/// </summary>
public sealed record PendingMove(string Slot, string? From, string To, long Keys, long Bytes);

/// <summary>
/// A replica slot catching up on <see cref="Node"/> (recovering its journal, then exchanging with
/// its peers): <see cref="PeersDone"/> of <see cref="Peers"/> exchanges finished, and the keys and
/// bytes the exchanges carried so far.
/// </summary>
public sealed record SlotCatchUp(string Slot, string Node, int PeersDone, int Peers, long Keys, long Bytes, long ElapsedMs);

/// <summary>
/// One node's transfers: its slots catching up now, and the totals of the catch-ups it finished
/// since it started (<see cref="KeysDone"/>, <see cref="BytesDone"/>), with those of the last
/// <see cref="WindowMs"/> (the rate). <see cref="Sizes"/>: the keys and bytes of each slot it
/// hosts (null: not collected).
/// </summary>
public sealed record NodeTransfers(string Node, ValueList<SlotCatchUp> CatchingUp, long CatchUpsDone, long KeysDone, long BytesDone,
    long KeysInWindow, long BytesInWindow, long WindowMs, ValueList<SlotSizeInfo>? Sizes = null) : IKvMessage;

/// <summary>How many keys replica slot <see cref="Slot"/> holds on its node, and their bytes.</summary>
public sealed record SlotSizeInfo(string Slot, long Keys, long Bytes);

/// <summary>
/// The cluster's transfers as one node sees them (what <c>akkakv transfers</c> prints): members
/// leaving, slots waiting to move, slots catching up, and every reachable node's totals. Pure: the
/// rates and the ETA are derived here, from the nodes' windows.
/// </summary>
public sealed record TransferReport(string Node, ValueList<string> Leaving, ValueList<PendingMove> Pending, ValueList<NodeTransfers> Nodes, string? Warning = null) : IKvMessage
{
    /// <summary>Nothing to move, nothing catching up, nobody leaving: the cluster is settled.</summary>
    public bool Settled => Leaving.Count == 0 && Pending.Count == 0 && Nodes.All(n => n.CatchingUp.Count == 0);

    public int SlotsCatchingUp => Nodes.Sum(n => n.CatchingUp.Count);

    /// <summary>Keys left: those of the slots waiting to move whose size is known.</summary>
    public long KeysLeft => Pending.Where(m => m.Keys > 0).Sum(m => m.Keys);
    public long BytesLeft => Pending.Where(m => m.Bytes > 0).Sum(m => m.Bytes);
    /// <summary>Slots waiting to move whose size is not known (unallocated, or the holder did not answer).</summary>
    public int PendingOfUnknownSize => Pending.Count(m => m.Keys < 0);

    public long KeysDone => Nodes.Sum(n => n.KeysDone + n.CatchingUp.Sum(c => c.Keys));
    public long BytesDone => Nodes.Sum(n => n.BytesDone + n.CatchingUp.Sum(c => c.Bytes));

    /// <summary>
    /// Keys and bytes carried since <paramref name="earlier"/>, node by node (a node not in it, e.g.
    /// one that joined since, counts from 0; one gone since, such as a node that left, not at all).
    /// </summary>
    public (long Keys, long Bytes) DoneSince(TransferReport earlier)
    {
        long keys = 0, bytes = 0;
        foreach (var n in Nodes)
        {
            var before = earlier.Nodes.FirstOrDefault(e => e.Node == n.Node);
            keys += Math.Max(0, Total(n, x => x.KeysDone, c => c.Keys) - (before is null ? 0 : Total(before, x => x.KeysDone, c => c.Keys)));
            bytes += Math.Max(0, Total(n, x => x.BytesDone, c => c.Bytes) - (before is null ? 0 : Total(before, x => x.BytesDone, c => c.Bytes)));
        }
        return (keys, bytes);
    }

    private static long Total(NodeTransfers n, Func<NodeTransfers, long> done, Func<SlotCatchUp, long> inProgress) =>
        done(n) + n.CatchingUp.Sum(inProgress);

    /// <summary>Keys per second that catch-ups carried over the nodes' last window (0 with no window).</summary>
    public double KeysPerSecond => Rate(n => n.KeysInWindow);
    public double BytesPerSecond => Rate(n => n.BytesInWindow);

    private double Rate(Func<NodeTransfers, long> amount) =>
        Nodes.Where(n => n.WindowMs > 0).Sum(n => amount(n) * 1000.0 / n.WindowMs);

    /// <summary>
    /// Time left at the current byte rate for what is known to be left; null when nothing moves at
    /// a measurable rate yet (no ETA rather than a made-up one), zero when nothing is left.
    /// </summary>
    public TimeSpan? Eta
    {
        get
        {
            if (BytesLeft == 0 && PendingOfUnknownSize == 0) return TimeSpan.Zero;
            var rate = BytesPerSecond;
            if (rate <= 0 || PendingOfUnknownSize > 0 && BytesLeft == 0) return null;
            return TimeSpan.FromSeconds(BytesLeft / rate);
        }
    }
}

/// <summary>Which slots must move, from where to where (the ring's plan against where slots are), and how much they carry.</summary>
public static class TransferPlan
{
    /// <summary>
    /// Every slot of <paramref name="plan"/> whose owner differs from its planned one, including
    /// slots not allocated anywhere, in slot order, sized by <paramref name="sizes"/> when known.
    /// A slot in <paramref name="notStarted"/> (allocated where the plan wants it, its replica not
    /// running yet) is pending too, from and to its node: it has caught up nothing yet.
    /// </summary>
    public static ImmutableArray<PendingMove> Pending(IReadOnlyDictionary<SlotId, string> owners, IReadOnlyDictionary<SlotId, string> plan,
        IReadOnlyDictionary<SlotId, (long Keys, long Bytes)> sizes, IReadOnlySet<SlotId>? notStarted = null) =>
        [.. plan.Where(kv => !owners.TryGetValue(kv.Key, out var owner) || owner != kv.Value || notStarted?.Contains(kv.Key) == true)
            .OrderBy(kv => kv.Key.Partition).ThenBy(kv => kv.Key.Index)
            .Select(kv =>
            {
                var from = owners.GetValueOrDefault(kv.Key);
                var (keys, bytes) = sizes.TryGetValue(kv.Key, out var size) ? size : (-1L, -1L);
                return new PendingMove(kv.Key.ToString(), from, kv.Value, keys, bytes);
            })];

    /// <summary>
    /// What a slot's new holder will catch up: the largest of what the replicas of its partition
    /// hold (itself included), so a slot whose holder is gone or did not answer is still sized.
    /// </summary>
    public static Dictionary<SlotId, (long Keys, long Bytes)> SizeByPeers(IReadOnlyDictionary<SlotId, (long Keys, long Bytes)> held, int replicationFactor)
    {
        var sized = new Dictionary<SlotId, (long, long)>();
        foreach (var partition in held.Keys.Select(s => s.Partition).Distinct())
        {
            var largest = Enumerable.Range(0, replicationFactor).Select(i => new SlotId(partition, i))
                .Where(held.ContainsKey).Select(s => held[s]).MaxBy(size => size.Keys);
            for (var i = 0; i < replicationFactor; i++) sized[new SlotId(partition, i)] = largest;
        }
        return sized;
    }
}

/// <summary>
/// Catch-ups finished over the last <see cref="Window"/>, for a rate: amounts with when they were
/// done. Pure (the caller passes the time); bounded by how many catch-ups a window holds.
/// </summary>
public sealed class TransferWindow
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    private readonly Queue<(long AtMs, long Keys, long Bytes)> _done = new();
    private long _startedMs = -1;

    public void Add(long nowMs, long keys, long bytes)
    {
        if (_startedMs < 0) _startedMs = nowMs;
        _done.Enqueue((nowMs, keys, bytes));
        Trim(nowMs);
    }

    /// <summary>Keys and bytes done in the window ending now, and the window's length: the full window, or since the first catch-up when that is shorter.</summary>
    public (long Keys, long Bytes, long WindowMs) Sum(long nowMs)
    {
        Trim(nowMs);
        if (_startedMs < 0) return (0, 0, 0);
        var window = Math.Min((long)Window.TotalMilliseconds, Math.Max(1, nowMs - _startedMs));
        return (_done.Sum(d => d.Keys), _done.Sum(d => d.Bytes), window);
    }

    private void Trim(long nowMs)
    {
        while (_done.Count > 0 && _done.Peek().AtMs < nowMs - (long)Window.TotalMilliseconds) _done.Dequeue();
    }
}
