using Akka.Actor;
using Akka.Configuration;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// No polymorphic serializer on the wire: a peer that reaches a node's remoting port (a plain Akka
/// ActorSystem with Akka's default JSON serializer) sends a type the store does not speak; the node
/// refuses the frame, and the same connection's next message still arrives.
/// </summary>
public sealed class NoJsonOnTheWireSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>A type no AkkaKv serializer knows: it can only travel as JSON.</summary>
    public sealed record Smuggled(string Payload);

    private static readonly Config Remote = ConfigurationFactory.ParseString("""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = INFO
        """);

    public NoJsonOnTheWireSpec(ITestOutputHelper output) : base(Remote.WithFallback(KvConfig.Serialization), "node", output) { }

    private sealed class Forward(IActorRef to) : UntypedActor
    {
        protected override void OnReceive(object message) => to.Tell(message);
    }

    [Fact]
    public void A_node_sends_nothing_as_JSON_and_refuses_a_frame_that_names_the_JSON_serializer_while_the_connection_goes_on()
    {
        var serialization = Sys.Serialization;
        Assert.IsType<NoJsonSerializer>(serialization.FindSerializerForType(typeof(Smuggled)));
        var e = Assert.ThrowsAny<Exception>(() => serialization.Serialize(new Smuggled("x")));
        Assert.Contains("has no serializer binding", e.Message);

        var probe = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new Forward(probe.Ref)), "sink");
        var nodeAddress = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;

        // An ActorSystem with Akka's defaults: JSON for anything without a binding.
        using var peer = ActorSystem.Create("peer", Remote);
        var sink = peer.ActorSelection(new RootActorPath(nodeAddress) / "user" / "sink");
        sink.Tell(new Smuggled("built from a type name on the wire"));
        sink.Tell(new byte[] { 1, 2, 3 });

        // The bytes arrive (the connection was not dropped); the smuggled object never does.
        Assert.Equal([1, 2, 3], probe.ExpectMsg<byte[]>(TimeSpan.FromSeconds(10)));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
    }
}
