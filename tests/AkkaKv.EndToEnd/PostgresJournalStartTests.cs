using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>A real node process started on a PostgreSQL journal it cannot reach.</summary>
public sealed class PostgresJournalStartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_whose_postgresql_server_is_not_there_exits_at_once_with_an_error_naming_the_server()
    {
        var port = ClosedLoopbackPort();
        var dataDir = Path.Combine(Path.GetTempPath(), "akkakv-e2e-pgdown-" + Guid.NewGuid().ToString("N")[..8]);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ClusterTestContext.HostDll(), "--name", "n1", "--port", "0", "--data-dir", dataDir,
                     "--journal", "postgresql", "--postgres", $"Host=127.0.0.1;Port={port};Username=akkakv;Password=s3cret" })
            psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the node");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var cts = new CancellationTokenSource(ExitWithin);
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                Assert.Fail($"the node was still running {ExitWithin} after its start, with no PostgreSQL server on port {port}: {await stdout}{await stderr}");
            }
            var err = await stderr;
            output.WriteLine($"exit {process.ExitCode} after {sw.Elapsed.TotalSeconds:0.0} s\n--- stderr\n{err}--- stdout\n{await stdout}");
            Assert.NotEqual(0, process.ExitCode);
            var reason = err.Split('\n').First(l => l.Contains("failed to start", StringComparison.Ordinal));
            Assert.Contains($"akkakv-node n1: failed to start: akka-kv: cannot open the journal on the PostgreSQL server 127.0.0.1:{port}", reason);
            Assert.Contains("refused", reason);
            Assert.DoesNotContain("s3cret", err + await stdout);
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
