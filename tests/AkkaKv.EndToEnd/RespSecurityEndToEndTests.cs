using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// The RESP port's password (Redis's requirepass) on a real node process, through redis-cli and
/// StackExchange.Redis; and protected mode: a node asked to bind a non-loopback address without
/// protection refuses to start, before it binds anything.
/// </summary>
public sealed class RespSecurityEndToEndTests(ITestOutputHelper output)
{
    private const string Password = "e2e-s3cret";
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_with_requirepass_answers_NOAUTH_until_a_client_authenticates_and_serves_redis_cli_and_StackExchange_Redis_with_the_password()
    {
        // One node, N = 1: the test is about the front door, not the quorums.
        await using var cluster = new ClusterTestContext(output, 1,
            $"akka-kv.replication.n = 1\nakka-kv.request.r = 1\nakka-kv.request.w = 1\nakka-kv.resp.requirepass = \"{Password}\"\n");
        cluster.StartAll();
        await cluster.WaitForMembersAsync("n1", ["n1"], TimeSpan.FromSeconds(120));
        var port = cluster.RespPorts["n1"].ToString();
        Task<ToolRun> Cli(params string[] args) => RedisTools.RunAsync(output, "redis-cli", ["-h", "127.0.0.1", "-p", port, .. args], TimeSpan.FromSeconds(60));

        Assert.Equal("NOAUTH Authentication required.", (await Cli("PING")).Stdout.Trim());
        Assert.Equal("NOAUTH Authentication required.", (await Cli("SET", "sec:k", "v")).Stdout.Trim());
        var wrong = await Cli("-a", "wrong", "--no-auth-warning", "SET", "sec:k", "v");
        Assert.Contains("WRONGPASS", wrong.Stdout + wrong.Stderr);
        Assert.Contains("NOAUTH", wrong.Stdout);

        Assert.Equal("OK", (await Cli("-a", Password, "--no-auth-warning", "SET", "sec:k", "v1")).Stdout.Trim());
        Assert.Equal("v1", (await Cli("-a", Password, "--no-auth-warning", "GET", "sec:k")).Stdout.Trim());
        // The same with the user named, as Redis 6's AUTH default <password> (redis-cli --user).
        Assert.Equal("v1", (await Cli("--user", "default", "--pass", Password, "--no-auth-warning", "GET", "sec:k")).Stdout.Trim());

        // StackExchange.Redis authenticates in its handshake (HELLO 3 AUTH default <password>).
        using (var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
               { EndPoints = { { "127.0.0.1", cluster.RespPorts["n1"] } }, Password = Password }))
        {
            var db = redis.GetDatabase();
            Assert.Equal("v1", (string?)await db.StringGetAsync("sec:k"));
            Assert.True(await db.StringSetAsync("sec:k", "v2"));
        }
        Assert.Equal("v2", (await Cli("-a", Password, "--no-auth-warning", "GET", "sec:k")).Stdout.Trim());

