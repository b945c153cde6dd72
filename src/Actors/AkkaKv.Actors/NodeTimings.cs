namespace AkkaKv;

/// <summary>
/// The node's fixed internal delays: named here once, each with its reason. (Every delay an
/// operator may want to tune is a setting in <c>hocon/akka-kv.conf</c> instead.)
/// </summary>
internal static class NodeTimings
{
    /// <summary>
    /// After a membership change the gateway asks the shard regions where slots are this soon:
    /// events come in bursts and one query serves them all, rather than waiting up to a whole
    /// <c>request.placement-refresh-interval</c> with a stale picture.
    /// </summary>
    public static readonly TimeSpan PlacementAfterMembershipChange = TimeSpan.FromMilliseconds(500);

    /// <summary>While slots are still being placed or moved, the picture goes stale within seconds: the gateway asks again this soon.</summary>
    public static readonly TimeSpan PlacementWhileSlotsMove = TimeSpan.FromSeconds(1);

    /// <summary>A status collector waits this much beyond <c>request.timeout</c> for the regions' and nodes' answers before it replies with what it has.</summary>
    public static readonly TimeSpan StatusGrace = TimeSpan.FromSeconds(1);

    /// <summary>An anti-entropy round asked for "soon" (a member came back, a hint overflowed) starts after this pause, so that a burst of causes starts one round.</summary>
    public static readonly TimeSpan AntiEntropySoon = TimeSpan.FromSeconds(1);

    /// <summary>A RESP command waits this much beyond its request timeout for the gateway's reply (the gateway always answers by then).</summary>
    public static readonly TimeSpan RespAskGrace = TimeSpan.FromSeconds(2);

    /// <summary>On shutdown the RESP listener waits this long for open connections to finish their replies.</summary>
    public static readonly TimeSpan RespDrain = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a scan page waits for the other replicas once one has answered: a replica that is
    /// down but not yet detected unreachable would otherwise hold every page for the full timeout.
    /// The page is correct with any replica's slice (it covers what the answering ones hold).
    /// </summary>
    public static readonly TimeSpan ScanStragglers = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// A node that leaves pushes its replica slots to their peers and hands its hints over for at
    /// most this long (the coordinated-shutdown phase <c>before-service-unbind</c> allows 10 s
    /// more, in <c>hocon/cluster.conf</c>); what is left then is anti-entropy's on the other nodes.
    /// </summary>
    public static readonly TimeSpan LeaveHandOver = TimeSpan.FromSeconds(60);
}
