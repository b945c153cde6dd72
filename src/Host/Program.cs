using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using AkkaKv;
using AkkaKv.Configuration;
using AkkaKv.Hosting;
using AkkaKv.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

NodeOptions node;
try
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(HostFlags.Usage); return 0; }
    node = HostFlags.Parse(args, Environment.GetEnvironmentVariable);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"akkakv-node: {e.Message}");
    Console.Error.WriteLine(HostFlags.Usage);
    return 2;
}

// The node's settings (defaults, --config, flags), read once: a bad setting stops the start here.
KvSettings settings;
try
{
    settings = KvSettings.FromConfig(AkkaKvHosting.NodeConfig(node));
}
catch (Exception e)
{
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: failed to start: {StartFailure(e)}");
    return 1;
}
if (ClientEndpoint.MissingClientCa(node, settings) is { } missingClientCa)
{
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: failed to start: {missingClientCa}");
    return 1;
}
var protection = (bool insecure) => ProtectedMode.Refusal(node.Host, node.RespPort, respPassword: settings.RespRequirePass.Length > 0,
    remotingTls: settings.RemoteTls, contextKeys: !settings.Contexts.IsDevelopment, insecure, httpPort: node.HttpPort, httpTls: settings.Tls);
if (protection(node.Insecure) is { } refusal)
{
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: {refusal}");
    return 1;
}
if (node.Insecure && protection(false) is { } overridden)
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: WARNING: --insecure overrides {overridden}");

// No default app configuration: the node is configured by flags, environment and HOCON only, and
// the defaults' appsettings.json reload-on-change would put a file watcher on the working
// directory, which burns CPU on every journal write when the data dir lives under it.
void AddNode(IServiceCollection services, ILoggingBuilder logging)
{
    logging.ClearProviders();
    logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
    logging.SetMinimumLevel(LogLevel.Warning);
    services.AddAkka(NodeOptions.SystemName, (akka, _) =>
    {
        akka.WithAkkaKvNode(node);
        if (node.HttpPort > 0) akka.WithNodeHealthChecks();
    });
}

IHost host;
try
{
    if (node.HttpPort > 0)
        host = HttpEndpoint.Build(node, settings.Tls ? AkkaKv.Security.CertificateTrust.LoadIdentity(settings.TlsCertFile, settings.TlsKeyFile, "tls.cert-file", "tls.key-file") : null, AddNode);
    else
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = args });
        AddNode(builder.Services, builder.Logging);
        host = builder.Build();
    }
    await host.StartAsync();
}
catch (Exception e)
{
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: failed to start: {StartFailure(e)}");
    return 1;
}

var system = host.Services.GetRequiredService<ActorSystem>();
var cluster = Cluster.Get(system);
var self = cluster.SelfAddress;
Console.WriteLine($"akkakv-node {node.NodeName}: listening on {self.Host}:{self.Port}{(node.PublicHost is null ? "" : $" (bound on {node.Host}:{self.Port})")} (gateway {self}/user/{NodeActors.Gateway}{(settings.RemoteTls ? "; mutual TLS, peers from the node CA" : "")}), data in {Path.GetFullPath(node.DataDir)}");
if (node.ClientPort > 0) Console.WriteLine($"akkakv-node {node.NodeName}: client port {node.Host}:{node.ClientPort} (get, put, delete, status{(settings.RemoteTls ? "; mutual TLS, clients from the client CA" : "; plain text")})");
Console.WriteLine($"akkakv-node {node.NodeName}: journal on {AkkaKvHosting.DescribeJournal(node, settings)}");
if (node.HttpPort > 0) Console.WriteLine($"akkakv-node {node.NodeName}: HTTP on {(settings.Tls ? "https" : "http")}://{node.Host}:{node.HttpPort} (/metrics, /health/live, /health/ready)");
if (node.RespPort > 0) Console.WriteLine($"akkakv-node {node.NodeName}: RESP (Redis protocol) on {node.Host}:{node.RespPort}{(settings.Tls ? ", TLS" : ", plain text")}{(settings.RespRequirePass.Length > 0 ? ", password required (AUTH)" : ", no password")}");
cluster.RegisterOnMemberUp(() => Console.WriteLine($"akkakv-node {node.NodeName}: member up; seeds {(node.Seeds.Count == 0 ? "(self)" : string.Join(",", node.Seeds))}"));
await host.WaitForShutdownAsync();
host.Dispose();
// Akka.Remote shuts a node down when a TLS handshake it started fails: say so, and exit non-zero.
if (CoordinatedShutdown.Get(system).ShutdownReason?.GetType().Name == "TlsHandshakeFailureReason")
{
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: stopped: a TLS handshake with a peer it dialled failed (the peer's certificate is not from this node's --tls-ca, or does not name the address dialled; the log above says which)");
    return 3;
}
return 0;

// Why the node did not start, for the operator: the store's own message (a bad setting, a journal
// that cannot be opened) when it is in the chain, which names what to fix, rather than the
// innermost exception (e.g. a bare "Connection refused").
static string StartFailure(Exception e)
{
    for (var x = e; x is not null; x = x.InnerException)
        if (x is KvSettingsException or KvStorageException) return x.Message;
        else if (x is IOException && x.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal)) return "the HTTP port (--http-port): " + x.Message;
    return e.GetBaseException().Message;
}
