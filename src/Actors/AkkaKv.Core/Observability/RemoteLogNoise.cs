using System.Text.RegularExpressions;

namespace AkkaKv.Observability;

/// <summary>
/// Which of Akka.Remote's association warnings are expected, pure. A node that starts dials its
/// seeds before they listen, and a node that stops, or whose peer just left, sees the peer's
/// connection refused or dropped: Akka.Remote logs each as a warning ("Association with remote
/// system … has failed", "Tried to associate with unreachable remote address", "AssociationError"),
/// though nothing needs an operator. The same messages about a peer that is a running member of
/// the cluster, while this node runs, are real failures and stay warnings (the cluster's own
/// "Marking node as UNREACHABLE" and "Couldn't join seed nodes" warnings are not touched either).
/// </summary>
public static partial class RemoteLogNoise
{
    /// <summary>
    /// Why a warning or error of Akka.Remote's is expected, or null when it must stay as it is:
    /// it names no peer address, or it names a peer that is a running member (Joining, Up or
    /// WeaklyUp, reachable or not) while this node itself runs. <paramref name="selfRunning"/> is
    /// false before this node is Up and once its shutdown began.
    /// </summary>
    public static string? Expected(string message, string selfAddress, bool selfRunning, IReadOnlySet<string> runningPeers)
    {
        var peers = Addresses(message).Where(a => !string.Equals(a, selfAddress, StringComparison.Ordinal)).ToList();
        if (peers.Count == 0) return null;
        if (!selfRunning) return "this node is starting or stopping";
        if (peers.Any(runningPeers.Contains)) return null;
        return $"{peers[0]} is not a running member: not yet joined, leaving or gone";
    }

    /// <summary>
    /// Why a warning of cluster sharding's is expected, or null. A slot that moves (a member
    /// leaves or joins, the allocation rebalances) is handed off: the region drops the requests it
    /// buffered for that slot meanwhile ("replica: Dropping [n] buffered messages to shard [s]
    /// during hand off to avoid re-ordering", prefixed with the entity type's name). Their coordinators count that replica as not answering (a
    /// write that misses W is not acknowledged; the client retries), so no operator is needed.
    /// </summary>
    /// <remarks>
    /// Also, while members join or leave (<paramref name="membershipSettled"/> false: this node not
    /// running, or a member not Up, or one unreachable): "replica: Requested shard homes [s] from
    /// coordinator at [...]. [n] total buffered messages". The coordinator is moving the slots of
    /// the member that leaves and answers the region's request late; the region retries and the
    /// buffered requests go out once the slot has its new home. In a settled cluster the same
    /// warning means the coordinator does not answer, and it stays a warning.
    /// </remarks>
    public static string? ExpectedSharding(string message, bool membershipSettled = true) =>
        HandOffDropPattern().IsMatch(message)
            ? "the slot is handed off to another member; its coordinators count this replica as not answering"
            : !membershipSettled && ShardHomesRetryPattern().IsMatch(message)
                ? "members are joining or leaving: the coordinator is moving their slots, and the region asks again"
                : null;

    /// <summary>The actor system addresses (<c>akka.tcp://system@host:port</c>) a log message names, without paths.</summary>
    public static IEnumerable<string> Addresses(string message) =>
        AddressPattern().Matches(message).Select(m => m.Value).Distinct(StringComparer.Ordinal);

    [GeneratedRegex(@"akka(\.[a-z]+)?://[A-Za-z0-9_\-]+@(\[[0-9A-Fa-f:.]+\]|[^\s/\[\],:]+):[0-9]+")]
    private static partial Regex AddressPattern();

    [GeneratedRegex(@"^([A-Za-z0-9_.\-]+: )?Requested shard homes \[[^\]]*\] from coordinator at \[")]
    private static partial Regex ShardHomesRetryPattern();

    [GeneratedRegex(@"^([A-Za-z0-9_.\-]+: )?Dropping \[[0-9]+\] buffered messages to shard \[[^\]]*\] during hand off")]
    private static partial Regex HandOffDropPattern();
}
