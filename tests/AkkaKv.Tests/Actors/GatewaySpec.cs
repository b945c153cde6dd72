using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Sharding;
using AkkaKv.Versioning;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Actors.ActorSpecSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The gateway's front-door checks and its hand-off to coordinators. The node never joins a
/// cluster (the gateway only subscribes to cluster events), and a probe stands in for the region.
/// </summary>
public sealed class GatewaySpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);
    private static readonly Bytes Key = Bytes.FromUtf8("user:1");

    private readonly KvSettings _settings = Settings() with { MaxKeyBytes = 8, MaxValueBytes = 16 };
    private readonly TestProbe _region;
    private readonly IActorRef _gateway;

    public GatewaySpec(ITestOutputHelper output) : base(SystemConfig(), "gateway-spec", output)
    {
        _region = CreateTestProbe("region");
        _gateway = Sys.ActorOf(GatewayActor.PropsFor(_settings, _region.Ref), GatewayActor.Name);
    }

    private static Config SystemConfig() =>
        ConfigurationFactory.ParseString("""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = INFO
            """).WithFallback(KvConfig.Serialization);

    private RequestFailed ExpectRefusal(IKvRequest request, string reasonPart)
    {
        _gateway.Tell(request, TestActor);
        var failed = ExpectMsg<RequestFailed>(Wait);
        Assert.Contains(reasonPart, failed.Reason);
        Assert.Equal(0, failed.Acks);
        Assert.Equal(0, failed.Required);
        // A refused request never reaches a replica.
        _region.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        return failed;
    }

    private int PartitionOf(Bytes key) => new Partitioner(_settings.PartitionCount).PartitionOf(key);

    [Fact]
    public void A_put_with_an_empty_key_is_refused_because_the_key_is_empty()
    {
        var failed = ExpectRefusal(new Put(Bytes.Empty, Bytes.FromUtf8("v"), null, RequestOptions.Default), "the key is empty");
        Assert.Equal(Bytes.Empty, failed.Key);
    }

    [Fact]
    public void A_get_with_an_empty_key_is_refused_because_the_key_is_empty() =>
        ExpectRefusal(new Get(Bytes.Empty, RequestOptions.Default), "the key is empty");

    [Fact]
    public void A_key_over_the_size_limit_is_refused_naming_its_size_and_the_limit() =>
        ExpectRefusal(new Get(Bytes.FromUtf8("123456789"), RequestOptions.Default), "the key is 9 bytes, over the limit of 8 bytes");

    [Fact]
    public void A_value_over_the_size_limit_is_refused_naming_its_size_and_the_limit() =>
        ExpectRefusal(new Put(Key, Bytes.From(new byte[17]), null, RequestOptions.Default), "the value is 17 bytes, over the limit of 16 bytes");

    [Fact]
    public void A_put_asking_for_W_4_with_N_3_is_refused_naming_W_and_N() =>
        ExpectRefusal(new Put(Key, Bytes.FromUtf8("v"), null, new RequestOptions(W: 4)), "W=4 is invalid: it must be between 1 and N=3");

    [Fact]
    public void A_get_asking_for_R_0_is_refused_naming_R_and_N() =>
        ExpectRefusal(new Get(Key, new RequestOptions(R: 0)), "R=0 is invalid: it must be between 1 and N=3");

    [Fact]
    public void A_request_with_a_non_positive_timeout_is_refused() =>
        ExpectRefusal(new Delete(Key, null, new RequestOptions(Timeout: TimeSpan.Zero)), "timeout 0 ms is invalid");

    [Fact]
    public void A_put_with_a_malformed_context_is_refused_asking_to_pass_back_the_context_of_a_get_unchanged()
    {
        var failed = ExpectRefusal(new Put(Key, Bytes.FromUtf8("v"), "not a context!", RequestOptions.Default), "the causal context is malformed");
        Assert.Equal(Key, failed.Key);
    }

    [Fact]
    public void A_delete_with_a_truncated_context_is_refused_as_altered()
    {
        var context = CausalContext.Development.Encode(Key, VersionVector.Of([KeyValuePair.Create("n1/0.0000000a", 12L)]));
        ExpectRefusal(new Delete(Key, context[..^3], RequestOptions.Default), "the causal context was not issued by this cluster for this key, or was altered");
    }

    [Fact]
    public void A_put_with_the_context_of_another_key_or_signed_with_another_clusters_key_is_refused()
    {
        var vector = VersionVector.Of([KeyValuePair.Create("n1/0.0000000a", long.MaxValue)]);
        ExpectRefusal(new Put(Key, Bytes.FromUtf8("v"), CausalContext.Development.Encode(Bytes.FromUtf8("user:2"), vector), RequestOptions.Default),
            "the causal context was not issued by this cluster for this key, or was altered");
        var otherCluster = new CausalContext([new ContextKey("k1", new byte[32])]);
        ExpectRefusal(new Put(Key, Bytes.FromUtf8("v"), otherCluster.Encode(Key, vector), RequestOptions.Default),
            "the causal context is signed with key 'k1', which this node does not hold");
    }

    [Fact]
    public void A_valid_put_is_sent_to_slot_0_of_the_keys_partition_with_the_decoded_context()
    {
        var vector = VersionVector.Of([KeyValuePair.Create("n1/0.0000000a", 12L), KeyValuePair.Create("n2/1.0000000b", 3L)]);

        _gateway.Tell(new Put(Key, Bytes.FromUtf8("v"), CausalContext.Development.Encode(Key, vector), RequestOptions.Default), TestActor);

        var envelope = _region.ExpectMsg<SlotEnvelope>(Wait);
        Assert.Equal(new SlotId(PartitionOf(Key), 0), envelope.Slot);
        var put = Assert.IsType<ReplicaPut>(envelope.Command);
        Assert.Equal(Key, put.Key);
        Assert.Equal(Bytes.FromUtf8("v"), put.Value);
        Assert.Equal(vector, put.Context);
    }

    [Fact]
    public void A_delete_without_context_supersedes_nothing_so_no_value_is_dropped_silently()
    {
        _gateway.Tell(new Delete(Key, null, RequestOptions.Default), TestActor);

        var put = Assert.IsType<ReplicaPut>(_region.ExpectMsg<SlotEnvelope>(Wait).Command);
        Assert.Null(put.Value);
        Assert.Equal(VersionVector.Empty, put.Context);
    }

    [Fact]
    public void A_put_without_context_supersedes_nothing_unless_it_asks_to_overwrite()
    {
        _gateway.Tell(new Put(Key, Bytes.FromUtf8("v"), null, RequestOptions.Default), TestActor);
        var plain = Assert.IsType<ReplicaPut>(_region.ExpectMsg<SlotEnvelope>(Wait).Command);
        Assert.Equal(VersionVector.Empty, plain.Context);

        _gateway.Tell(new Put(Key, Bytes.FromUtf8("v"), null, new RequestOptions(Overwrite: true)), TestActor);
        var overwrite = Assert.IsType<ReplicaPut>(_region.ExpectMsg<SlotEnvelope>(Wait).Command);
        Assert.Null(overwrite.Context);
    }

    [Fact]
    public void A_valid_get_asks_every_replica_slot_of_the_keys_partition()
    {
        _gateway.Tell(new Get(Key, RequestOptions.Default), TestActor);

        var slots = Enumerable.Range(0, 3).Select(_ => _region.ExpectMsg<SlotEnvelope>(Wait)).ToArray();
        Assert.All(slots, s => Assert.IsType<ReplicaRead>(s.Command));
        Assert.Equal(Enumerable.Range(0, 3).Select(i => new SlotId(PartitionOf(Key), i)), slots.Select(s => s.Slot).OrderBy(s => s.Index));
    }

    [Fact]
    public void A_put_through_the_gateway_reaches_its_quorum_and_the_client_gets_write_success()
    {
        _gateway.Tell(new Put(Key, Bytes.FromUtf8("v"), null, RequestOptions.Default), TestActor);
        var first = _region.ExpectMsg<SlotEnvelope>(Wait);
        var put = Assert.IsType<ReplicaPut>(first.Command);
        var minted = Set(Version("n1/0.0000000a", 1, "v"));

        _region.Reply(new ReplicaPutDone(put.RequestId, first.Slot, "n1", minted, minted.Context));
        var merge = _region.ExpectMsg<SlotEnvelope>(Wait);
        _region.ExpectMsg<SlotEnvelope>(Wait);
        _region.Reply(new ReplicaMergeDone(put.RequestId, merge.Slot, "n2"));

        var success = ExpectMsg<WriteSuccess>(Wait);
        Assert.Equal(2, success.Acks);
        Assert.True(CausalContext.Development.TryDecode(success.Context, Key, out var context, out _));
        Assert.Equal(minted.Context, context);
    }

    [Fact]
    public void Past_the_in_flight_limit_a_request_is_refused_at_once_and_one_is_admitted_again_when_a_coordinator_finishes()
    {
        var settings = _settings with { MaxRequestsInFlight = 2 };
        var region = CreateTestProbe("limited-region");
        var gateway = Sys.ActorOf(GatewayActor.PropsFor(settings, region.Ref), "limited-gateway");
        var timeout = new RequestOptions(Timeout: TimeSpan.FromMilliseconds(300));
        gateway.Tell(new Get(Bytes.FromUtf8("a"), timeout), TestActor);
        gateway.Tell(new Put(Bytes.FromUtf8("b"), Bytes.FromUtf8("v"), null, timeout), TestActor);
        region.ExpectMsg<SlotEnvelope>(Wait);

        // The third, a get or a put, is refused at once, before the two time out, and reaches no replica.
        gateway.Tell(new Get(Bytes.FromUtf8("c"), RequestOptions.Default), TestActor);
        var refused = ExpectMsg<RequestFailed>(TimeSpan.FromMilliseconds(250));
        Assert.Equal(Bytes.FromUtf8("c"), refused.Key);
        Assert.Contains("is coordinating 2 requests, its limit (akka-kv.limits.max-requests-in-flight)", refused.Reason);
        gateway.Tell(new Put(Bytes.FromUtf8("d"), Bytes.FromUtf8("v"), null, RequestOptions.Default), TestActor);
        Assert.Equal(Bytes.FromUtf8("d"), ExpectMsg<RequestFailed>(TimeSpan.FromMilliseconds(250)).Key);

        // The region never answers: the two time out and their coordinators stop.
        var timedOut = new[] { ExpectMsg<RequestFailed>(Wait), ExpectMsg<RequestFailed>(Wait) };
        Assert.Equal(["a", "b"], timedOut.Select(f => f.Key.ToUtf8()).Order());
        region.ReceiveWhile<object>(TimeSpan.FromMilliseconds(200), m => m);
        // Room again: the next request is coordinated (it reaches the region).
        AwaitAssert(() =>
        {
            gateway.Tell(new Get(Bytes.FromUtf8("e"), timeout), TestActor);
            region.ExpectMsg<SlotEnvelope>(TimeSpan.FromMilliseconds(200));
        }, Wait);
    }
}
