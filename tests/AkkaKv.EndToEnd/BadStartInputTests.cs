using System.Net;
using System.Net.Sockets;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// The bad-input battery of the node's other two doors (issue 13, item 8): its flags (and their
/// variables) and its configuration (the <c>--config</c> file and the files it names). Each class
/// of bad input stops the node process before it serves, with an exit code (2: a flag; 1: a
/// setting) and a message naming what to fix, and nothing is left listening. The table of classes
/// and answers is in docs/security.md; the running doors are <see cref="BadInputBatteryTests"/>.
/// </summary>
public sealed class BadStartInputTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "akkakv-e2e-badstart-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private string Write(string name, string text)
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>One class of bad start input: the arguments after the node's own, the environment, the exit code and a piece of the message.</summary>
    private sealed record Case(string Class, string[] Args, int ExitCode, string Message, Dictionary<string, string>? Env = null);

    private Case[] Cases()
    {
        var keys = Write("bad-keys", "k1 not-base64!\n");
        var garbagePem = Write("garbage.crt", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
        string Config(string name, string hocon) => Write(name + ".conf", hocon);
        return
        [
            // Flags and variables: exit 2 with the usage.
            new("unknown flag", ["--bogus", "x"], 2, "unknown flag '--bogus'"),
            new("port out of range", ["--port", "70000"], 2, "--port '70000' is not a port number"),
            new("seed that is not host:port", ["--seed", "nohost"], 2, "--seed 'nohost' must be host:port"),
            new("flag without its value", ["--data-dir"], 2, "--data-dir needs a value"),
            new("journal that does not exist", ["--journal", "mongo"], 2, "--journal 'mongo' must be sqlite or postgresql"),
            new("context keys file missing", ["--context-keys", "/nonexistent/keys"], 2, "--context-keys '/nonexistent/keys': no such file"),
            new("certificate without its key", ["--tls-cert", garbagePem], 2, "--tls-cert and --tls-key go together"),
            new("insecure variable that is not a boolean", [], 2, "AKKAKV_INSECURE 'maybe' must be 1, true, 0 or false", new() { ["AKKAKV_INSECURE"] = "maybe" }),
            // Settings: exit 1, "failed to start:" and the setting.
            new("config file missing", ["--config", "/nonexistent/extra.conf"], 2, "--config '/nonexistent/extra.conf': no such file"),
            new("config file that is not HOCON", ["--config", Config("broken", "akka-kv { request { w = ")], 1, "failed to start: akka-kv.request.w: '' is not a valid value"),
            new("write quorum above N", ["--config", Config("w", "akka-kv.request.w = 9")], 1, "request.w must be in [1, N=3], got 9"),
            new("timeout that is not a duration", ["--config", Config("timeout", "akka-kv.replica.catch-up-timeout = -1s")], 1, "akka-kv.replica.catch-up-timeout: '-1s' is not a valid value"),
            new("timeout of zero", ["--config", Config("zero", "akka-kv.replica.catch-up-timeout = 0s")], 1, "replica.catch-up-timeout must be positive"),
            new("reply cap below a key's size", ["--config", Config("reply", "akka-kv.resp.max-reply-bytes = 1000")], 1, "resp.max-reply-bytes must be at least limits.max-bytes-per-key"),
            new("remoting frame too small for N x max-bytes-per-key", ["--config", Config("frame", "akka.remote.dot-netty.tcp.maximum-frame-size = 16 MiB")], 1, "must hold replication.n x limits.max-bytes-per-key"),
            new("output buffer cap below the reply cap", ["--config", Config("outbuf", "akka-kv.resp.max-output-buffer-bytes = 1000")], 1, "resp.max-output-buffer-bytes must be at least resp.max-reply-bytes"),
            new("context keys file with a bad line", ["--context-keys", keys], 1, "bad-keys"),
            new("certificate file that is not a certificate", ["--tls-cert", garbagePem, "--tls-key", garbagePem], 1, "are not a PEM certificate and its private key"),
            new("node CA without the node's certificate", ["--config", Config("ca", $"akka-kv.tls.ca-file = \"{garbagePem}\"")], 1, "tls.ca-file (mutual TLS on remoting) needs the node's own certificate"),
        ];
    }

    [Fact]
    public async Task Every_class_of_bad_flag_or_setting_stops_the_node_before_it_serves_with_a_message_naming_it()
    {
        var port = ClusterTestContext.FreePorts(1)[0];
        var table = new List<string>();
        foreach (var batch in Cases().Chunk(4))
        {
            await Task.WhenAll(batch.Select(async c =>
            {
                var dataDir = Path.Combine(_dir, "data-" + Guid.NewGuid().ToString("N")[..6]);
                var run = await RedisTools.RunProcessAsync(output, "dotnet", "akkakv-node",
                    [ClusterTestContext.HostDll(), "--name", "n1", "--port", port.ToString(), "--data-dir", dataDir, .. c.Args], ExitWithin, c.Env);
                var message = run.Stderr.Split('\n').FirstOrDefault(l => l.StartsWith("akkakv-node", StringComparison.Ordinal))?.Trim() ?? run.Stderr.Trim();
                Assert.True(run.ExitCode == c.ExitCode, $"{c.Class}: exit code {run.ExitCode}, expected {c.ExitCode}; stderr: {run.Stderr}");
                Assert.True(run.Stderr.Contains(c.Message, StringComparison.Ordinal), $"{c.Class}: expected '{c.Message}' in: {run.Stderr}");
                lock (table) table.Add($"| {c.Class} | {c.ExitCode} | `{message}` |");
            }));
        }
        output.WriteLine(string.Join("\n", table));
        // None of them got as far as listening.
        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, port));
    }
}