        // Without the password it cannot read or write anything.
        var refused = await Assert.ThrowsAnyAsync<RedisException>(async () =>
        {
            using var noPassword = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
                { EndPoints = { { "127.0.0.1", cluster.RespPorts["n1"] } }, ConnectTimeout = 5000, AbortOnConnectFail = true });
            await noPassword.GetDatabase().StringGetAsync("sec:k");
        });
        output.WriteLine($"without the password: {refused.GetType().Name}: {refused.Message}");
    }

    [Fact]
    public async Task With_certificates_from_akkakv_certs_the_RESP_port_speaks_TLS_to_redis_cli_and_StackExchange_Redis_and_nothing_in_plain_text()
    {
        var certs = Path.Combine(Path.GetTempPath(), "akkakv-e2e-certs-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var made = await ClusterTestContext.RunCliAsync(output, "certs", "--dir", certs, "--hosts", "127.0.0.1,localhost");
            Assert.Equal(0, made.ExitCode);
            var cert = Path.Combine(certs, "node.crt");
            var key = Path.Combine(certs, "node.key");
            var ca = Path.Combine(certs, "ca.crt");
            await using var cluster = new ClusterTestContext(output, 1,
                $"akka-kv.replication.n = 1\nakka-kv.request.r = 1\nakka-kv.request.w = 1\nakka-kv.resp.requirepass = \"{Password}\"\n"
                + $"akka-kv.tls.cert-file = \"{cert}\"\nakka-kv.tls.key-file = \"{key}\"\n");
            cluster.StartAll();
            await cluster.WaitForMembersAsync("n1", ["n1"], TimeSpan.FromSeconds(120));
            var port = cluster.RespPorts["n1"].ToString();
            Task<ToolRun> Cli(params string[] args) => RedisTools.RunAsync(output, "redis-cli", ["-h", "127.0.0.1", "-p", port, .. args], TimeSpan.FromSeconds(60));

            Assert.Equal("OK", (await Cli("--tls", "--cacert", ca, "-a", Password, "--no-auth-warning", "SET", "tls:k", "over-tls")).Stdout.Trim());
            Assert.Equal("over-tls", (await Cli("--tls", "--cacert", ca, "-a", Password, "--no-auth-warning", "GET", "tls:k")).Stdout.Trim());
            // Without TLS the node answers nothing: redis-cli sees the connection close.
            var plain = await Cli("-a", Password, "--no-auth-warning", "GET", "tls:k");
            Assert.DoesNotContain("over-tls", plain.Stdout);
            // A client that does not trust the node's CA refuses the server.
            var untrusted = await Cli("--tls", "-a", Password, "--no-auth-warning", "GET", "tls:k");
            Assert.DoesNotContain("over-tls", untrusted.Stdout);
            Assert.Contains("certificate verify failed", untrusted.Stdout + untrusted.Stderr);

            var options = new ConfigurationOptions { EndPoints = { { "127.0.0.1", cluster.RespPorts["n1"] } }, Password = Password, Ssl = true, SslHost = "127.0.0.1" };
            options.TrustIssuer(ca);
            using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            var db = redis.GetDatabase();
            Assert.Equal("over-tls", (string?)await db.StringGetAsync("tls:k"));
            Assert.True(await db.StringSetAsync("tls:k", "from-se-redis"));
            Assert.Equal("from-se-redis", (await Cli("--tls", "--cacert", ca, "-a", Password, "--no-auth-warning", "GET", "tls:k")).Stdout.Trim());
        }
        finally
        {
            if (Directory.Exists(certs)) Directory.Delete(certs, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_node_told_to_bind_a_non_loopback_address_without_protection_refuses_to_start_and_binds_nothing(bool withPassword)
    {
        var respPort = ClusterTestContext.FreePorts(1)[0];
        var dataDir = Path.Combine(Path.GetTempPath(), "akkakv-e2e-protected-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // A node that does not refuse keeps running: RunProcessAsync kills it after ExitWithin and fails the test.
            var run = await RedisTools.RunProcessAsync(output, "dotnet", "akkakv-node",
                [ClusterTestContext.HostDll(), "--name", "n1", "--host", "0.0.0.0", "--port", "0", "--resp-port", respPort.ToString(), "--data-dir", dataDir],
                ExitWithin, withPassword ? new Dictionary<string, string> { ["AKKAKV_REQUIREPASS"] = Password } : null);
            var err = run.Stderr;
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("akkakv-node n1: protected mode: refusing to start on --host 0.0.0.0, which is not a loopback address", err);
            Assert.Contains("remoting has no TLS", err);
            Assert.Contains("--insecure", err);
            Assert.Contains("public development key", err);
            Assert.Contains("--context-keys", err);
            if (withPassword) Assert.DoesNotContain("RESP port", err);
            else Assert.Contains($"the RESP port {respPort} has no password (set --requirepass", err);
            Assert.DoesNotContain(Password, err + run.Stdout);
            Assert.False(Directory.Exists(dataDir), "a refused node must not create its data dir");
            using var probe = new TcpClient();
            await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, respPort));
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }
}
