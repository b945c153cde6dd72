using System.Net.Sockets;
using System.Text;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// The bad-input battery of the two doors a running cluster serves (issue 13, item 8): the RESP
/// port and the .NET client. Each class of malformed, oversized, forged or hostile input gets its
/// clear answer, the node keeps serving every other client, and the writes acknowledged before
/// the battery read back after it. The table of classes and answers is in docs/security.md; the
/// Host's flags and config are <see cref="BadStartInputTests"/>.
/// </summary>
[Collection(RespClusterCollection.Name)]
public sealed class BadInputBatteryTests
{
    private static readonly RequestOptions Quorum = new(R: 2, W: 2, Timeout: TimeSpan.FromSeconds(8));
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly ClusterTestContext _cluster;
    private readonly ITestOutputHelper _output;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public BadInputBatteryTests(RespClusterFixture fixture, ITestOutputHelper output)
    {
        fixture.Output.Attach(output);
        _cluster = fixture.Cluster;
        _output = output;
    }

    private string Key(string name) => $"{_run}:{name}";

    /// <summary>Writes acknowledged before a battery; <see cref="AssertAcknowledgedWritesReadBackAsync"/> checks them after it.</summary>
    private async Task<Dictionary<string, string>> AcknowledgedWritesAsync()
    {
        var written = new Dictionary<string, string>();
        await using var client = _cluster.Client();
        for (var i = 0; i < 12; i++)
        {
            await client.PutAsync(Bytes.FromUtf8(Key($"kept-{i}")), Bytes.FromUtf8($"v{i}"), options: Quorum with { Overwrite = true });
            written[Key($"kept-{i}")] = $"v{i}";
        }
        return written;
    }

    private async Task AssertAcknowledgedWritesReadBackAsync(Dictionary<string, string> written)
    {
        foreach (var node in _cluster.Names)
        {
            await using var client = _cluster.Client(node);
            foreach (var (key, value) in written)
                Assert.Equal([Bytes.FromUtf8(value)], (await client.GetAsync(Bytes.FromUtf8(key), Quorum)).Values);
            // And a fresh RESP connection to every node is served.
            await using var resp = await Resp.ConnectAsync(_cluster.RespPorts[node]);
            Assert.Equal("+PONG", await resp.SendAsync("PING\r\n"u8.ToArray()));
        }
    }

    /// <summary>One input class at the RESP port: what is sent, the reply's first line (prefix), and whether the node closes the connection after it.</summary>
    public sealed record RespCase(string Class, byte[] Input, string Reply, bool Closes);

    private static byte[] A(string text) => Encoding.Latin1.GetBytes(text);

