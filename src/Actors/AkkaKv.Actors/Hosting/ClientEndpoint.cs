using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using AkkaKv.Configuration;
using AkkaKv.Protocol;
using AkkaKv.Security;

namespace AkkaKv.Hosting;

/// <summary>
/// The node's client port (<c>--client-port</c>): a second, small ActorSystem in the node process,
/// with its own remoting endpoint, that serves .NET clients and nothing else. Its only user actor,
/// at the gateway's usual path (<c>/user/kv-gateway</c>), hands get, put, delete and status to the
/// node's gateway; the node's shard region, replicas, hints, anti-entropy and cluster daemons are
/// not reachable from it, and untrusted mode refuses remote deployment, system messages and any
/// actor selection but the gateway. With remoting TLS it presents the node's certificate and lets
/// in only certificates of the client CA (<c>tls.client-ca-file</c>), which the node port refuses:
/// a client certificate reaches the gateway and nothing else.
/// </summary>
public static class ClientEndpoint
{
    /// <summary>Binds the client port (a port in use fails the node's start) and keeps it up until the node shuts down; returns its address.</summary>
    /// <param name="identity">The node's certificate, and <paramref name="nodeCa"/> the node CA (with remoting TLS).</param>
    internal static Address Start(ActorSystem node, NodeOptions options, KvSettings settings, IActorRef gateway, X509Certificate2? identity, X509Certificate2? nodeCa)
    {
        Setup? tls = null;
        if (settings.RemoteTls)
        {
            if (MissingClientCa(options, settings) is { } missing) throw new KvSettingsException(missing);
            var clientCa = CertificateTrust.LoadCa(settings.TlsClientCaFile, "tls.client-ca-file");
            if (clientCa.Thumbprint == nodeCa!.Thumbprint)
                throw new KvSettingsException("akka-kv: tls.client-ca-file is the node CA (tls.ca-file): client certificates must come from a CA of their own, or a client certificate would be a node's");
            // It dials a client only to deliver a reply whose connection dropped: the client's
            // listener presents its client certificate, so a client certificate is accepted there.
            tls = RemoteTls.Setup(identity!, clientCa, strictOutbound: false);
        }
        var log = Logging.GetLogger(node, "client-port");
        var stopping = false;
        var current = Create(options, tls, gateway);
        var address = ((ExtendedActorSystem)current).Provider.DefaultAddress;
        CoordinatedShutdown.Get(node).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-client-port", async () =>
        {
            stopping = true;
            await Volatile.Read(ref current).Terminate();
            return Akka.Done.Instance;
        });
        // A TLS handshake this endpoint's own dial fails shuts its ActorSystem down (Akka.Remote's
        // rule for the dialling side): start it again, so one client cannot close the port.
        _ = Task.Run(async () =>
        {
            while (true)
            {
                await Volatile.Read(ref current).WhenTerminated;
                if (stopping) return;
                log.Warning("the client port's endpoint on {0}:{1} stopped; starting it again", options.Host, options.ClientPort);
                while (!stopping)
                {
                    try { Volatile.Write(ref current, Create(options, tls, gateway)); break; }
                    catch (Exception e) { log.Error(e, "the client port could not be started again; retrying in 1 s"); await Task.Delay(TimeSpan.FromSeconds(1)); }
                }
            }
        });
        return address;
    }

    /// <summary>Why a node with these options cannot open its client port, or null: with remoting TLS it needs the client CA.</summary>
    public static string? MissingClientCa(NodeOptions options, KvSettings settings) =>
        options.ClientPort > 0 && settings.RemoteTls && settings.TlsClientCaFile.Length == 0
            ? "akka-kv: the client port (--client-port) with remoting TLS needs tls.client-ca-file (--tls-client-ca): the CA of the certificates clients present"
            : null;

    private static ActorSystem Create(NodeOptions options, Setup? tls, IActorRef gateway)
    {
        var config = ConfigOf(options.Host, options.ClientPort, options.PublicHost);
        if (tls is not null) config = RemoteTls.Hocon.WithFallback(config);
        var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config));
        if (tls is not null) setup = setup.And(tls);
        var system = ActorSystem.Create(NodeActors.SystemName, setup);
        system.ActorOf(Props.Create(() => new ClientGatewayProxy(gateway)), NodeActors.Gateway);
        return system;
    }

    /// <param name="publicHost">The name clients dial (<c>--public-host</c>); null: <paramref name="host"/>.</param>
    internal static Config ConfigOf(string host, int port, string? publicHost = null) =>
        ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              actor.provider = remote
              coordinated-shutdown { exit-clr = off, run-by-clr-shutdown-hook = off }
              remote {
                log-remote-lifecycle-events = off
                untrusted-mode = on
                trusted-selection-paths = ["{{NodeActors.LocalPath(NodeActors.Gateway)}}"]
                dot-netty.tcp { hostname = "{{host}}", public-hostname = "{{publicHost ?? host}}", port = {{port}}, maximum-frame-size = 32 MiB }
              }
            }
            """).WithFallback(ProtocolSerializer.ClientConfig);
}

/// <summary>Hands the client requests (get, put, delete, status, transfers) to the node's gateway, the reply going straight to the client; refuses leave and down; anything else is dropped.</summary>
internal sealed class ClientGatewayProxy : ReceiveActor
{
    public ClientGatewayProxy(IActorRef gateway)
    {
        Receive<IKvRequest>(request => gateway.Tell(request, Sender));
        Receive<GetStatus>(status => gateway.Tell(status, Sender));
        Receive<GetTransfers>(transfers => gateway.Tell(transfers, Sender));
        Receive<Scan>(scan => gateway.Tell(scan, Sender));
        // A client certificate is not an admin identity: membership commands come through a node
        // port (a certificate of the node CA), or from loopback without TLS.
        Receive<LeaveNode>(leave => Sender.Tell(new AdminReply(false, leave.Node, AdminRefusal)));
        Receive<DownNode>(down => Sender.Tell(new AdminReply(false, down.Node, AdminRefusal)));
    }

    public const string AdminRefusal = "leave and down need a node identity: this is the client port, whose certificates are clients'. " +
        "Send them to a node port with a certificate of the node CA (--tls-cert/--tls-key of a node)";
}
