using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.Tests.Core;
using AkkaKv.Versioning;

namespace AkkaKv.Tests.Actors;

/// <summary>Shared fixtures for the coordinator specs: settings, options and hand-made versions.</summary>
internal static class ActorSpecSupport
{
    public static readonly TimeSpan CoordinatingReplicaTimeout = TimeSpan.FromMilliseconds(300);
    public static readonly TimeSpan ReadRepairWindow = TimeSpan.FromMilliseconds(300);

    /// <summary>Node defaults with short coordinator timers, so the specs stay fast.</summary>
    public static KvSettings Settings() => CoreTestSupport.DefaultSettings() with
    {
        CoordinatingReplicaTimeout = CoordinatingReplicaTimeout,
        ReadRepairWindow = ReadRepairWindow,
    };

    public static ResolvedOptions Options(int r = 2, int w = 2, double timeoutSeconds = 2) =>
        new(N: 3, R: r, W: w, Timeout: TimeSpan.FromSeconds(timeoutSeconds), Sloppy: true);

    /// <summary>A version minted by <paramref name="actor"/> as its <paramref name="counter"/>-th event.</summary>
    public static Sibling Version(string actor, long counter, string? value, VersionVector? past = null) =>
        new(new Dot(actor, counter), past ?? VersionVector.Empty, value is null ? null : Bytes.FromUtf8(value), 1_000 + counter);

    public static SiblingSet Set(params Sibling[] siblings) => SiblingSet.Of(siblings);

    public static string[] ValuesOf(IEnumerable<Bytes> values) => values.Select(v => v.ToUtf8()).ToArray();

    /// <summary>Stops <paramref name="actor"/> and returns once it has terminated (its journal writes, if any, are done).</summary>
    public static void StopAndAwaitTermination(this Akka.TestKit.Xunit2.TestKit kit, Akka.Actor.IActorRef actor, TimeSpan wait)
    {
        kit.Watch(actor);
        kit.Sys.Stop(actor);
        kit.ExpectTerminated(actor, wait);
        kit.Unwatch(actor);
    }
}