    private static RespCase[] RespCases(string key)
    {
        var value = new string('v', 1024 * 1024 + 1);
        var bigKey = new string('k', 1025);
        return
        [
            new("unknown command", A("NOSUCH x\r\n"), "-ERR unknown command 'NOSUCH', with args beginning with: 'x'", false),
            new("wrong arity", A("*1\r\n$3\r\nGET\r\n"), "-ERR wrong number of arguments for 'get' command", false),
            new("binary garbage as a command", A("\x01\xfe\xff\x80\r\n"), "-ERR unknown command", false),
            new("multibulk count not a number", A("*abc\r\n"), "-ERR Protocol error: invalid multibulk length", true),
            new("multibulk count over the argument limit", A("*99999999\r\n"), "-ERR Protocol error: invalid multibulk length (99999999 arguments", true),
            new("bulk length over the limit", A("*2\r\n$3\r\nGET\r\n$9999999999\r\n"), "-ERR Protocol error: invalid bulk length (9999999999 bytes", true),
            new("negative bulk length", A("*2\r\n$3\r\nGET\r\n$-5\r\n"), "-ERR Protocol error: invalid bulk length", true),
            new("bulk string without its CRLF", A("*2\r\n$3\r\nGET\r\n$1\r\nkXX\r\n"), "-ERR Protocol error: bulk string not terminated by CRLF", true),
            new("something else than a bulk string in a multibulk", A("*2\r\n$3\r\nGET\r\n:1\r\n"), "-ERR Protocol error: expected '$', got ':'", true),
            new("inline line over the limit", A(new string('x', 70 * 1024)), "-ERR Protocol error: too big inline request", true),
            new("unbalanced quotes inline", A("SET \"k v\r\n"), "-ERR Protocol error: unbalanced quotes in request", true),
            new("value over max-value-bytes", A($"*3\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n${value.Length}\r\n{value}\r\n"), "-ERR the value is 1048577 bytes, over the limit", false),
            new("key over max-key-bytes", A($"*2\r\n$3\r\nGET\r\n${bigKey.Length}\r\n{bigKey}\r\n"), "-ERR the key is 1025 bytes, over the limit", false),
            new("empty key", A("*2\r\n$3\r\nGET\r\n$0\r\n\r\n"), "-ERR the key is empty", false),
            new("forged causal context", A($"*5\r\n$6\r\nKV.PUT\r\n${key.Length}\r\n{key}\r\n$1\r\nv\r\n$7\r\nCONTEXT\r\n$12\r\nAQNrMQEAAAAA\r\n"), "-ERR the causal context is malformed: pass back the context string of a get unchanged", false),
            new("causal context that is not base64", A($"*5\r\n$6\r\nKV.PUT\r\n${key.Length}\r\n{key}\r\n$1\r\nv\r\n$7\r\nCONTEXT\r\n$4\r\n@@@@\r\n"), "-ERR the causal context is malformed", false),
            new("option value that is not a number", A($"*4\r\n$6\r\nKV.GET\r\n${key.Length}\r\n{key}\r\n$1\r\nR\r\n$3\r\nabc\r\n"), "-ERR value of R is not a non-negative integer", false),
            new("quorum larger than N", A($"*4\r\n$6\r\nKV.GET\r\n${key.Length}\r\n{key}\r\n$1\r\nR\r\n$1\r\n4\r\n"), "-ERR R=4 is invalid", false),
            new("SET with an option it refuses (NX)", A($"*4\r\n$3\r\nSET\r\n${key.Length}\r\n{key}\r\n$1\r\nv\r\n$2\r\nNX\r\n"), "-ERR SET NX is not supported: it needs a linearizable store", false),
        ];
    }

    [Fact]
    public async Task Every_class_of_bad_RESP_input_gets_its_error_and_the_nodes_keep_serving_with_every_acknowledged_write()
    {
        var written = await AcknowledgedWritesAsync();
        var table = new StringBuilder("| class | answer | connection |\n|---|---|---|\n");
        foreach (var (node, c) in _cluster.Names.SelectMany(n => RespCases(Key("target")).Select(c => (n, c))))
        {
            await using var resp = await Resp.ConnectAsync(_cluster.RespPorts[node]);
            var reply = await resp.SendAsync(c.Input);
            Assert.True(reply.StartsWith(c.Reply, StringComparison.Ordinal), $"{c.Class} on {node}: expected '{c.Reply}...', got '{reply}'");
            var closed = await resp.ClosedAsync(c.Closes ? Wait : TimeSpan.FromMilliseconds(300));
            Assert.True(closed == c.Closes, $"{c.Class} on {node}: the connection was {(closed ? "" : "not ")}closed");
            // A connection that stays open goes on serving its client.
            if (!closed) Assert.Equal("+PONG", await resp.SendAsync("PING\r\n"u8.ToArray()));
            if (node == "n1") table.Append($"| {c.Class} | `{(reply.Length > 110 ? reply[..110] + "..." : reply)}` | {(closed ? "closed" : "open")} |\n");
        }
        _output.WriteLine(table.ToString());

        // A command trickled a few bytes per write is read whole.
        await using (var slow = await Resp.ConnectAsync(_cluster.RespPorts["n2"]))
        {
            var set = A($"*3\r\n$3\r\nSET\r\n${Key("slow").Length}\r\n{Key("slow")}\r\n$4\r\nslow\r\n");
            Assert.Equal("+OK", await slow.SendAsync(set, chunk: 3));
            written[Key("slow")] = "slow";
        }
        await AssertAcknowledgedWritesReadBackAsync(written);
    }

