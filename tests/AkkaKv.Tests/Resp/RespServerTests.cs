using System.Net;
using AkkaKv.Configuration;
using AkkaKv.Protocol;
using AkkaKv.Resp;
using Xunit;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// A real <see cref="RespServer"/> on an ephemeral loopback port over an in-memory backend, driven
/// through raw sockets so every reply is asserted byte for byte. Limits are small
/// (<see cref="RespTestSupport.SmallLimitsHocon"/>): 4 connections, keys up to 16 bytes, values up
/// to 64, bulk strings up to 256, 16 arguments, inline lines up to 128 bytes, 8 commands in flight.
/// After anything a client does wrong, the test checks the node still serves: a connection that was
/// open meanwhile and a new one both get PONG.
/// </summary>
public sealed class RespServerTests
{
    private sealed class Node(RespServer server, InMemoryKvBackend backend, KvSettings settings) : IAsyncDisposable
    {
        public RespServer Server { get; } = server;
        public InMemoryKvBackend Backend { get; } = backend;
        public KvSettings Settings { get; } = settings;

        public Task<RespTestClient> ConnectAsync() => RespTestClient.ConnectAsync(Server.LocalEndPoint);

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    private static Node StartNode(string? extraHocon = null)
    {
        var settings = SmallLimitsSettings(extraHocon);
        var backend = new InMemoryKvBackend(settings);
        var server = RespServer.Start(new IPEndPoint(IPAddress.Loopback, 0), settings, backend);
        return new Node(server, backend, settings);
    }

    private static async Task<string> Call(RespTestClient client, params string[] args) => (await client.CallAsync(args)).Raw;

    private static async Task<string> Call(RespTestClient client, params byte[][] args) => (await client.CallAsync(args)).Raw;

    private static async Task<string> Read(RespTestClient client) => (await client.ReadAsync()).Raw;

    private static string BulkWire(string text) => $"${text.Length}\r\n{text}\r\n";

    /// <summary>Connections that were open keep working, and a new connection is served.</summary>
    private static async Task AssertStillServes(Node node, params RespTestClient[] openMeanwhile)
    {
        foreach (var client in openMeanwhile) Assert.Equal("+PONG\r\n", await Call(client, "PING"));
        await using var fresh = await node.ConnectAsync();
        Assert.Equal("+PONG\r\n", await Call(fresh, "PING"));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after a deadline.</summary>
    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + RespTestClient.Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {RespTestClient.Timeout}: {what}");
            await Task.Delay(10);
        }
    }

    // ---- the Redis commands ---------------------------------------------------------------------

