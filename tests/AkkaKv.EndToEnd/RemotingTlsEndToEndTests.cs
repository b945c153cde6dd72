using System.Diagnostics;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Mutual TLS on Akka remoting between node processes, with the certificates <c>akkakv certs</c>
/// makes (issue 13, item 1): the cluster forms and serves over TLS, clients go through the client
/// ports with a client certificate, and nothing without the right certificate gets in.
/// </summary>
public sealed class RemotingTlsEndToEndTests(ITestOutputHelper output)
{
    private static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(8));

    [Fact]
    public async Task A_cluster_on_mutual_TLS_serves_certified_clients_and_lets_in_no_node_or_client_without_the_right_certificate()
    {
        // n1..n3 are the cluster; n4 plays the intruders.
        await using var cluster = new ClusterTestContext(output, 4);
        await cluster.UseTlsAsync();
        var members = new[] { "n1", "n2", "n3" };
        foreach (var n in members) cluster.Start(n);
        foreach (var n in members) await cluster.WaitForMembersAsync(n, members, TimeSpan.FromSeconds(90));
        Assert.Contains("mutual TLS, peers from the node CA", cluster.Log("n1"));

        // A client with a client certificate writes and reads through every node's client port.
        await using (var client = cluster.Client(members))
            foreach (var n in members)
            {
                await using var through = cluster.Client(n);
                await through.PutAsync(Bytes.FromUtf8($"tls-{n}"), Bytes.FromUtf8($"via-{n}"), options: Quorum with { Overwrite = true });
                var read = await client.GetAsync(Bytes.FromUtf8($"tls-{n}"), Quorum);
                Assert.Equal([Bytes.FromUtf8($"via-{n}")], read.Values);
            }
        var status = await cluster.CliAsync("status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"akka.ssl.tcp://akkakv@127.0.0.1:{cluster.Ports["n2"]} Up", status.Output);

        // A client certificate at a node port, and clients without TLS at either port: no answer.
        foreach (var (endpoint, tls, what) in new[]
        {
            (cluster.Endpoint("n1"), cluster.ClientTls, "a client certificate at the node port"),
            (cluster.ClientEndpoint("n1"), null, "plain text at the client port"),
            (cluster.Endpoint("n1"), null, "plain text at the node port"),
        })
        {
            await using var refused = new KvClient([endpoint], tls: tls);
            var e = await Assert.ThrowsAsync<KvUnavailableException>(() => refused.GetAsync(Bytes.FromUtf8("tls-n1"), Quorum));
            output.WriteLine($"{what}: {e.Message}");
        }

        // A node with a certificate of another CA cannot join: the TLS handshake with the seed fails
        // (each side refuses the other's certificate) and the intruder stops itself.
        var other = Path.Combine(cluster.Root, "other-pki");
        Assert.Equal(0, (await ClusterTestContext.RunCliAsync(output, "certs", "--dir", other, "--hosts", "127.0.0.1")).ExitCode);
        cluster.Start("n4", certs: other);
        Assert.Equal(3, await cluster.WaitForExitAsync("n4", TimeSpan.FromSeconds(60)));
        Assert.Contains("stopped: a TLS handshake with a peer it dialled failed", cluster.Log("n4"));

        // A holder of a client certificate posing as a node: the seed refuses its certificate on
        // every attempt, and it never becomes a member.
        cluster.Start("n4", identity: "client");
        var deadline = Stopwatch.StartNew();
        while (!cluster.Log("n1").Contains("certificate 'CN=akkakv-client' is not trusted as a client under 'CN=AkkaKv development node CA'", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "n1 never logged refusing the client certificate");
            await Task.Delay(250);
        }
        await using (var client = cluster.Client("n1"))
        {
            var view = await client.StatusAsync();
            Assert.Equal(members, view.Members.Select(m => m.Node).Order().ToArray());
        }
        cluster.Kill("n4");

        // The cluster went on serving throughout.
        await using (var client = cluster.Client(members))
            foreach (var n in members)
                Assert.Equal([Bytes.FromUtf8($"via-{n}")], (await client.GetAsync(Bytes.FromUtf8($"tls-{n}"), Quorum)).Values);
    }
}
