using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using AkkaKv;
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

// No default app configuration: the node is configured by flags, environment and HOCON only, and
// the defaults' appsettings.json reload-on-change would put a file watcher on the working
// directory, which burns CPU on every journal write when the data dir lives under it.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = args });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddAkka(NodeOptions.SystemName, (akka, _) => akka.WithAkkaKvNode(node));

using var host = builder.Build();
try
{
    await host.StartAsync();
}
catch (Exception e)
{
    Console.Error.WriteLine($"akkakv-node {node.NodeName}: failed to start: {e.GetBaseException().Message}");
    return 1;
}

var system = host.Services.GetRequiredService<ActorSystem>();
var cluster = Cluster.Get(system);
var self = cluster.SelfAddress;
Console.WriteLine($"akkakv-node {node.NodeName}: listening on {self.Host}:{self.Port} (gateway {self}/user/{NodeActors.Gateway}), data in {Path.GetFullPath(node.DataDir)}");
if (node.RespPort > 0) Console.WriteLine($"akkakv-node {node.NodeName}: RESP (Redis protocol) on {node.Host}:{node.RespPort}");
cluster.RegisterOnMemberUp(() => Console.WriteLine($"akkakv-node {node.NodeName}: member up; seeds {(node.Seeds.Count == 0 ? "(self)" : string.Join(",", node.Seeds))}"));
await host.WaitForShutdownAsync();
return 0;
