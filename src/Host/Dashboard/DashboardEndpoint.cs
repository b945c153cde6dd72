using System.Reflection;
using Akka.Actor;
using Akka.Hosting;
using AkkaKv.Hosting;
using AkkaKv.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaKv.Host.Dashboard;

/// <summary>
/// The live dashboard on the node's HTTP port (issue 14, item 4):
/// <list type="bullet">
/// <item><c>/</c> and <c>/dashboard</c>: one static page (<c>dashboard.html</c>, embedded in this
///   assembly, inline script and style, nothing fetched from elsewhere), which polls the two below;</item>
/// <item><c>/status.json</c>: the node's status as <see cref="StatusJson"/> renders it (what
///   <c>akkakv status --json</c> prints), or 503 with <c>{"error"}</c> when it did not arrive in time.</item>
/// </list>
/// The page computes request rates and p99 from successive scrapes of <c>/metrics</c>, so the node
/// keeps no history for it.
/// </summary>
internal static class DashboardEndpoint
{
    private const string PageResource = "dashboard.html";

    /// <summary>
    /// The page may talk only to the node that served it and load nothing: a guarantee, in the
    /// browser, that the dashboard needs no internet.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<byte[]> Page = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"embedded {PageResource} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static void AddDashboard(this IServiceCollection services) => services.AddSingleton<StatusSource>();

    public static void MapDashboard(this IEndpointRouteBuilder app)
    {
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/", getOrHead, (RequestDelegate)ServePage);
        app.MapMethods("/dashboard", getOrHead, (RequestDelegate)ServePage);
        app.MapMethods("/status.json", getOrHead, (RequestDelegate)ServeStatus);
    }

    private static Task ServePage(HttpContext context)
    {
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        return context.Response.Body.WriteAsync(Page.Value, context.RequestAborted).AsTask();
    }

    private static async Task ServeStatus(HttpContext context)
    {
        var source = context.RequestServices.GetRequiredService<StatusSource>();
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json; charset=utf-8";
        string body;
        try
        {
            body = StatusJson.Render(await source.GetAsync(context.RequestAborted));
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            body = System.Text.Json.JsonSerializer.Serialize(new { error = $"the node's status did not arrive within {StatusSource.Timeout.TotalSeconds:0} s" });
        }
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>
    /// The node's status for the dashboard: one <see cref="GetStatus"/> to the gateway shared by
    /// every request within <see cref="Fresh"/>, so that several open pages (each polling every
    /// 2 s) cost the cluster one status collection, not one each.
    /// </summary>
    internal sealed class StatusSource(IRequiredActor<KvGateway> gateway, TimeProvider? time = null)
    {
        /// <summary>How long the page waits for the node's status (as the readiness check does).</summary>
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

        /// <summary>A status younger than this is served again rather than collected anew.</summary>
        private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);

        private readonly TimeProvider _time = time ?? TimeProvider.System;
        private readonly Lock _lock = new();
        private Task<NodeStatus>? _last;
        private long _lastStarted;

        public Task<NodeStatus> GetAsync(CancellationToken cancel)
        {
            lock (_lock)
            {
                var now = _time.GetTimestamp();
                // A failed collection is not reused: the next request asks again.
                if (_last is { IsFaulted: false, IsCanceled: false } && _time.GetElapsedTime(_lastStarted, now) < Fresh) return _last.WaitAsync(cancel);
                _lastStarted = now;
                _last = CollectAsync();
                return _last.WaitAsync(cancel);
            }
        }

        // Not cancelled by one request going away: other requests may be waiting for the same answer.
        private async Task<NodeStatus> CollectAsync()
        {
            var actor = await gateway.GetAsync(CancellationToken.None).WaitAsync(Timeout);
            return await actor.Ask<NodeStatus>(GetStatus.Instance, Timeout);
        }
    }
}
