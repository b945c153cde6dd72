using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaKv.Resp;
using Xunit;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

/// <summary>The RESP listener's resource bounds: the reply-size cap (MGET) and the idle-connection timeout, on a real listener.</summary>
public sealed class RespResourceLimitsTests
{
    private static (RespServer Server, InMemoryKvBackend Backend) Start(string hocon)
    {
        var settings = SmallLimitsSettings(hocon);
        var backend = new InMemoryKvBackend(settings);
        return (RespServer.Start(new IPEndPoint(IPAddress.Loopback, 0), settings, backend), backend);
    }

    private static async Task<string> Call(RespTestClient client, params string[] args) => (await client.CallAsync(args)).Raw;

    [Fact]
    public async Task An_MGET_whose_reply_would_pass_max_reply_bytes_is_refused_counting_repeated_keys_and_the_connection_stays_open()
    {
        var (server, _) = Start("akka-kv.limits.max-bytes-per-key = 128\nakka-kv.resp.max-reply-bytes = 200");
        await using var _s = server;
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);
        var big = new string('x', 64);
        foreach (var k in new[] { "a", "b", "c", "d" }) Assert.Equal("+OK\r\n", await Call(c, "SET", k, big));

        // 3 x 64 = 192 bytes: under the cap.
        var three = await c.CallAsync("MGET", "a", "b", "c");
        Assert.Equal(3, three.Items!.Count);
        const string refused = "-ERR the reply would exceed 200 bytes (akka-kv.resp.max-reply-bytes): MGET fewer or smaller keys\r\n";
        Assert.Equal(refused, await Call(c, "MGET", "a", "b", "c", "d"));
        // One key named four times is four values in the reply.
        Assert.Equal(refused, await Call(c, "MGET", "a", "a", "a", "a"));
        // Missing keys cost nothing: two values and two nils fit.
        var mixed = (await c.CallAsync("MGET", "a", "missing", "b", "nope")).Items!;
        Assert.Equal(["$64", "$-1", "$64", "$-1"], mixed.Select(i => i.Raw.Split("\r\n")[0]));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_for_idle_timeout_is_closed_and_one_that_keeps_talking_is_not()
    {
        var (server, _) = Start("akka-kv.resp.idle-timeout = 400ms");
        await using var _s = server;
        using var quiet = new TcpClient();
        await quiet.ConnectAsync(server.LocalEndPoint);
        using var talking = new TcpClient();
        await talking.ConnectAsync(server.LocalEndPoint);
        var ping = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n");
        var buffer = new byte[64];

        await quiet.GetStream().WriteAsync(ping);
        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(buffer, 0, await quiet.GetStream().ReadAsync(buffer)));
        var sw = Stopwatch.StartNew();
        // The talking client sends a PING every 100 ms (a quarter of the timeout) for 1.2 s.
        while (sw.Elapsed < TimeSpan.FromMilliseconds(1200))
        {
            await talking.GetStream().WriteAsync(ping);
            Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(buffer, 0, await talking.GetStream().ReadAsync(buffer)));
            await Task.Delay(100);
        }
        // By now the quiet one has been idle three times the timeout: the node closed it (end of stream).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal(0, await quiet.GetStream().ReadAsync(buffer, deadline.Token));
        await Eventually(() => server.OpenConnections == 1);
    }

    /// <summary>
    /// Limits for the output-buffer tests: MGET of 15 keys of 64 bytes is a reply of about 1.3 KB, so
    /// the 8 KiB cap holds about six of them: less than max-pipelined (8) replies waiting behind one
    /// stuck flush.
    /// </summary>
    private const string OutputBufferHocon = """
        akka-kv.limits.max-bytes-per-key = 128
        akka-kv.resp.max-reply-bytes = 2048
        akka-kv.resp.max-output-buffer-bytes = 8192
        """;

    private static readonly string[] FifteenKeys = Enumerable.Range(0, 15).Select(i => $"k{i}").ToArray();

    private static async Task<RespServer> StartWithFifteenKeys()
    {
        var (server, _) = Start(OutputBufferHocon);
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);
        foreach (var k in FifteenKeys) Assert.Equal("+OK\r\n", await Call(c, "SET", k, new string('v', 64)));
        return server;
    }

    [Fact]
    public async Task A_client_that_pipelines_and_never_reads_is_closed_once_its_waiting_replies_pass_max_output_buffer_bytes()
    {
        await using var server = await StartWithFifteenKeys();
        using var greedy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await greedy.ConnectAsync(server.LocalEndPoint);
        var mget = Command(["MGET", .. FifteenKeys]);
        // Send MGETs and read nothing, until the node closes the connection (a send fails) or 30 s pass.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sent = 0;
        var closedByNode = false;
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                await greedy.SendAsync(mget, SocketFlags.None, deadline.Token);
                sent++;
            }
            catch (SocketException)
            {
                closedByNode = true;
                break;
            }
            catch (OperationCanceledException) { break; }
        }
        Assert.True(closedByNode, $"the node still accepted commands after {sent} MGETs (about {sent * 1.3:F0} KB of replies) nobody read");
        // What did arrive is far less than every reply: the node stopped holding them.
        var received = 0L;
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while ((n = await greedy.ReceiveAsync(buffer, SocketFlags.None, drain.Token)) > 0) received += n;
        }
        catch (SocketException) { }
        Assert.True(received < sent * 1300L, $"received {received} bytes for {sent} MGETs");
        await Eventually(() => server.OpenConnections == 0);
        // The node keeps serving everyone else.
        await using var other = await RespTestClient.ConnectAsync(server.LocalEndPoint);
        Assert.Equal(15, (await other.CallAsync(["MGET", .. FifteenKeys])).Items!.Count);
    }

    [Fact]
    public async Task A_client_that_reads_its_replies_gets_all_of_them_though_they_add_up_to_far_more_than_max_output_buffer_bytes()
    {
        await using var server = await StartWithFifteenKeys();
        using var reader = new TcpClient();
        await reader.ConnectAsync(server.LocalEndPoint);
        var stream = reader.GetStream();
        var mget = Command(["MGET", .. FifteenKeys]);
        var expected = RespWriter.ToBytes(RespValue.Array(FifteenKeys.Select(_ => RespValue.Bulk(new string('v', 64))))).Length;
        const int commands = 400; // about 520 KB of replies, 60 times the 8 KiB cap
        const int window = 2;     // commands sent before reading their replies
        var buffer = new byte[64 * 1024];
        long received = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var sent = 0; sent < commands; sent += window)
        {
            for (var i = 0; i < window; i++) await stream.WriteAsync(mget, deadline.Token);
            while (received < (long)(sent + window) * expected)
            {
                var n = await stream.ReadAsync(buffer, deadline.Token);
                Assert.True(n > 0, $"the node closed the connection after {received} of {(long)commands * expected} bytes");
                received += n;
            }
        }
        Assert.Equal((long)commands * expected, received);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 5 s");
            await Task.Delay(10);
        }
    }
}
