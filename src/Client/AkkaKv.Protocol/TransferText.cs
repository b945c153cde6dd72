using System.Globalization;
using System.Text;
using AkkaKv.Placement;

namespace AkkaKv.Protocol;

/// <summary>The human-readable rendering of a <see cref="TransferReport"/>: what <c>akkakv transfers</c> and <c>akkakv leave --wait</c> print.</summary>
public static class TransferText
{
    /// <summary>How many slot moves and catch-ups are listed one per line; the rest are counted.</summary>
    public const int Listed = 20;

    public static string Render(TransferReport t)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"transfers (as {t.Node} sees them): {(t.Settled ? "none, the cluster is settled" : "in progress")}");
        if (t.Warning is not null) sb.AppendLine($"warning: {t.Warning}");
        sb.AppendLine($"leaving: {(t.Leaving.Count == 0 ? "none" : string.Join(", ", t.Leaving))}");
        sb.AppendLine($"slots waiting to move: {t.Pending.Count}" + (t.Pending.Count == 0 ? "" : $" ({Left(t)})"));
        foreach (var m in t.Pending.Take(Listed))
            sb.AppendLine($"  {m.Slot,-8} {m.From ?? "(unallocated)",-8} -> {m.To,-8} " + (m.Keys < 0 ? "size not known" : $"{Count(m.Keys)} keys, {Size(m.Bytes)}")
                + (m.From == m.To ? " (allocated, replica not started yet)" : ""));
        if (t.Pending.Count > Listed) sb.AppendLine($"  ... and {t.Pending.Count - Listed} more");
        var catchingUp = t.Nodes.SelectMany(n => n.CatchingUp).ToList();
        sb.AppendLine($"slots catching up: {catchingUp.Count}");
        foreach (var c in catchingUp.Take(Listed))
            sb.AppendLine($"  {c.Slot,-8} on {c.Node,-8} {c.PeersDone} of {c.Peers} peer exchange(s), {Count(c.Keys)} keys, {Size(c.Bytes)} so far, {c.ElapsedMs / 1000.0:0.0} s");
        if (catchingUp.Count > Listed) sb.AppendLine($"  ... and {catchingUp.Count - Listed} more");
        sb.AppendLine($"done: {Count(t.KeysDone)} keys, {Size(t.BytesDone)} carried by {t.Nodes.Sum(n => n.CatchUpsDone)} slot catch-up(s) since the nodes started");
        sb.AppendLine($"rate (last minute): {Rate(t)}");
        sb.AppendLine($"ETA: {Eta(t)}");
        return sb.ToString();
    }

    /// <summary>One progress line, for <c>leave --wait</c>.</summary>
    public static string Line(TransferReport t, TimeSpan elapsed, (long Keys, long Bytes) doneSinceStart) =>
        $"[{elapsed.TotalSeconds,6:0.0} s] leaving: {(t.Leaving.Count == 0 ? "none" : string.Join(",", t.Leaving))} | " +
        $"waiting to move: {t.Pending.Count} slot(s)" + (t.Pending.Count == 0 ? "" : $" ({Left(t)})") +
        $" | catching up: {t.SlotsCatchingUp} | moved: {Count(doneSinceStart.Keys)} keys, {Size(doneSinceStart.Bytes)} | {Rate(t)} | ETA {Eta(t)}";

    private static string Left(TransferReport t) =>
        $"{Count(t.KeysLeft)} keys, {Size(t.BytesLeft)} left" + (t.PendingOfUnknownSize > 0 ? $", {t.PendingOfUnknownSize} of unknown size" : "");

    private static string Rate(TransferReport t) =>
        t.BytesPerSecond <= 0 ? "nothing moved in the last minute" : $"{Count((long)t.KeysPerSecond)} keys/s, {Size((long)t.BytesPerSecond)}/s";

    private static string Eta(TransferReport t) => t.Settled ? "done"
        : t.Eta is { } eta ? (eta == TimeSpan.Zero ? "any moment (nothing sized is left)" : $"{eta.TotalSeconds:0} s")
        : "not known yet (no rate measured)";

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB",
    };
}