    [Fact]
    public async Task Every_class_of_bad_client_request_gets_its_error_and_the_nodes_keep_serving_with_every_acknowledged_write()
    {
        var written = await AcknowledgedWritesAsync();
        await using var client = _cluster.Client("n3");
        var key = Bytes.FromUtf8(Key("target"));
        var read = await client.GetAsync(Bytes.FromUtf8(Key("kept-0")), Quorum);
        var cases = new (string Class, Func<Task> Request, string Error)[]
        {
            ("R above N", () => client.GetAsync(key, new RequestOptions(R: 4)), "R=4 is invalid: it must be between 1 and N=3"),
            ("W of zero", () => client.PutAsync(key, Bytes.FromUtf8("v"), options: new RequestOptions(W: 0)), "W=0 is invalid: it must be between 1 and N=3"),
            ("timeout of zero", () => client.GetAsync(key, new RequestOptions(Timeout: TimeSpan.Zero)), "timeout 0 ms is invalid"),
            ("empty key", () => client.PutAsync(Bytes.Empty, Bytes.FromUtf8("v")), "the key is empty"),
            ("key over max-key-bytes", () => client.GetAsync(Bytes.From(new byte[1025])), "the key is 1025 bytes, over the limit of 1024 bytes"),
            ("value over max-value-bytes", () => client.PutAsync(key, Bytes.From(new byte[1024 * 1024 + 1])), "the value is 1048577 bytes, over the limit of 1048576 bytes"),
            ("forged context", () => client.PutAsync(key, Bytes.FromUtf8("v"), "AQNrMQEAAAAAAAAAAAAAAAAAAAAAAAAA"), "the causal context"),
            ("context of another key", () => client.PutAsync(key, Bytes.FromUtf8("v"), read.Context), "not issued by this cluster for this key"),
            ("context over 64 KiB", () => client.PutAsync(key, Bytes.FromUtf8("v"), new string('A', 70_000)), "over the limit of 65536"),
        };
        foreach (var (what, request, error) in cases)
        {
            var e = await Assert.ThrowsAsync<KvRequestException>(request);
            Assert.True(e.Message.Contains(error, StringComparison.Ordinal), $"{what}: expected '{error}', got '{e.Message}'");
            _output.WriteLine($"| {what} | `{e.Message}` |");
        }
        // Nothing of the refused writes was stored.
        Assert.False((await client.GetAsync(key, Quorum)).Found);
        await AssertAcknowledgedWritesReadBackAsync(written);
    }

    /// <summary>A raw RESP connection: bytes in, the first reply line out.</summary>
    private sealed class Resp : IAsyncDisposable
    {
        private readonly TcpClient _tcp;
        private readonly NetworkStream _stream;
        private readonly List<byte> _pending = [];

        private Resp(TcpClient tcp)
        {
            _tcp = tcp;
            _stream = tcp.GetStream();
        }

        public static async Task<Resp> ConnectAsync(int port)
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port);
            return new Resp(tcp);
        }

        /// <summary>Sends <paramref name="input"/> (in writes of <paramref name="chunk"/> bytes) and returns the first line of the reply, without its CRLF.</summary>
        public async Task<string> SendAsync(byte[] input, int chunk = int.MaxValue)
        {
            for (var at = 0; at < input.Length; at += chunk)
            {
                await _stream.WriteAsync(input.AsMemory(at, Math.Min(chunk, input.Length - at)));
                await _stream.FlushAsync();
            }
            using var cts = new CancellationTokenSource(Wait);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var line = _pending.IndexOf((byte)'\n');
                if (line >= 0)
                {
                    var text = Encoding.Latin1.GetString(_pending.GetRange(0, line).ToArray()).TrimEnd('\r');
                    _pending.RemoveRange(0, line + 1);
                    return text;
                }
                var n = await _stream.ReadAsync(buffer, cts.Token);
                if (n == 0) return "(closed without a reply)";
                _pending.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }

        /// <summary>Whether the node closes the connection within <paramref name="within"/> (anything it still sends is skipped).</summary>
        public async Task<bool> ClosedAsync(TimeSpan within)
        {
            using var cts = new CancellationTokenSource(within);
            var buffer = new byte[4096];
            try
            {
                while (await _stream.ReadAsync(buffer, cts.Token) > 0) { }
                return true;
            }
            catch (OperationCanceledException) { return false; }
            catch (IOException) { return true; }
        }

        public ValueTask DisposeAsync()
        {
            _tcp.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
