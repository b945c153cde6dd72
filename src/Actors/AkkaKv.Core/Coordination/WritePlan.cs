using System.Collections.Immutable;
using AkkaKv.Placement;

namespace AkkaKv.Coordination;

/// <summary>Where one hint goes and whether its stored ack counts toward W.</summary>
/// <param name="Holder">The node whose hint actor holds it.</param>
/// <param name="Counts">True for a sloppy write held by a fallback (a node holding none of the partition's slots): an independent copy.</param>
public readonly record struct HintTarget(string Holder, bool Counts);

/// <summary>
/// What a put or delete will do, decided before it starts, as a pure function of the partition's
/// active preference list and the request's options:
/// <list type="bullet">
/// <item><see cref="FailFast"/>: why W cannot be met at all (then nothing is sent);</item>
/// <item><see cref="CoordinatorOrder"/>: the replica slots to ask, in turn, to mint the version;</item>
/// <item><see cref="HintNow"/>: the slots whose node is unreachable, hinted as soon as the version is minted;</item>
/// <item><see cref="HintFor"/>: the holder of the k-th hint: the reachable fallbacks in ring order
///   (counting toward a sloppy W), then this node (replay only).</item>
/// </list>
/// </summary>
public sealed record WritePlan(int N, int W, bool Sloppy, string Self, PartitionView View, ImmutableArray<int> CoordinatorOrder,
    ImmutableArray<int> HintNow, string? FailFast)
{
    public static WritePlan For(int partition, PartitionView view, ResolvedOptions options, string self)
    {
        var n = options.N;
        var order = CoordinatorChoice.Order(n, view.SlotNodes, view.Unreachable);
        var hintNow = Enumerable.Range(0, n).Where(i => !view.IsReachable(i)).ToImmutableArray();
        return new WritePlan(n, options.W, options.Sloppy, self, view, order, hintNow, FailFastReason(partition, view, options));
    }

    /// <summary>
    /// Fails fast, instead of waiting out the timeout, when the failure detector already says W
    /// cannot be met: with sloppy=false only reachable primaries count; sloppy adds one hint per
    /// unreachable primary, held by a distinct reachable fallback. Null when W may be met.
    /// </summary>
    public static string? FailFastReason(int partition, PartitionView view, ResolvedOptions options)
    {
        var reachable = view.ReachableCount(options.N);
        if (reachable == 0)
            return $"no replica of partition {partition} is reachable to write to (unreachable: {view.UnreachableNodes(options.N)}); 0 of W={options.W} acks";
        if (!options.Sloppy && reachable < options.W)
            return $"strict quorum (sloppy=0) cannot be met: only {reachable} of N={options.N} primary replicas are reachable (unreachable: {view.UnreachableNodes(options.N)}), W={options.W}; 0 acks";
        var possible = reachable + Math.Min(options.N - reachable, view.Fallbacks.Length);
        if (options.Sloppy && possible < options.W)
            return $"sloppy quorum cannot be met: {reachable} of N={options.N} primary replicas are reachable (unreachable: {view.UnreachableNodes(options.N)}) and {view.Fallbacks.Length} fallback node(s) can hold hints, W={options.W}; 0 acks";
        return null;
    }

    /// <summary>
    /// The holder of the <paramref name="k"/>-th hint of this write (0-based): the k-th reachable
    /// fallback, whose stored hint counts toward W when the write is sloppy; past the fallbacks,
    /// this node, whose hint never counts (a node that may already hold a slot of the partition
    /// adds no independent copy; the hint is there to be replayed).
    /// </summary>
    public HintTarget HintFor(int k) =>
        k < View.Fallbacks.Length ? new HintTarget(View.Fallbacks[k], Sloppy) : new HintTarget(Self, false);

    /// <summary>Whether the ask to the coordinating replica at position <paramref name="candidate"/> of <see cref="CoordinatorOrder"/> may be declined (another one is left to try).</summary>
    public bool MayDecline(int candidate) => candidate + 1 < CoordinatorOrder.Length;
}

/// <summary>The pure decisions of a get before it starts.</summary>
public static class ReadPlan
{
    /// <summary>
    /// Why R cannot be met at all, or null: fewer than R replicas are reachable (reads have no
    /// fallbacks: only a slot's own replica holds its data).
    /// </summary>
    public static string? FailFastReason(PartitionView view, ResolvedOptions options)
    {
        var reachable = view.ReachableCount(options.N);
        return reachable >= options.R ? null
            : $"read quorum cannot be met: only {reachable} of N={options.N} replicas are reachable (unreachable: {view.UnreachableNodes(options.N)}), R={options.R}; 0 replies";
    }
}
