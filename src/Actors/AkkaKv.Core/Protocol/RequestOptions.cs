namespace AkkaKv.Protocol;

/// <summary>
/// Per-request tunables. Null means "the node's default" (<c>akka-kv.request.*</c>).
/// <see cref="Sloppy"/>: whether fallback (non-primary) replicas may count toward the quorum.
/// <see cref="Overwrite"/>: for a put or delete without a context, supersede whatever the
/// coordinating replica holds (an explicit, per-request last-writer-wins at that replica) instead
/// of adding a sibling. Off by default: the store never drops a write silently.
/// </summary>
public sealed record RequestOptions(int? R = null, int? W = null, TimeSpan? Timeout = null, bool? Sloppy = null, bool? Overwrite = null)
{
    public static readonly RequestOptions Default = new();
}