    [Fact]
    public async Task Ping_echo_set_get_exists_mset_mget_and_del_answer_as_Redis_does()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
        Assert.Equal("$5\r\nhello\r\n", await Call(c, "PING", "hello"));
        Assert.Equal("$3\r\na b\r\n", await Call(c, "ECHO", "a b"));
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "v"));
        Assert.Equal("$1\r\nv\r\n", await Call(c, "GET", "k"));
        Assert.Equal("$1\r\nv\r\n", await Call(c, "get", "k"));
        Assert.Equal("$-1\r\n", await Call(c, "GET", "missing"));
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "v2"));
        Assert.Equal("$2\r\nv2\r\n", await Call(c, "GET", "k"));
        Assert.Equal(["v2"], node.Backend.ValuesOf(Bytes.FromUtf8("k")).Select(v => v.ToUtf8()));
        Assert.Equal(":2\r\n", await Call(c, "EXISTS", "k", "missing", "k"));
        Assert.Equal("+OK\r\n", await Call(c, "MSET", "a", "1", "b", "2"));
        Assert.Equal("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n", await Call(c, "MGET", "a", "b", "missing"));
        Assert.Equal(":1\r\n", await Call(c, "DEL", "a", "missing", "a"));
        Assert.Equal("$-1\r\n", await Call(c, "GET", "a"));
        Assert.Equal(":0\r\n", await Call(c, "DEL", "a"));
        Assert.Equal("$1\r\n2\r\n", await Call(c, "GET", "b"));
    }

    [Fact]
    public async Task Unsupported_SET_options_and_odd_MSET_arguments_are_refused_and_the_connection_stays_open()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.StartsWith("-ERR SET NX is not supported: it needs a linearizable store", await Call(c, "SET", "k", "v", "NX"));
        Assert.StartsWith("-ERR SET GET is not supported", await Call(c, "SET", "k", "v", "GET"));
        Assert.Equal("-ERR syntax error\r\n", await Call(c, "SET", "k", "v", "FOREVER"));
        Assert.Equal("-ERR invalid expire time in 'set' command\r\n", await Call(c, "SET", "k", "v", "EX", "0"));
        Assert.Equal("-ERR wrong number of arguments for 'mset' command\r\n", await Call(c, "MSET", "a", "1", "b"));
        Assert.Empty(node.Backend.Requests);
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task A_pipelined_SET_then_GET_in_one_write_answers_OK_then_the_value_just_written()
    {
        await using var node = StartNode();
        // Writes take a while to reach their quorum: a GET that did not wait for the SET before it
        // would read nothing.
        node.Backend.BeforeReply = m => m is Put ? Task.Delay(100) : Task.CompletedTask;
        await using var c = await node.ConnectAsync();

        await c.SendAsync(Command("SET", "k", "v1").Concat(Command("GET", "k")).Concat(Command("SET", "k", "v2")).Concat(Command("GET", "k")).ToArray());

        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("$2\r\nv1\r\n", await Read(c));
        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("$2\r\nv2\r\n", await Read(c));
    }

    [Fact]
    public async Task A_pipelined_GET_then_SET_reads_the_value_from_before_the_SET()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "old"));
        // The read is slow to reach its quorum: a SET that did not wait for it would land first.
        node.Backend.BeforeReply = m => m is Get ? Task.Delay(100) : Task.CompletedTask;

        await c.SendAsync(Command("GET", "k").Concat(Command("SET", "k", "new")).Concat(Command("GET", "k")).ToArray());

        Assert.Equal("$3\r\nold\r\n", await Read(c));
        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("$3\r\nnew\r\n", await Read(c));
    }

    [Fact]
    public async Task Pipelined_writes_of_different_keys_run_at_once_and_those_of_one_key_in_order()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var bArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // SET a 1 is held until SET b has reached the store: were writes ordered over the whole
        // connection (as a multiplexed StackExchange.Redis connection's would then be), b would wait
        // for a, and a's hold would run out first.
        node.Backend.BeforeReply = async m =>
        {
            if (m is not Put p) return;
            var name = p.Key.ToUtf8() + p.Value.ToUtf8();
            events.Enqueue(name + " received");
            if (name == "b2") bArrived.TrySetResult();
            if (name == "a1") events.Enqueue(await Task.WhenAny(bArrived.Task, Task.Delay(TimeSpan.FromSeconds(10))) == bArrived.Task ? "a1 released by b2" : "a1 timed out");
        };

        await c.SendAsync(Command("SET", "a", "1").Concat(Command("SET", "b", "2")).Concat(Command("SET", "a", "3")).Concat(Command("GET", "a")).Concat(Command("GET", "b")).ToArray());

        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal(BulkWire("3"), await Read(c));
        Assert.Equal(BulkWire("2"), await Read(c));
        // The second write of a started only once the first had finished.
        Assert.Equal(["a1 received", "b2 received", "a1 released by b2", "a3 received"], events);
    }

    [Fact]
    public async Task Many_pipelined_GETs_are_answered_in_the_order_they_were_sent_even_when_they_complete_out_of_order()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        const int count = 200;
        await c.SendAsync(Enumerable.Range(0, count).SelectMany(i => Command("SET", $"key:{i}", $"value:{i}")).ToArray());
        for (var i = 0; i < count; i++) Assert.Equal("+OK\r\n", await Read(c));

        // Later reads finish first within every window of in-flight commands (8 at most here).
        node.Backend.BeforeReply = m => m is Get g ? Task.Delay(2 * (8 - int.Parse(g.Key.ToUtf8()[4..]) % 8)) : Task.CompletedTask;
        await c.SendAsync(Enumerable.Range(0, count).SelectMany(i => Command("GET", $"key:{i}")).ToArray());

        for (var i = 0; i < count; i++) Assert.Equal(BulkWire($"value:{i}"), await Read(c));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task An_unknown_command_is_answered_with_Redis_error_and_the_connection_stays_open()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal("-ERR unknown command 'foo', with args beginning with: 'a' 'b c'\r\n", await Call(c, "foo", "a", "b c"));
        Assert.Equal("-ERR unknown command 'FLUSHALL', with args beginning with: \r\n", await Call(c, "FLUSHALL"));
        Assert.Equal("-ERR unknown command 'x', with args beginning with: 'it\\x27s\\x00\\xff'\r\n", await Call(c, Latin1("x"), Latin1("it's\0\xff")));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Theory]
    [InlineData("get")]
    [InlineData("get a b")]
    [InlineData("set k")]
    [InlineData("echo")]
    [InlineData("mget")]
    [InlineData("del")]
    [InlineData("select")]
    public async Task A_command_with_the_wrong_number_of_arguments_is_refused_and_the_connection_stays_open(string command)
    {
        var args = command.Split(' ');
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal($"-ERR wrong number of arguments for '{args[0]}' command\r\n", await Call(c, args));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    // ---- bad input ------------------------------------------------------------------------------

    [Theory]
    [InlineData("*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'\r\n")]
    [InlineData("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length (-5 bytes, the limit is 256)\r\n")]
    [InlineData("*1\r\n$257\r\n", "-ERR Protocol error: invalid bulk length (257 bytes, the limit is 256)\r\n")]
    [InlineData("*1\r\n$4294967296\r\n", "-ERR Protocol error: invalid bulk length (4294967296 bytes, the limit is 256)\r\n")]
    [InlineData("*17\r\n", "-ERR Protocol error: invalid multibulk length (17 arguments, the limit is 16)\r\n")]
    [InlineData("*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n")]
    [InlineData("*1\r\n$3\r\nabcXY", "-ERR Protocol error: bulk string not terminated by CRLF\r\n")]
    [InlineData("ECHO \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n")]
    public async Task Malformed_RESP_gets_a_protocol_error_then_only_that_connection_is_closed(string bad, string reply)
    {
        await using var node = StartNode();
        await using var bystander = await node.ConnectAsync();
        Assert.Equal("+PONG\r\n", await Call(bystander, "PING"));
        await using var c = await node.ConnectAsync();

        // What came before the bad bytes is answered first. The header-only cases prove the limit
        // is checked before the node waits for (or buffers) the data announced.
        await c.SendAsync(Latin1("PING\r\n" + bad));

        Assert.Equal("+PONG\r\n", await Read(c));
        Assert.Equal(reply, await Read(c));
        await c.AssertClosedByServerAsync();
        await AssertStillServes(node, bystander);
    }

    [Fact]
    public async Task Slow_replies_to_commands_before_malformed_bytes_still_go_out_before_the_protocol_error()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "v"));
        node.Backend.BeforeReply = m => m is Get ? Task.Delay(100) : Task.CompletedTask;

        await c.SendAsync(Command("GET", "k").Concat(Command("GET", "missing")).Concat(Latin1("*1\r\n$9999\r\n")).ToArray());

        Assert.Equal("$1\r\nv\r\n", await Read(c));
        Assert.Equal("$-1\r\n", await Read(c));
        Assert.Equal("-ERR Protocol error: invalid bulk length (9999 bytes, the limit is 256)\r\n", await Read(c));
        await c.AssertClosedByServerAsync();
        await AssertStillServes(node);
    }

    [Fact]
    public async Task An_inline_line_longer_than_the_limit_is_refused_before_its_newline_arrives()
    {
        await using var node = StartNode();
        await using var bystander = await node.ConnectAsync();
        await using var c = await node.ConnectAsync();

        await c.SendAsync(new string('a', 200));

        Assert.Equal("-ERR Protocol error: too big inline request\r\n", await Read(c));
        await c.AssertClosedByServerAsync();
        await AssertStillServes(node, bystander);
    }

    [Fact]
    public async Task A_truncated_command_followed_by_the_client_closing_is_dropped_and_hurts_no_one()
    {
        await using var node = StartNode();
        await using var bystander = await node.ConnectAsync();
        Assert.Equal("+PONG\r\n", await Call(bystander, "PING"));
        var c = await node.ConnectAsync();
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));

        await c.SendAsync("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel");
        await c.DisposeAsync();

        await Eventually(() => node.Server.OpenConnections == 1, "the server let go of the closed connection");
        Assert.Equal("$-1\r\n", await Call(bystander, "GET", "k"));
        Assert.DoesNotContain(node.Backend.Requests, r => r is Put);
        await AssertStillServes(node, bystander);
    }

    [Fact]
    public async Task Inline_commands_work_like_redis_cli_over_telnet()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        await c.SendAsync("PING\r\n");
        Assert.Equal("+PONG\r\n", await Read(c));
        await c.SendAsync("SET a b\r\n");
        Assert.Equal("+OK\r\n", await Read(c));
        await c.SendAsync("GET a\n");
        Assert.Equal("$1\r\nb\r\n", await Read(c));
        await c.SendAsync("ECHO \"x\\x00y z\"\r\n");
        Assert.Equal("$5\r\nx\0y z\r\n", await Read(c));
        // Blank lines and empty multibulks are skipped without a reply, as by Redis.
        await c.SendAsync("\r\n\r\n*0\r\n*-1\r\nPING\r\n");
        Assert.Equal("+PONG\r\n", await Read(c));
    }

    [Fact]
    public async Task An_empty_key_is_refused_with_an_error_naming_the_problem_and_the_connection_stays_open()
    {
        await using var node = StartNode();
        await using var bystander = await node.ConnectAsync();
        await using var c = await node.ConnectAsync();

        Assert.Equal("-ERR the key is empty: keys must be 1 or more bytes\r\n", await Call(c, "SET", "", "v"));
        Assert.Equal("-ERR the key is empty: keys must be 1 or more bytes\r\n", await Call(c, "GET", ""));
        Assert.Equal("-ERR the key is empty: keys must be 1 or more bytes\r\n", await Call(c, "KV.PUT", "", "v"));
        Assert.Equal("-ERR MGET failed for key '': the key is empty: keys must be 1 or more bytes\r\n", await Call(c, "MGET", "k", ""));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
        await AssertStillServes(node, bystander);
    }

    [Fact]
    public async Task A_key_or_value_over_the_configured_limits_is_refused_and_the_connection_stays_open()
    {
        await using var node = StartNode();
        await using var bystander = await node.ConnectAsync();
        await using var c = await node.ConnectAsync();

        Assert.Equal("-ERR the key is 17 bytes, over the limit of 16 bytes (akka-kv.limits.max-key-bytes)\r\n",
            await Call(c, "SET", new string('k', 17), "v"));
        Assert.Equal("-ERR the value is 65 bytes, over the limit of 64 bytes (akka-kv.limits.max-value-bytes)\r\n",
            await Call(c, "SET", "k", new string('v', 65)));
        Assert.Equal("-ERR MSET is not atomic: 1 of 2 keys written; 'big': the value is 100 bytes, over the limit of 64 bytes (akka-kv.limits.max-value-bytes)\r\n",
            await Call(c, "MSET", "small", "1", "big", new string('v', 100)));
        Assert.Equal("+OK\r\n", await Call(c, "SET", new string('k', 16), new string('v', 64)));
        Assert.Equal(BulkWire(new string('v', 64)), await Call(c, "GET", new string('k', 16)));
        Assert.Equal("$-1\r\n", await Call(c, "GET", "k"));
        await AssertStillServes(node, bystander, c);
    }

    [Fact]
    public async Task A_client_trickling_a_SET_one_byte_at_a_time_does_not_hold_up_others_and_its_SET_succeeds()
    {
        await using var node = StartNode();
        await using var slow = await node.ConnectAsync();
        await using var other = await node.ConnectAsync();
        var frame = Command("SET", "slow", "trickled");

        for (var i = 0; i < frame.Length; i++)
        {
            await slow.SendAsync(frame[i..(i + 1)]);
            // A slow client, not a synchronization: the other connection's round trip is the pause.
            await Task.Delay(5);
            Assert.Equal("+PONG\r\n", await Call(other, "PING"));
            if (i < frame.Length - 1) Assert.Equal(0, slow.Unread);
        }

        Assert.Equal("+OK\r\n", await Read(slow));
        Assert.Equal(BulkWire("trickled"), await Call(other, "GET", "slow"));
    }

    [Fact]
    public async Task Past_max_connections_a_client_is_told_and_closed_and_a_freed_slot_is_taken_again()
    {
        await using var node = StartNode();
        var clients = new List<RespTestClient>();
        try
        {
            for (var i = 0; i < node.Settings.RespMaxConnections; i++)
            {
                var client = await node.ConnectAsync();
                clients.Add(client);
                Assert.Equal("+PONG\r\n", await Call(client, "PING"));
            }

            await using (var rejected = await node.ConnectAsync())
            {
                Assert.Equal("-ERR max number of clients reached\r\n", await Read(rejected));
                await rejected.AssertClosedByServerAsync();
            }
            Assert.Equal(4, node.Server.OpenConnections);

            await clients[0].DisposeAsync();
            clients.RemoveAt(0);
            await Eventually(() => node.Server.OpenConnections == 3, "the server let go of the closed connection");

            var again = await node.ConnectAsync();
            clients.Add(again);
            Assert.Equal("+PONG\r\n", await Call(again, "PING"));
            foreach (var client in clients) Assert.Equal("+PONG\r\n", await Call(client, "PING"));
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Keys_and_values_with_NUL_bytes_and_invalid_UTF8_round_trip_exactly_and_stay_distinct()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        // Both keys decode to the same text ("\0\uFFFD\uFFFDk"): only their bytes tell them apart.
        byte[] key1 = [0x00, 0xff, 0xfe, (byte)'k'];
        byte[] key2 = [0x00, 0xff, 0xfd, (byte)'k'];
        byte[] value1 = [0xc3, 0x28, 0x00, (byte)'\r', (byte)'\n', 0xed, 0xa0, 0x80];
        byte[] value2 = [0x80, 0x00, 0xff];

        Assert.Equal("+OK\r\n", await Call(c, "SET"u8.ToArray(), key1, value1));
        Assert.Equal("+OK\r\n", await Call(c, "SET"u8.ToArray(), key2, value2));

        Assert.Equal(value1, (await c.CallAsync("GET"u8.ToArray(), key1)).Bulk);
        Assert.Equal(value2, (await c.CallAsync("GET"u8.ToArray(), key2)).Bulk);
        Assert.Equal(":2\r\n", await Call(c, "EXISTS"u8.ToArray(), key1, key2, [0x00, 0xff, 0xfc, (byte)'k']));
        Assert.Equal(":1\r\n", await Call(c, "DEL"u8.ToArray(), key1));
        var both = await c.CallAsync("MGET"u8.ToArray(), key1, key2);
        Assert.True(both.Items![0].IsNull);
        Assert.Equal(value2, both.Items[1].Bulk);
    }

    // ---- connection commands --------------------------------------------------------------------

    [Fact]
    public async Task HELLO_3_switches_the_connection_to_RESP3_and_HELLO_2_back()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        await using var other = await node.ConnectAsync();
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "v"));

        var hello = await c.CallAsync("HELLO", "3");
        Assert.Equal('%', hello.Type);
        Assert.Equal(7, hello.Integer);
        var fields = Enumerable.Range(0, 7).ToDictionary(i => hello.Items![2 * i].BulkText, i => hello.Items![2 * i + 1]);
        Assert.Equal("redis", fields["server"].BulkText);
        Assert.Equal("7.0.0", fields["version"].BulkText);
        Assert.Equal(":3\r\n", fields["proto"].Raw);
        Assert.Equal("standalone", fields["mode"].BulkText);
        Assert.Equal("master", fields["role"].BulkText);
        Assert.Equal("*0\r\n", fields["modules"].Raw);

        Assert.Equal("_\r\n", await Call(c, "GET", "missing"));
        Assert.Equal("%1\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n", await Call(c, "CONFIG", "GET", "appendonly"));
        Assert.StartsWith("%3\r\n$8\r\nsiblings\r\n*1\r\n$1\r\nv\r\n", await Call(c, "KV.GET", "k"));
        // Only this connection switched.
        Assert.Equal("$-1\r\n", await Call(other, "GET", "missing"));

        var back = await c.CallAsync("HELLO", "2");
        Assert.Equal('*', back.Type);
        Assert.Equal(14, back.Items!.Count);
        Assert.Equal(":2\r\n", back.Items[5].Raw);
        Assert.Equal("$-1\r\n", await Call(c, "GET", "missing"));
    }

    [Fact]
    public async Task HELLO_with_an_unsupported_version_is_refused_and_the_protocol_is_unchanged()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal("-NOPROTO unsupported protocol version\r\n", await Call(c, "HELLO", "4"));
        Assert.Equal("-ERR Protocol version is not an integer or out of range\r\n", await Call(c, "HELLO", "three"));
        Assert.Equal("$-1\r\n", await Call(c, "GET", "missing"));

        var plain = await c.CallAsync("HELLO");
        Assert.Equal('*', plain.Type);
        Assert.Equal(":2\r\n", plain.Items![5].Raw);
    }

    [Fact]
    public async Task HELLO_can_name_the_connection_and_takes_AUTH_for_the_default_user()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal('%', (await c.CallAsync("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "app1")).Type);
        Assert.Equal("$4\r\napp1\r\n", await Call(c, "CLIENT", "GETNAME"));
        Assert.Equal("-ERR Syntax error in HELLO option 'BOGUS'\r\n", await Call(c, "HELLO", "3", "BOGUS"));
    }

    [Fact]
    public async Task QUIT_answers_OK_then_closes_and_nothing_pipelined_after_it_runs()
    {
        await using var node = StartNode();
        await using var bystander = await node.ConnectAsync();
        await using var c = await node.ConnectAsync();

        await c.SendAsync(Command("QUIT").Concat(Command("SET", "after-quit", "1")).ToArray());

        Assert.Equal("+OK\r\n", await Read(c));
        await c.AssertClosedByServerAsync();
        Assert.DoesNotContain(node.Backend.Requests, r => r is Put);
        await AssertStillServes(node, bystander);
    }

    [Fact]
    public async Task CLIENT_SETNAME_and_GETNAME_name_the_connection()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal("$-1\r\n", await Call(c, "CLIENT", "GETNAME"));
        Assert.Equal("+OK\r\n", await Call(c, "CLIENT", "SETNAME", "worker-1"));
        Assert.Equal("$8\r\nworker-1\r\n", await Call(c, "CLIENT", "GETNAME"));
        Assert.Contains(" name=worker-1 ", (await c.CallAsync("CLIENT", "INFO")).BulkText);
        Assert.Equal("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", await Call(c, "CLIENT", "SETNAME", "a b"));
        Assert.Equal("$8\r\nworker-1\r\n", await Call(c, "CLIENT", "GETNAME"));
        Assert.Equal("+OK\r\n", await Call(c, "CLIENT", "SETNAME", ""));
        Assert.Equal("$-1\r\n", await Call(c, "CLIENT", "GETNAME"));
        Assert.Equal(':', (await c.CallAsync("CLIENT", "ID")).Type);
        Assert.Equal("-ERR unknown subcommand or wrong number of arguments for 'kill'. Try CLIENT HELP.\r\n", await Call(c, "CLIENT", "KILL", "x"));
    }

    [Fact]
    public async Task SELECT_0_is_the_only_database()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal("+OK\r\n", await Call(c, "SELECT", "0"));
        Assert.Equal("-ERR DB index is out of range (AkkaKv has one keyspace: database 0)\r\n", await Call(c, "SELECT", "1"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", await Call(c, "SELECT", "one"));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task COMMAND_and_CONFIG_GET_answer_what_Redis_tools_ask_on_connect()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal($":{RespCommands.Table.Count}\r\n", await Call(c, "COMMAND", "COUNT"));
        var list = await c.CallAsync("COMMAND", "LIST");
        Assert.Equal(RespCommands.Table.Count, list.Items!.Count);
        Assert.Contains("kv.get", list.Items.Select(i => i.BulkText));
        var info = await c.CallAsync("COMMAND", "INFO", "get", "nosuch");
        Assert.Equal("get", info.Items![0].Items![0].BulkText);
        Assert.Equal(":2\r\n", info.Items[0].Items![1].Raw);
        Assert.True(info.Items[1].IsNull);

        Assert.Equal("*2\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n", await Call(c, "CONFIG", "GET", "appendonly"));
        Assert.Equal("*2\r\n$10\r\nmaxclients\r\n$1\r\n4\r\n", await Call(c, "CONFIG", "GET", "maxclients"));
        Assert.Equal("*2\r\n$18\r\nproto-max-bulk-len\r\n$3\r\n256\r\n", await Call(c, "CONFIG", "GET", "proto-max-*"));
        Assert.Equal("*0\r\n", await Call(c, "CONFIG", "GET", "nosuch"));
        Assert.StartsWith("-ERR CONFIG SET is not supported by AkkaKv", await Call(c, "CONFIG", "SET", "appendonly", "no"));
        Assert.Equal("-ERR wrong number of arguments for 'config|get' command\r\n", await Call(c, "CONFIG", "GET"));
    }

    // ---- extension commands ---------------------------------------------------------------------

    private const string ReplicasWire = "$8\r\nreplicas\r\n*3\r\n*2\r\n$2\r\nn1\r\n$7\r\ncurrent\r\n*2\r\n$2\r\nn2\r\n$8\r\nnotfound\r\n*2\r\n$2\r\nn3\r\n$5\r\nstale\r\n";

    [Fact]
    public async Task KV_GET_shows_every_sibling_the_context_and_each_replica_in_slot_order()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        Assert.Equal("*6\r\n$8\r\nsiblings\r\n*0\r\n$7\r\ncontext\r\n$1\r\nc\r\n" + ReplicasWire, await Call(c, "KV.GET", "k"));
        Assert.Equal("+OK\r\n", await Call(c, "KV.PUT", "k", "a"));
        Assert.Equal("+OK\r\n", await Call(c, "KV.PUT", "k", "b"));

        Assert.Equal("*6\r\n$8\r\nsiblings\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n$7\r\ncontext\r\n$4\r\nc1.2\r\n" + ReplicasWire, await Call(c, "KV.GET", "k"));
        // GET picks the newest sibling.
        Assert.Equal("$1\r\nb\r\n", await Call(c, "GET", "k"));

        Assert.Equal("*6\r\n$8\r\nsiblings\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n$7\r\ncontext\r\n$4\r\nc1.2\r\n" + ReplicasWire, await Call(c, "KV.GET", "k", "R", "1", "TIMEOUT", "500"));
        var get = node.Backend.Requests.OfType<Get>().Last();
        Assert.Equal(1, get.Options.R);
        Assert.Equal(TimeSpan.FromMilliseconds(500), get.Options.Timeout);

        Assert.Equal("-ERR syntax error: KV.GET takes [R n] [TIMEOUT ms]\r\n", await Call(c, "KV.GET", "k", "W", "1"));
        Assert.Equal("-ERR syntax error: KV.GET takes [R n] [TIMEOUT ms]\r\n", await Call(c, "KV.GET", "k", "R"));
        Assert.Equal("-ERR value of R is not a non-negative integer\r\n", await Call(c, "KV.GET", "k", "R", "-1"));
        Assert.Equal("-ERR R=4 is invalid: it must be between 1 and N=3\r\n", await Call(c, "KV.GET", "k", "R", "4"));
    }

    [Fact]
    public async Task KV_PUT_passes_W_and_the_context_through_and_a_context_replaces_exactly_what_was_read()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        Assert.Equal("+OK\r\n", await Call(c, "KV.PUT", "k", "a"));
        Assert.Equal("+OK\r\n", await Call(c, "KV.PUT", "k", "b"));

        Assert.Equal("+OK\r\n", await Call(c, "KV.PUT", "k", "c", "CONTEXT", "c1.2", "W", "1", "SLOPPY", "0"));

        var put = node.Backend.Requests.OfType<Put>().Last();
        Assert.Equal("c1.2", put.Context);
        Assert.Equal(1, put.Options.W);
        Assert.False(put.Options.Sloppy);
        Assert.Null(put.Options.Overwrite);
        Assert.StartsWith("*6\r\n$8\r\nsiblings\r\n*1\r\n$1\r\nc\r\n", await Call(c, "KV.GET", "k"));

        Assert.Equal("-ERR syntax error: KV.PUT takes [CONTEXT ctx] [W n] [SLOPPY 0|1] [TIMEOUT ms] [TTL ms]\r\n", await Call(c, "KV.PUT", "k", "d", "BOGUS", "1"));
        Assert.Equal("-ERR syntax error: KV.PUT takes [CONTEXT ctx] [W n] [SLOPPY 0|1] [TIMEOUT ms] [TTL ms]\r\n", await Call(c, "KV.PUT", "k", "d", "W"));
        Assert.Equal("-ERR value of W is not a non-negative integer\r\n", await Call(c, "KV.PUT", "k", "d", "W", "two"));
        Assert.Equal("-ERR value of SLOPPY is not 0 or 1\r\n", await Call(c, "KV.PUT", "k", "d", "SLOPPY", "2"));
        Assert.Equal("-ERR W=4 is invalid: it must be between 1 and N=3\r\n", await Call(c, "KV.PUT", "k", "d", "W", "4"));
        Assert.Equal("-ERR the causal context is malformed: pass back the context string of a get unchanged\r\n", await Call(c, "KV.PUT", "k", "d", "CONTEXT", "garbage"));
        Assert.Equal(["c"], node.Backend.ValuesOf(Bytes.FromUtf8("k")).Select(v => v.ToUtf8()));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task KV_DEL_without_a_context_deletes_what_it_reads_and_KV_STATUS_prints_the_node_status()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "v"));

        Assert.Equal("+OK\r\n", await Call(c, "KV.DEL", "k"));
        Assert.Equal("$-1\r\n", await Call(c, "GET", "k"));
        Assert.Equal("c1", node.Backend.Requests.OfType<Delete>().Single().Context);

        Assert.Equal(StatusText.Render(InMemoryKvBackend.Status), (await c.CallAsync("KV.STATUS")).BulkText);
    }

    [Fact]
    public async Task A_read_that_fails_its_quorum_reports_how_each_replica_answered()
    {
        await using var node = StartNode();
        node.Backend.Override = m => m is Get g
            ? new RequestFailed(g.Key, "R=2 not reached within 5000 ms", 1, 2, ValueList.From(new[]
            {
                new ReplicaReport(0, "n1", ReplicaReadState.Current),
                new ReplicaReport(1, "n2", ReplicaReadState.Timeout),
                new ReplicaReport(2, "n3", ReplicaReadState.Unreachable),
            }))
            : null;
        await using var c = await node.ConnectAsync();

        Assert.Equal("-ERR R=2 not reached within 5000 ms; replicas: n1 current, n2 timeout, n3 unreachable\r\n", await Call(c, "KV.GET", "k"));
        Assert.Equal("-ERR R=2 not reached within 5000 ms\r\n", await Call(c, "GET", "k"));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task A_backend_that_does_not_answer_in_time_gets_an_error_reply_and_the_connection_goes_on()
    {
        await using var node = StartNode();
        node.Backend.BeforeReply = m => m is Put { Key: var key } && key.ToUtf8() == "slow"
            ? Task.FromException(new TimeoutException("no reply"))
            : Task.CompletedTask;
        await using var c = await node.ConnectAsync();

        await c.SendAsync(Command("SET", "slow", "v").Concat(Command("SET", "fast", "v")).Concat(Command("GET", "fast")).ToArray());

        Assert.Equal("-ERR the node did not answer in time; the outcome of a write is unknown (it may be on fewer than W replicas)\r\n", await Read(c));
        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("$1\r\nv\r\n", await Read(c));
    }

    [Fact]
    public async Task Disposing_the_server_closes_its_connections_and_stops_accepting()
    {
        var node = StartNode();
        var endpoint = node.Server.LocalEndPoint;
        await using var c = await node.ConnectAsync();
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));

        await node.Server.DisposeAsync().AsTask().WaitAsync(RespTestClient.Timeout);

        await c.AssertClosedByServerAsync();
        Assert.Equal(0, node.Server.OpenConnections);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => RespTestClient.ConnectAsync(endpoint));
    }

    [Fact]
    public async Task A_half_closed_client_still_gets_its_replies_before_the_server_closes()
    {
        await using var node = StartNode();
        await using var c = await node.ConnectAsync();

        await c.SendAsync(Command("SET", "k", "v").Concat(Command("PING")).ToArray());
        c.ShutdownSend();

        Assert.Equal("+OK\r\n", await Read(c));
        Assert.Equal("+PONG\r\n", await Read(c));
        await c.AssertClosedByServerAsync();
        await AssertStillServes(node);
    }
}
