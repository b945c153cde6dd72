using Akka.Actor;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using Xunit;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The client port's actor (what a client certificate reaches): it passes requests, status and
/// transfers to the node's gateway, and answers leave and down itself with a refusal, so a client
/// identity can read the cluster's state but never change its membership.
/// </summary>
public sealed class ClientPortAdminTests : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public void Leave_and_down_are_refused_on_the_client_port_and_never_reach_the_gateway()
    {
        var gateway = CreateTestProbe();
        var proxy = Sys.ActorOf(Props.Create(() => new ClientGatewayProxy(gateway.Ref)));
        proxy.Tell(new LeaveNode("n4", Force: true), TestActor);
        var leave = ExpectMsg<AdminReply>();
        Assert.False(leave.Accepted);
        Assert.Equal("n4", leave.Node);
        Assert.StartsWith("leave and down need a node identity", leave.Message);
        proxy.Tell(new DownNode("n3"), TestActor);
        Assert.False(ExpectMsg<AdminReply>().Accepted);
        gateway.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        proxy.Tell(GetTransfers.Instance, TestActor);
        gateway.ExpectMsg<GetTransfers>();
        Assert.Equal(TestActor, gateway.LastSender);
    }
}
