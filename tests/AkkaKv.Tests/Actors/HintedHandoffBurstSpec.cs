using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaKv.HintedHandoff;
using AkkaKv.Hosting;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Actors.ActorSpecSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The hint actor under a burst of <see cref="StoreHint"/>s, as a node gets when many puts hint a
/// dead replica at once (found by the end-to-end NodeFailureTests: hints never drained and values
/// of one key turned up under another). The node never joins a cluster, so the target node is
/// not a member and every hint is replayed at once to the probe standing in for the shard region.
/// </summary>
public sealed class HintedHandoffBurstSpec : Akka.TestKit.Xunit2.TestKit
{
    private const int Burst = 20;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly TestProbe _region;
    private readonly IActorRef _hints;

    public HintedHandoffBurstSpec(ITestOutputHelper output) : base(SystemConfig(), "hint-burst-spec", output)
    {
        _region = CreateTestProbe("region");
        var region = _region.Ref;
        _hints = Sys.ActorOf(HintedHandoffActor.PropsFor(Settings(), () => region, TimeProvider.System), HintedHandoffActor.Name);
    }

    private static Config SystemConfig() =>
        ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
            akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
            """).WithFallback(KvConfig.Serialization);

    /// <summary>A hint for slot i/0 of key-i, holding one version minted by a replica of that slot as its <paramref name="counter"/>-th event.</summary>
    private static StoreHint HintFor(int i, string value, long counter = 1) =>
        new(1000 + i, new SlotId(i, 0), "n9", Bytes.FromUtf8($"key-{i}"), Set(Version($"n1/0.{i:x8}", counter, value)));

    /// <summary>Replays the probe receives until every key in <paramref name="keys"/> was seen, or the wait is over: key → values replayed for it.</summary>
    private Dictionary<string, HashSet<string>> Replays(IReadOnlyCollection<string> keys)
    {
        var seen = new Dictionary<string, HashSet<string>>();
        var deadline = DateTime.UtcNow + Wait;
        while (!keys.All(seen.ContainsKey) && DateTime.UtcNow < deadline)
        {
            var envelope = _region.ReceiveOne(deadline - DateTime.UtcNow) as SlotEnvelope;
            if (envelope?.Command is not ReplicaMerge merge) continue;
            var key = merge.Key.ToUtf8();
            Assert.Equal($"key-{envelope.Slot.Partition}", key);
            if (!seen.TryGetValue(key, out var values)) seen[key] = values = [];
            foreach (var v in merge.Siblings.Values) values.Add(v.ToUtf8());
        }
        return seen;
    }

    private void StoreBurst()
    {
        for (var i = 0; i < Burst; i++) _hints.Tell(HintFor(i, $"v{i}"), TestActor);
        var stored = Enumerable.Range(0, Burst).Select(_ => ExpectMsg<HintStored>(Wait)).ToList();
        Assert.Equal(Burst, stored.Select(s => s.Target).Distinct().Count());
    }

    [Fact]
    public void Every_hint_of_a_burst_is_held_and_replayed_under_its_own_key()
    {
        StoreBurst();
        var keys = Enumerable.Range(0, Burst).Select(i => $"key-{i}").ToList();
        var replayed = Replays(keys);
        Assert.True(keys.All(replayed.ContainsKey), $"only {replayed.Count} of {Burst} acknowledged hints were replayed; never: {string.Join(", ", keys.Except(replayed.Keys))}");
        foreach (var (key, values) in replayed) Assert.Equal([$"v{key["key-".Length..]}"], values);
        _hints.Tell(GetHintStats.Instance, TestActor);
        Assert.Equal(Burst, Assert.Single(ExpectMsg<HintStats>(Wait).Targets).Held);
    }

    [Fact]
    public void A_later_hint_for_a_key_of_a_burst_merges_with_that_keys_hint_and_no_other_keys_versions()
    {
        StoreBurst();
        Replays(Enumerable.Range(0, Burst).Select(i => $"key-{i}").ToList());
        // A concurrent version of key-0 (another dot of the same replica): merged into key-0's hint.
        _hints.Tell(HintFor(0, "v0-again", counter: 2), TestActor);
        ExpectMsg<HintStored>(Wait);
        var again = Replays(["key-0"]);
        Assert.True(again.ContainsKey("key-0"), "the second hint for key-0 was never replayed");
        Assert.True(again["key-0"].IsSubsetOf(["v0", "v0-again"]) && again["key-0"].Contains("v0-again"),
            $"key-0's hint was replayed with [{string.Join(", ", again["key-0"])}]: versions of other keys got into it");
    }
}
