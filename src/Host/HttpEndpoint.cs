using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using AkkaKv.Host.Dashboard;
using AkkaKv.Hosting;
using AkkaKv.Observability;
using AkkaKv.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace AkkaKv.Host;

/// <summary>
/// The node's HTTP port (<c>--http-port</c>), on <c>--host</c> like the node's other ports, HTTPS
/// with the node's certificate when it has one:
/// <list type="bullet">
/// <item><c>/metrics</c>: the <see cref="KvMetrics"/> meters in Prometheus text, through OpenTelemetry's exporter;</item>
/// <item><c>/health/live</c>: 200 while the actor system runs (Akka.Hosting's liveness check), else 503;</item>
/// <item><c>/health/ready</c>: 200 when <see cref="StatusReadiness"/> finds nothing missing, else 503 with the reasons;</item>
/// <item><c>/</c> (also <c>/dashboard</c>) and <c>/status.json</c>: the live dashboard (<see cref="DashboardEndpoint"/>).</item>
/// </list>
/// Both health answers are JSON: <c>{"status": "Healthy"|"Unhealthy", "checks": [{"name", "status", "description"}]}</c>.
/// </summary>
internal static class HttpEndpoint
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    /// <summary>How long the readiness check waits for the node's status.</summary>
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A web host (Kestrel on the HTTP port only, no configuration files) for a node whose services <paramref name="addNode"/> adds.</summary>
    public static IHost Build(NodeOptions node, X509Certificate2? certificate, Action<IServiceCollection, Microsoft.Extensions.Logging.ILoggingBuilder> addNode)
    {
        // The empty builder reads no appsettings file (no file watcher on the working directory)
        // and no ASPNETCORE_URLS: the node listens where its flags say and nowhere else.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "akkakv-node" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen)
            {
                if (certificate is not null) listen.UseHttps(certificate);
            }
            if (string.Equals(node.Host, "localhost", StringComparison.OrdinalIgnoreCase)) kestrel.ListenLocalhost(node.HttpPort, Listen);
            else if (IPAddress.TryParse(node.Host.Trim('[', ']'), out var address)) kestrel.Listen(address, node.HttpPort, Listen);
            else foreach (var resolved in Dns.GetHostAddresses(node.Host)) kestrel.Listen(resolved, node.HttpPort, Listen);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddHealthChecks();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(KvMetrics.MeterName).AddPrometheusExporter(prometheus =>
            // Every scrape collects afresh: the exporter's default 300 ms response cache would hand a scrape taken
            // right after a burst of requests the counters from before it.
            prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        builder.Services.AddHostedService<StatusRefresher>();
        builder.Services.AddDashboard();
        addNode(builder.Services, builder.Logging);
        var app = builder.Build();
        app.MapHealthChecks("/health/live", Only(LiveTag));
        app.MapHealthChecks("/health/ready", Only(ReadyTag));
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapDashboard();
        return app;
    }

    /// <summary>The node's health checks, registered through Akka.Hosting: liveness is its actor-system check, readiness ours.</summary>
    public static AkkaConfigurationBuilder WithNodeHealthChecks(this AkkaConfigurationBuilder akka) => akka
        .WithActorSystemLivenessCheck(tags: [LiveTag])
        .WithHealthCheck("akkakv-ready", async (system, registry, cancel) =>
        {
            if (!registry.TryGet<KvGateway>(out var gateway)) return HealthCheckResult.Unhealthy("the node's gateway is not started yet");
            NodeStatus status;
            try
            {
                status = await gateway.Ask<NodeStatus>(GetStatus.Instance, StatusTimeout, cancel);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy($"the node's status did not arrive within {StatusTimeout.TotalSeconds:0} s");
            }
            var reasons = StatusReadiness.Reasons(status);
            return reasons.Count == 0 ? HealthCheckResult.Healthy("Up; every replica slot placed and caught up") : HealthCheckResult.Unhealthy(string.Join("; ", reasons));
        }, tags: [ReadyTag]);

    private static HealthCheckOptions Only(string tag) => new()
    {
        Predicate = registration => registration.Tags.Contains(tag),
        ResponseWriter = WriteJson,
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };

    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }

    /// <summary>
    /// Collects the node's status every <see cref="Every"/> while the HTTP port is on, so that the
    /// gauges counted from it (<c>akkakv.slots</c>) stay current between readiness probes.
    /// </summary>
    private sealed class StatusRefresher(IRequiredActor<KvGateway> gateway) : BackgroundService
    {
        private static readonly TimeSpan Every = TimeSpan.FromSeconds(15);

        protected override async Task ExecuteAsync(CancellationToken stopping)
        {
            using var timer = new PeriodicTimer(Every);
            try
            {
                var actor = await gateway.GetAsync(stopping);
                do
                {
                    try { await actor.Ask<NodeStatus>(GetStatus.Instance, StatusTimeout, stopping); }
                    catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { }
                } while (await timer.WaitForNextTickAsync(stopping));
            }
            catch (OperationCanceledException) { }
        }
    }
}
