using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using AkkaKv.Cli;
using AkkaKv.Client;
using AkkaKv.Hosting;
using AkkaKv.Security;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Security;

/// <summary>
/// Mutual TLS on Akka remoting, on real sockets between ActorSystems in this process, with the
/// certificates <c>./akkakv certs</c> makes: node endpoints let in only node certificates, the
/// client port only client certificates, and the client port reaches the gateway and nothing else.
/// </summary>
public sealed class RemoteTlsSpec : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Refused = TimeSpan.FromSeconds(3);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "akkakv-rtls-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<ActorSystem> _systems = [];
    private readonly List<KvClient> _clients = [];
    private readonly ITestOutputHelper _output;

    public RemoteTlsSpec(ITestOutputHelper output)
    {
        _output = output;
        DevCertificates.Create(_dir, ["127.0.0.1", "localhost"], TimeSpan.FromDays(2));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await Task.WhenAll(_systems.Select(s => s.Terminate()));
        Directory.Delete(_dir, recursive: true);
    }

    private string F(string name) => Path.Combine(_dir, name);

    /// <summary>An ActorSystem on a TLS endpoint (127.0.0.1, any port) presenting <paramref name="identity"/> and trusting only <paramref name="ca"/>, with an echo actor.</summary>
    private ActorSystem TlsSystem(string identity, string ca)
    {
        var certificate = CertificateTrust.LoadIdentity(F(identity + ".crt"), F(identity + ".key"), "cert", "key");
        var config = RemoteTls.Hocon.WithFallback(PlainConfig());
        var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config)).And(RemoteTls.Setup(certificate, CertificateTrust.LoadCa(F(ca + ".crt"), "ca")));
        return Started(ActorSystem.Create(NodeActors.SystemName, setup));
    }

    private ActorSystem PlainSystem() => Started(ActorSystem.Create(NodeActors.SystemName, PlainConfig()));

    private static Config PlainConfig() => ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """);

    private ActorSystem Started(ActorSystem system)
    {
        _systems.Add(system);
        system.ActorOf(Props.Create(() => new Echo()), "echo");
        return system;
    }

    private static Address AddressOf(ActorSystem system) => ((ExtendedActorSystem)system).Provider.DefaultAddress;

    private static Task<string> Ping(ActorSystem from, ActorSystem to, TimeSpan timeout) =>
        from.ActorSelection(new RootActorPath(AddressOf(to)) / "user" / "echo").Ask<string>("ping", timeout);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<string>(s => Sender.Tell(s));
    }

    [Fact]
    public async Task Nodes_with_certificates_of_the_node_CA_talk_both_ways_over_TLS()
    {
        var a = TlsSystem("node", "ca");
        var b = TlsSystem("node", "ca");
        Assert.Equal(RemoteTls.Protocol, AddressOf(a).Protocol);
        Assert.Equal("ping", await Ping(b, a, Answer));
        Assert.Equal("ping", await Ping(a, b, Answer));
    }

    [Fact]
    public async Task A_client_certificate_a_foreign_CA_and_no_TLS_at_all_reach_nothing_on_a_node_endpoint()
    {
        var node = TlsSystem("node", "ca");
        // A client certificate (client CA) dialling the node port: refused by the node.
        var client = TlsSystem("client", "ca");
        await Assert.ThrowsAsync<AskTimeoutException>(() => Ping(client, node, Refused));

        // Another PKI's node certificate: refused.
        var otherDir = Path.Combine(_dir, "other");
        DevCertificates.Create(otherDir, ["127.0.0.1"], TimeSpan.FromDays(2));
        File.Copy(Path.Combine(otherDir, "node.crt"), F("other-node.crt"));
        File.Copy(Path.Combine(otherDir, "node.key"), F("other-node.key"));
        var foreign = TlsSystem("other-node", "ca");
        await Assert.ThrowsAsync<AskTimeoutException>(() => Ping(foreign, node, Refused));

        // Plain text at the TLS port: the frame is not TLS, the connection is dropped.
        var plain = PlainSystem();
        var plainPath = new RootActorPath(AddressOf(node).WithProtocol("akka.tcp")) / "user" / "echo";
        await Assert.ThrowsAsync<AskTimeoutException>(() => plain.ActorSelection(plainPath).Ask<string>("ping", Refused));

        // The node still serves its peers.
        Assert.Equal("ping", await Ping(TlsSystem("node", "ca"), node, Answer));
    }

    /// <summary>Writes <paramref name="name"/>.crt/.key: a certificate the node CA issues for <paramref name="hosts"/> with <paramref name="usages"/>.</summary>
    private void IssueFromNodeCa(string name, string[] hosts, params string[] usages)
    {
        using var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(F("ca.crt"), F("ca.key"));
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={name}", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        foreach (var h in hosts) san.AddDnsName(h);
        request.CertificateExtensions.Add(san.Build());
        var ekus = new System.Security.Cryptography.OidCollection();
        foreach (var u in usages) ekus.Add(new System.Security.Cryptography.Oid(u));
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension(ekus, false));
        var serial = new byte[8];
        System.Security.Cryptography.RandomNumberGenerator.Fill(serial);
        using var cert = request.Create(ca, ca.NotBefore, DateTimeOffset.Now.AddDays(1), serial);
        File.WriteAllText(F(name + ".crt"), cert.ExportCertificatePem());
        File.WriteAllText(F(name + ".key"), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task A_node_certificate_that_does_not_name_the_address_dialled_is_refused_by_the_side_dialling()
    {
        // Issued by the right CA, for the right uses, but for another host than 127.0.0.1.
        IssueFromNodeCa("elsewhere", ["other.example"], CertificateTrust.ServerAuth.Value!, CertificateTrust.ClientAuth.Value!);
        var elsewhere = TlsSystem("elsewhere", "ca");
        var node = TlsSystem("node", "ca");
        await Assert.ThrowsAsync<AskTimeoutException>(() => Ping(node, elsewhere, Refused));
    }

    [Fact]
    public async Task A_client_certificate_of_the_node_CA_itself_cannot_reach_a_node()
    {
        // Client authentication only, from the node CA (a PKI that issues both from one CA): a node
        // is dialled by nodes, whose certificates also allow serving.
        IssueFromNodeCa("same-ca-client", ["localhost"], CertificateTrust.ClientAuth.Value!);
        var node = TlsSystem("node", "ca");
        var client = TlsSystem("same-ca-client", "ca");
        await Assert.ThrowsAsync<AskTimeoutException>(() => Ping(client, node, Refused));
        Assert.Equal("ping", await Ping(TlsSystem("node", "ca"), node, Answer));
    }

    [Fact]
    public async Task The_client_port_takes_client_certificates_only_and_serves_the_gateway_and_nothing_else()
    {
        var node = Started(ActorSystem.Create("node", "akka.loglevel = WARNING"));
        var gateway = node.ActorOf(Props.Create(() => new FakeGateway()), "fake-gateway");
        var settings = Core.CoreTestSupport.DefaultSettings() with
        {
            TlsCertFile = F("node.crt"), TlsKeyFile = F("node.key"), TlsCaFile = F("ca.crt"), TlsClientCaFile = F("client-ca.crt"),
        };
        var identity = CertificateTrust.LoadIdentity(F("node.crt"), F("node.key"), "cert", "key");
        var address = ClientEndpoint.Start(node, new NodeOptions { NodeName = "n1", DataDir = _dir, ClientPort = 0 }, settings, gateway, identity, CertificateTrust.LoadCa(F("ca.crt"), "ca"));
        var endpoint = $"{address.Host}:{address.Port}";
        _output.WriteLine($"client port at {address}");

        // A client certificate: get, put and status reach the gateway, whose answers come back.
        var client = Client(endpoint, new KvClientTls(F("client.crt"), F("client.key"), F("ca.crt")));
        var read = await client.GetAsync(Bytes.FromUtf8("k"));
        Assert.False(read.Found);
        Assert.Equal("from the gateway", read.Context);

        // A node certificate is not a client's, and a client without TLS cannot speak to the port.
        var asNode = Client(endpoint, new KvClientTls(F("node.crt"), F("node.key"), F("ca.crt")));
        await Assert.ThrowsAsync<KvUnavailableException>(() => asNode.GetAsync(Bytes.FromUtf8("k")));
        var plain = Client(endpoint, null);
        await Assert.ThrowsAsync<KvUnavailableException>(() => plain.GetAsync(Bytes.FromUtf8("k")));

        // Untrusted mode: a holder of a client certificate finds no other actor on the port.
        var holder = TlsSystem("client", "ca");
        var root = new RootActorPath(address);
        await Assert.ThrowsAsync<ActorNotFoundException>(() => holder.ActorSelection(root / "system" / "remote-watcher").ResolveOne(Refused));
        await Assert.ThrowsAsync<ActorNotFoundException>(() => holder.ActorSelection(root / "user" / "anything").ResolveOne(Refused));
        var proxy = await holder.ActorSelection(root / "user" / NodeActors.Gateway).ResolveOne(Answer);
        Assert.NotNull(proxy);
    }

    private KvClient Client(string endpoint, KvClientTls? tls)
    {
        var client = new KvClient([endpoint], tls: tls);
        _clients.Add(client);
        return client;
    }

    /// <summary>Answers every get with not found and a context naming itself.</summary>
    private sealed class FakeGateway : ReceiveActor
    {
        public FakeGateway() => Receive<Get>(g => Sender.Tell(new NotFound(g.Key, "from the gateway", ValueList<ReplicaReport>.Empty)));
    }
}
