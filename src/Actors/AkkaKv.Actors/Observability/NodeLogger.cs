using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace AkkaKv.Observability;

/// <summary>
/// The node's Akka logger: Akka's standard-out logger, except that Akka.Remote's association
/// warnings and errors that <see cref="RemoteLogNoise"/> finds expected (a seed not yet listening
/// while this node starts, a peer that is leaving or gone, this node stopping) are logged at info
/// with the reason, so that a clean start and a clean stop log no warning. The same messages
/// about a running member, while this node runs, stay warnings. Set by <c>akka.loggers</c>.
/// </summary>
public sealed class NodeLogger : DefaultLogger
{
    protected override void Print(LogEvent logEvent) => base.Print(Demoted(logEvent) ?? logEvent);

    private LogEvent? Demoted(LogEvent e)
    {
        if (e.LogLevel() < LogLevel.WarningLevel) return null;
        if (FromSharding(e) && RemoteLogNoise.ExpectedSharding($"{e.Message}", MembershipSettled(Context.System)) is { } handOff)
            return new Info(e.LogSource, e.LogClass, $"{e.Message} [expected: {handOff}]");
        if (!FromRemoting(e)) return null;
        var text = e.Cause is null ? $"{e.Message}" : $"{e.Message} ({e.Cause.GetType().Name}: {e.Cause.Message})";
        var system = Context.System;
        var self = ((ExtendedActorSystem)system).Provider.DefaultAddress?.ToString() ?? "";
        // The peer is named in the message, or only in the endpoint writer's (URL-encoded) path.
        var reason = RemoteLogNoise.Expected($"{text} {Uri.UnescapeDataString(e.LogSource ?? "")}", self, SelfRunning(system, out var peers), peers);
        return reason is null ? null : new Info(e.LogSource, e.LogClass, $"{text} [expected: {reason}]");
    }

    /// <summary>
    /// Akka.Remote's endpoints log under their own classes; its endpoint manager under the string
    /// source "remoting" (<c>Logging.GetLogger(system, "remoting")</c>); an endpoint actor's
    /// failure is logged by its supervisor strategy (an Akka.Actor class) under the endpoint's path.
    /// </summary>
    private static bool FromRemoting(LogEvent e) =>
        e.LogClass?.Namespace?.StartsWith("Akka.Remote", StringComparison.Ordinal) == true
        || e.LogSource?.StartsWith("remoting", StringComparison.Ordinal) == true
        || e.LogSource?.Contains("/system/endpointManager/", StringComparison.Ordinal) == true
        || e.LogSource?.Contains("/system/transports/", StringComparison.Ordinal) == true;

    private static bool FromSharding(LogEvent e) =>
        e.LogClass?.Namespace?.StartsWith("Akka.Cluster.Sharding", StringComparison.Ordinal) == true
        || e.LogSource?.Contains("/system/sharding/", StringComparison.Ordinal) == true;

    /// <summary>This node runs, and every member is Up and reachable (no member joins, leaves or is away).</summary>
    private static bool MembershipSettled(ActorSystem system)
    {
        if (!SelfRunning(system, out _)) return false;
        var state = Cluster.Get(system).State;
        return state.Unreachable.Count == 0 && state.Members.All(m => m.Status == MemberStatus.Up);
    }

    /// <summary>
    /// Whether this node is a running member (Up or WeaklyUp, its shutdown not begun), and the
    /// addresses of the members that run (Joining, Up or WeaklyUp), from the cluster's read view.
    /// Before the cluster extension exists the node is starting.
    /// </summary>
    private static bool SelfRunning(ActorSystem system, out IReadOnlySet<string> peers)
    {
        peers = new HashSet<string>();
        if (!system.HasExtension<Cluster>() || CoordinatedShutdown.Get(system).ShutdownReason is not null) return false;
        var cluster = Cluster.Get(system);
        peers = cluster.State.Members
            .Where(m => m.Status is MemberStatus.Joining or MemberStatus.Up or MemberStatus.WeaklyUp)
            .Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal);
        return cluster.SelfMember.Status is MemberStatus.Up or MemberStatus.WeaklyUp;
    }
}
