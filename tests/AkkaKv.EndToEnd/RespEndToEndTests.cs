using System.Diagnostics;
using System.Globalization;
using System.Text;
using AkkaKv.Versioning;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// The RESP gateway of a live 3-node cluster, through real Redis clients: StackExchange.Redis,
/// redis-cli and redis-benchmark (Debian's redis-tools). A write through one node is read back
/// through another, so every check crosses the cluster's quorums, not one node's memory.
/// </summary>
[Collection(RespClusterCollection.Name)]
public sealed partial class RespEndToEndTests
{
    private static readonly CliReply Ok = new CliStatus("OK");

    private readonly ClusterTestContext _cluster;
    private readonly ITestOutputHelper _output;
    // The cluster is shared (RespClusterCollection): every test writes keys of its own.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public RespEndToEndTests(RespClusterFixture fixture, ITestOutputHelper output)
    {
        fixture.Output.Attach(output);
        _cluster = fixture.Cluster;
        _output = output;
    }

    private string Key(string name) => $"{_run}:{name}";

    private RedisCli Cli(string node) => new(_output, _cluster.RespPorts[node]);

    /// <summary>
    /// Connects StackExchange.Redis to one node with its default options (only the protocol may be
    /// pinned). Nothing else is needed for it to see a writable standalone primary: its handshake
    /// (HELLO 3, CLIENT SETNAME/SETINFO/ID, CONFIG GET, INFO replication, ECHO) is answered as
    /// Redis 7 would (mode standalone, role master); the probes for other topologies (CLUSTER NODES,
    /// SENTINEL MASTERS) get "unknown command", which it takes for "not that kind of server"; and
    /// its subscription connection's SUBSCRIBE to the configuration channel
    /// (__Booksleeve_MasterChanged) is refused and only means it won't hear of primary changes,
    /// which a store where every node takes writes never announces.
    /// </summary>
    private async Task<(ConnectionMultiplexer Redis, TimeSpan Took)> ConnectAsync(string node, RedisProtocol? protocol = null, CommandMap? commands = null)
    {
        var options = new ConfigurationOptions { EndPoints = { { "127.0.0.1", _cluster.RespPorts[node] } } };
        if (protocol is { } p) options.Protocol = p;
        if (commands is not null) options.CommandMap = commands;
        var log = new StringWriter();
        var sw = Stopwatch.StartNew();
        try
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options, log);
            _output.WriteLine($"StackExchange.Redis connected to {node} in {sw.ElapsedMilliseconds} ms");
            return (redis, sw.Elapsed);
        }
        finally
        {
            _output.WriteLine($"--- StackExchange.Redis connect log ({node}):\n{log}");
        }
    }

    private async Task<ConnectionMultiplexer> RedisAsync(string node, RedisProtocol? protocol = null, CommandMap? commands = null) =>
        (await ConnectAsync(node, protocol, commands)).Redis;


    // ---- StackExchange.Redis -------------------------------------------------------------------

    [Theory]
    [InlineData(null, RedisProtocol.Resp3)]
    [InlineData(RedisProtocol.Resp2, RedisProtocol.Resp2)]
    public async Task StackExchange_Redis_with_default_options_connects_fast_to_a_writable_standalone_primary(RedisProtocol? asked, RedisProtocol negotiated)
    {
        foreach (var node in _cluster.Names)
        {
            var (connection, took) = await ConnectAsync(node, asked);
            await using var redis = connection;
            Assert.True(redis.IsConnected);
            // Connected well inside its own 5 s connect timeout: nothing waited for an answer that never came.
            Assert.True(took < TimeSpan.FromSeconds(3), $"connecting to {node} took {took}");
            var server = redis.GetServer(redis.GetEndPoints().Single());
            Assert.Equal(ServerType.Standalone, server.ServerType);
            Assert.False(server.IsReplica);
            Assert.Equal(negotiated, server.Protocol);
            Assert.Equal(new Version(7, 0, 0), server.Version);
            var db = redis.GetDatabase();
            await db.PingAsync();
            Assert.True(await db.StringSetAsync(Key("connect-" + node), node));
            Assert.Equal(node, (string?)await db.StringGetAsync(Key("connect-" + node)));
        }
    }

    [Fact]
    public async Task StackExchange_Redis_writes_through_one_node_are_read_checked_and_deleted_through_the_others()
    {
        await using var r1 = await RedisAsync("n1");
        await using var r2 = await RedisAsync("n2");
        await using var r3 = await RedisAsync("n3");
        IDatabase n1 = r1.GetDatabase(), n2 = r2.GetDatabase(), n3 = r3.GetDatabase();
        RedisKey k = Key("k"), other = Key("other"), missing = Key("missing");

        Assert.True(await n1.StringSetAsync(k, "v1"));
        Assert.Equal("v1", (string?)await n2.StringGetAsync(k));
        Assert.True(await n3.KeyExistsAsync(k));
        Assert.False(await n3.KeyExistsAsync(missing));
        Assert.True((await n1.StringGetAsync(missing)).IsNull);

        // SET replaces: no sibling of the old value shows up.
        Assert.True(await n2.StringSetAsync(k, "v2"));
        Assert.Equal("v2", (string?)await n3.StringGetAsync(k));

        // MSET and MGET; EXISTS counts a key named twice twice, as Redis does.
        Assert.True(await n3.StringSetAsync([new(other, "o"), new(k, "v3")]));
        var values = await n1.StringGetAsync([k, missing, other]);
        Assert.Equal(["v3", null, "o"], values.Select(v => (string?)v));
        Assert.Equal(2, await n2.KeyExistsAsync([k, k, missing]));

        Assert.True(await n2.KeyDeleteAsync(k));
        Assert.True((await n1.StringGetAsync(k)).IsNull);
        Assert.False(await n3.KeyExistsAsync(k));
        Assert.False(await n1.KeyDeleteAsync(k));
        Assert.Equal(1, await n3.KeyDeleteAsync([k, other, missing]));
        Assert.Equal(0, await n1.KeyExistsAsync([k, other]));
    }

    [Fact]
    public async Task Keys_are_listed_by_SCAN_KEYS_and_DBSIZE_through_StackExchange_Redis_and_redis_cli_from_every_node()
    {
        await using var r1 = await RedisAsync("n1");
        var db = r1.GetDatabase();
        var written = Enumerable.Range(0, 300).Select(i => Key($"scan:{i:D3}")).ToList();
        foreach (var chunk in written.Chunk(50))
            Assert.True(await db.StringSetAsync(chunk.Select(k => new KeyValuePair<RedisKey, RedisValue>(k, "v")).ToArray()));
        Assert.True(await db.KeyDeleteAsync(written[0]));
        var live = written.Skip(1).ToHashSet();

        // StackExchange.Redis's IServer.KeysAsync pages with SCAN (the server says it is Redis 7).
        var server = r1.GetServer(r1.GetEndPoints().Single());
        var listed = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: Key("scan:*"), pageSize: 40)) listed.Add(key!);
        Assert.Equal(live.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));

        // redis-cli --scan walks the cursor itself; KEYS answers at once; from every node the same.
        foreach (var node in new[] { "n1", "n2", "n3" })
        {
            var scanned = (await Cli(node).RawAsync("--scan", "--pattern", Key("scan:*")))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(live.Order(StringComparer.Ordinal), scanned.Order(StringComparer.Ordinal));
            var keys = Assert.IsType<CliArray>(await Cli(node).CallAsync("KEYS", Key("scan:1?9")));
            Assert.Equal(live.Where(k => k.EndsWith("9", StringComparison.Ordinal) && k[^3] == '1').Order(StringComparer.Ordinal),
                keys.Elements.Select(e => Assert.IsType<CliBulk>(e).Value).Order(StringComparer.Ordinal));
        }

        // One SCAN call: a cursor and an array; TYPE string lists strings, TYPE hash none.
        var page = Assert.IsType<CliArray>(await Cli("n2").CallAsync("SCAN", "0", "MATCH", Key("scan:*"), "COUNT", "1000", "TYPE", "hash"));
        Assert.Empty(Assert.IsType<CliArray>(page.Elements[1]).Elements);
        Assert.Equal(new CliError("ERR invalid cursor"), await Cli("n2").CallAsync("SCAN", "-1"));
        Assert.Equal(new CliError("ERR syntax error"), await Cli("n2").CallAsync("SCAN", "0", "COUNT", "0"));
        Assert.Equal(new CliError("ERR syntax error"), await Cli("n2").CallAsync("SCAN", "0", "LIMIT", "5"));

        // DBSIZE counts every live key (the other tests on this shared cluster wrote some too): as many as KEYS * lists.
        var all = Assert.IsType<CliArray>(await Cli("n3").CallAsync("KEYS", "*")).Elements.Count;
        Assert.True(all >= live.Count, $"KEYS * listed {all} keys, fewer than the {live.Count} written");
        Assert.Equal(new CliInteger(all), await Cli("n3").CallAsync("DBSIZE"));
        Assert.Equal(all, await server.DatabaseSizeAsync());
    }

    [Fact]
    public async Task StackExchange_Redis_KeyDelete_with_default_options_deletes()
    {
        await using var r1 = await RedisAsync("n1");
        await using var r2 = await RedisAsync("n2");
        RedisKey k = Key("unlink"), other = Key("unlink-other");
        Assert.True(await r1.GetDatabase().StringSetAsync([new(k, "v"), new(other, "o")]));
        Assert.True(await r2.GetDatabase().KeyDeleteAsync(k));
        Assert.False(await r1.GetDatabase().KeyDeleteAsync(k));
        Assert.Equal(1, await r2.GetDatabase().KeyDeleteAsync([k, other]));
        Assert.True((await r1.GetDatabase().StringGetAsync(other)).IsNull);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(RedisProtocol.Resp2)]
    public async Task StackExchange_Redis_keys_and_values_are_binary_safe(RedisProtocol? protocol)
    {
        await using var writer = await RedisAsync("n1", protocol);
        await using var reader = await RedisAsync("n2", protocol);
        await using var third = await RedisAsync("n3", protocol);
        var prefix = Encoding.ASCII.GetBytes(Key("bin") + ":");
        RedisKey K(ReadOnlySpan<byte> rest) => (byte[])[.. prefix, .. rest];
        byte[] allBytes = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var seed = Environment.TickCount;
        _output.WriteLine($"random value seed {seed}");
        var big = new byte[1024 * 1024];
        new Random(seed).NextBytes(big);
        var cases = new (byte[] Key, byte[] Value)[]
        {
            ([0x00], allBytes),                                       // NUL key, every byte value
            ("a\0b"u8.ToArray(), [0x00, 0x00, 0xff]),                 // NUL inside a key
            ([0xc3, 0x28, 0xff, 0xfe], [0xc3, 0x28, 0xe2, 0x82]),     // invalid UTF-8 both sides
            ("\r\n$3\r\nSET\r\n"u8.ToArray(), "*1\r\n$4\r\nPING\r\n"u8.ToArray()), // RESP framing as data
            ("ключ-🔑"u8.ToArray(), "значение"u8.ToArray()),           // valid multi-byte UTF-8
            ("empty"u8.ToArray(), []),                                // an empty value is a value, not nil
            ("big"u8.ToArray(), big),                                 // 1 MiB, the largest value allowed
        };
        var w = writer.GetDatabase();
        foreach (var (key, value) in cases) Assert.True(await w.StringSetAsync(K(key), value));
        foreach (var db in new[] { reader.GetDatabase(), third.GetDatabase() })
        {
            foreach (var (key, value) in cases)
            {
                var read = await db.StringGetAsync(K(key));
                Assert.False(read.IsNull, $"key {Convert.ToHexString(key)} not found");
                Assert.Equal(value, (byte[]?)read);
            }
        }

        // Keys are compared as bytes: a prefix up to a NUL, or one byte more, is another key.
        var r = reader.GetDatabase();
        Assert.True((await r.StringGetAsync(K("a"u8))).IsNull);
        Assert.True((await r.StringGetAsync(K("a\0b\0"u8))).IsNull);
        Assert.False(await r.KeyExistsAsync(K([0x00, 0x00])));

        // One byte over the value limit: a clear error, and the connection goes on.
        var error = await Assert.ThrowsAsync<RedisServerException>(() => w.StringSetAsync(K("too-big"u8), new byte[big.Length + 1]));
        Assert.Contains("over the limit", error.Message);
        Assert.Equal(allBytes, (byte[]?)await w.StringGetAsync(K([0x00])));
    }

    // ---- redis-cli -----------------------------------------------------------------------------

    [Fact]
    public async Task Redis_cli_runs_the_string_and_connection_commands_across_nodes()
    {
        string k1 = Key("cli-1"), k2 = Key("cli-2"), missing = Key("cli-missing");
        Assert.Equal(new CliStatus("PONG"), await Cli("n1").CallAsync("PING"));
        Assert.Equal(new CliBulk("hello there"), await Cli("n2").CallAsync("PING", "hello there"));
        Assert.Equal(new CliBulk("héllo \"wörld\"\n"), await Cli("n3").CallAsync("ECHO", "héllo \"wörld\"\n"));

        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", k1, "one"));
        Assert.Equal(new CliBulk("one"), await Cli("n2").CallAsync("GET", k1));
        Assert.Equal(new CliInteger(2), await Cli("n3").CallAsync("EXISTS", k1, missing, k1));
        Assert.Equal(new CliNil(), await Cli("n3").CallAsync("GET", missing));

        Assert.Equal(Ok, await Cli("n2").CallAsync("MSET", k1, "uno", k2, "dos"));
        Assert.Equal(new CliArray([new CliBulk("uno"), new CliNil(), new CliBulk("dos")]), await Cli("n3").CallAsync("MGET", k1, missing, k2));
        Assert.Equal("uno\n", await Cli("n1").RawAsync("GET", k1));

        Assert.Equal(new CliInteger(2), await Cli("n1").CallAsync("DEL", k1, k2, missing));
        Assert.Equal(new CliNil(), await Cli("n2").CallAsync("GET", k1));
        Assert.Equal(new CliInteger(0), await Cli("n3").CallAsync("EXISTS", k1, k2));
        Assert.Equal(new CliInteger(0), await Cli("n2").CallAsync("DEL", k1));
    }

    [Fact]
    public async Task Redis_cli_INFO_reports_a_primary_and_an_akkakv_section_with_node_members_and_partitions_held()
    {
        foreach (var node in _cluster.Names)
        {
            var sections = InfoSections(await Cli(node).RawAsync("INFO"));
            Assert.Equal("master", sections["Replication"]["role"]);
            Assert.Equal("7.0.0", sections["Server"]["redis_version"]);
            Assert.Equal(_cluster.RespPorts[node].ToString(CultureInfo.InvariantCulture), sections["Server"]["tcp_port"]);
            var kv = sections["akkakv"];
            Assert.Equal(node, kv["node"]);
            Assert.Equal("3", kv["members"]);
            Assert.Equal("3", kv["members_up"]);
            Assert.Equal("0", kv["unreachable_members"]);
            foreach (var member in _cluster.Names) Assert.StartsWith("status=Up,reachable=yes,", kv["member_" + member]);
            var partitions = int.Parse(kv["partitions"], CultureInfo.InvariantCulture);
            var held = int.Parse(kv["partitions_held"], CultureInfo.InvariantCulture);
            // N=3 on 3 nodes: every node holds a replica of every partition.
            Assert.Equal(partitions, held);
            Assert.Equal("0", kv["co_located_partitions"]);

            // INFO <section> answers that section only.
            var only = InfoSections(await Cli(node).RawAsync("INFO", "akkakv"));
            Assert.Equal(["akkakv"], only.Keys);
        }
    }

    /// <summary>INFO's text: "# Section" lines, then "field:value" lines, sections apart by a blank line.</summary>
    private static Dictionary<string, Dictionary<string, string>> InfoSections(string info)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (var line in info.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0))
        {
            if (line.StartsWith("# ", StringComparison.Ordinal)) sections[line[2..]] = current = new Dictionary<string, string>();
            else if (current is not null && line.IndexOf(':') is > 0 and var colon) current[line[..colon]] = line[(colon + 1)..];
            else throw new FormatException($"unexpected INFO line '{line}' in:\n{info}");
        }
        return sections;
    }

    [Fact]
    public async Task Kv_put_without_context_adds_a_sibling_GET_returns_the_later_and_a_put_with_the_read_context_resolves_them()
    {
        var key = Key("siblings");
        Assert.Equal(Ok, await Cli("n1").CallAsync("KV.PUT", key, "first"));
        Assert.Equal(Ok, await Cli("n2").CallAsync("KV.PUT", key, "second"));

        var read = KvGetReply.From(await Cli("n3").CallAsync("KV.GET", key));
        Assert.Equal(["first", "second"], read.Siblings);
        Assert.NotEmpty(read.Context);
        Assert.Equal(new CliBulk("second"), await Cli("n1").CallAsync("GET", key));

        Assert.Equal(Ok, await Cli("n3").CallAsync("KV.PUT", key, "merged", "CONTEXT", read.Context));
        var resolved = KvGetReply.From(await Cli("n2").CallAsync("KV.GET", key));
        Assert.Equal(["merged"], resolved.Siblings);
        Assert.Equal(new CliBulk("merged"), await Cli("n1").CallAsync("GET", key));

        // KV.DEL with the context of that read: nothing left, and GET says nil.
        Assert.Equal(Ok, await Cli("n1").CallAsync("KV.DEL", key, "CONTEXT", resolved.Context));
        Assert.Empty(KvGetReply.From(await Cli("n3").CallAsync("KV.GET", key)).Siblings);
        Assert.Equal(new CliNil(), await Cli("n2").CallAsync("GET", key));
    }

    [Fact]
    public async Task Kv_get_at_R3_after_a_W3_put_reports_every_replica_current_on_three_nodes()
    {
        var key = Key("w3");
        Assert.Equal(Ok, await Cli("n3").CallAsync("KV.PUT", key, "everywhere", "W", "3"));
        foreach (var node in _cluster.Names)
        {
            var read = KvGetReply.From(await Cli(node).CallAsync("KV.GET", key, "R", "3", "TIMEOUT", "10000"));
            Assert.Equal(["everywhere"], read.Siblings);
            Assert.Equal(3, read.Replicas.Count);
            Assert.All(read.Replicas, r => Assert.Equal("current", r.State));
            Assert.Equal(_cluster.Names, read.Replicas.Select(r => r.Node).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Kv_status_lists_every_member_up_and_reachable()
    {
        foreach (var node in _cluster.Names)
        {
            var status = await Cli(node).RawAsync("KV.STATUS");
            Assert.Contains($"node: {node}\n", status);
            Assert.Contains("ring: Q=256 partitions, N=3", status);
            // "members:" then one line per member: name, address, status, reachable or UNREACHABLE.
            var members = status.Split('\n').SkipWhile(l => l != "members:").Skip(1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal))
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToDictionary(f => f[0]);
            Assert.Equal(_cluster.Names, members.Keys.Order(StringComparer.Ordinal));
            Assert.All(members.Values, f => Assert.Equal(["Up", "reachable"], f[^2..]));
            Assert.Contains("unallocated slots: 0", status);
            Assert.Contains("co-located partitions: 0", status);
        }
    }

    [Fact]
    public async Task Unknown_commands_empty_keys_and_bad_arguments_get_error_replies()
    {
        var cli = Cli("n2");
        var unknown = Assert.IsType<CliError>(await cli.CallAsync("NOSUCHCOMMAND", "a"));
        Assert.StartsWith("ERR unknown command 'NOSUCHCOMMAND'", unknown.Message);

        string[][] emptyKey = [["GET", ""], ["SET", "", "v"], ["MGET", Key("fine"), ""], ["MSET", Key("fine"), "v", "", "v"], ["EXISTS", ""], ["DEL", ""],
            ["KV.GET", ""], ["KV.PUT", "", "v"], ["KV.DEL", ""]];
        foreach (var command in emptyKey)
        {
            var error = Assert.IsType<CliError>(await cli.CallAsync(command));
            Assert.StartsWith("ERR ", error.Message);
            Assert.Contains("the key is empty", error.Message);
        }

        var arity = Assert.IsType<CliError>(await cli.CallAsync("GET"));
        Assert.Equal("ERR wrong number of arguments for 'get' command", arity.Message);
        var conditional = Assert.IsType<CliError>(await cli.CallAsync("SET", Key("ex"), "v", "NX"));
        Assert.Contains("linearizable", conditional.Message);
        var quorum = Assert.IsType<CliError>(await cli.CallAsync("KV.PUT", Key("w4"), "v", "W", "4"));
        Assert.Contains("W=4", quorum.Message);
        Assert.Equal(new CliNil(), await cli.CallAsync("GET", Key("ex")));
        Assert.Equal(new CliStatus("PONG"), await cli.CallAsync("PING"));
    }

    // ---- redis-benchmark -----------------------------------------------------------------------

    [Fact]
    public async Task Redis_benchmark_sets_and_gets_without_an_error_and_its_keys_read_back_through_another_node()
    {
        var sw = Stopwatch.StartNew();
        var run = await RedisTools.RunAsync(_output, "redis-benchmark",
            ["-h", "127.0.0.1", "-p", _cluster.RespPorts["n1"].ToString(CultureInfo.InvariantCulture),
             "-t", "set,get", "-n", "2000", "-c", "50", "-d", "100", "-r", "100000", "--csv"],
            TimeSpan.FromMinutes(5));
        _output.WriteLine($"redis-benchmark took {sw.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(0, run.ExitCode);
        // redis-benchmark stops at the first error reply ("Error from server: ..."), and warns when
        // its CONFIG GET of save/appendonly fails.
        var printed = run.Stdout + run.Stderr;
        Assert.DoesNotContain("ERR", printed);
        Assert.DoesNotContain("error", printed, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("WARNING", printed);
        var rows = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => l.Split(',').Select(f => f.Trim().Trim('"')).ToArray()).ToDictionary(f => f[0], f => f);
        Assert.Equal(["GET", "SET"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.All(rows.Values, r => Assert.True(double.Parse(r[1], CultureInfo.InvariantCulture) > 0, $"{r[0]}: {r[1]} requests/s"));

        // Its SETs wrote 2000 random keys key:000000000000..key:000000099999 (12 digits), each with
        // the same 100-byte payload. About 2% of any range of ids was written: read 3000 ids
        // through n2 (about 60 expected; fewer than 5 has a chance under 1e-18).
        await using var redis = await RedisAsync("n2");
        var db = redis.GetDatabase();
        var found = new Dictionary<string, byte[]>();
        foreach (var chunk in Enumerable.Range(0, 3000).Chunk(100))
        {
            var keys = chunk.Select(i => $"key:{i:D12}").ToArray();
            var values = await db.StringGetAsync(keys.Select(k => (RedisKey)k).ToArray());
            for (var i = 0; i < keys.Length; i++)
                if (!values[i].IsNull) found[keys[i]] = (byte[])values[i]!;
        }
        _output.WriteLine($"{found.Count} of key:000000000000..key:000000002999 read back");
        Assert.True(found.Count >= 5, $"only {found.Count} benchmark keys found");
        var payload = found.Values.First();
        Assert.Equal(100, payload.Length);
        Assert.All(found.Values, v => Assert.Equal(payload, v));

        // A few of them with a plain GET through the third node.
        foreach (var (key, value) in found.Take(3))
            Assert.Equal(new CliBulk(Encoding.ASCII.GetString(value)), await Cli("n3").CallAsync("GET", key));
    }

    // ---- SET semantics across nodes ------------------------------------------------------------

    [Fact]
    public async Task Sequential_plain_SETs_through_different_nodes_leave_one_sibling()
    {
        foreach (var i in Enumerable.Range(0, 4))
        {
            var key = Key($"sequential-{i}");
            foreach (var node in _cluster.Names) Assert.Equal(Ok, await Cli(node).CallAsync("SET", key, $"{node}-{i}"));
            var last = $"{_cluster.Names[^1]}-{i}";
            var read = KvGetReply.From(await Cli("n1").CallAsync("KV.GET", key, "R", "3"));
            Assert.Equal([last], read.Siblings);
            Assert.Equal(new CliBulk(last), await Cli("n2").CallAsync("GET", key));
        }
    }

    // ---- forged contexts (issue 13) ----

    private static byte[] FromBase64Url(string text)
    {
        var b64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '='));
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// What a client can do with a context it read and no secret: decode it, raise every counter
    /// of its version vector to 2^63-1, and put it back together around the original tag.
    /// </summary>
    private static string ForgeMaxCounters(string context)
    {
        var token = FromBase64Url(context);
        var header = 2 + token[1];
        var vector = new AkkaKv.Codec.KvReader(token[header..^16]).ReadVector();
        Assert.False(vector.IsEmpty);
        var w = new AkkaKv.Codec.KvWriter();
        w.WriteVector(AkkaKv.Versioning.VersionVector.Of(vector.Entries.Select(e => KeyValuePair.Create(e.Key, long.MaxValue))));
        return Base64Url([.. token[..header], .. w.ToArray(), .. token[^16..]]);
    }

    [Fact]
    public async Task A_forged_context_is_refused_and_every_later_write_of_the_key_reads_back_through_every_node()
    {
        var key = Key("forged");
        var other = Key("forged-other");
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", key, "before"));
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", other, "x"));
        var read = KvGetReply.From(await Cli("n2").CallAsync("KV.GET", key));
        var otherRead = KvGetReply.From(await Cli("n2").CallAsync("KV.GET", other));

        // The attack: counters raised to the maximum, through any node.
        foreach (var node in _cluster.Names)
            Assert.Equal(new CliError("ERR the causal context was not issued by this cluster for this key, or was altered: pass back the context string of a get of the same key unchanged"),
                await Cli(node).CallAsync("KV.PUT", key, "forged", "CONTEXT", ForgeMaxCounters(read.Context)));
        // Signed with the public development key (its secret is in the source): refused by a cluster with its own keys.
        var devSigned = AkkaKv.Versioning.CausalContext.Development.Encode(Bytes.FromUtf8(key),
            AkkaKv.Versioning.VersionVector.Of([KeyValuePair.Create("n1/0.00000001", long.MaxValue)]));
        Assert.Equal(new CliError("ERR the causal context is signed with key 'dev', which this node does not hold: it was not issued by this cluster (or its key was retired); read the key again and pass back that context"),
            await Cli("n3").CallAsync("KV.PUT", key, "forged", "CONTEXT", devSigned));
        // A real context of another key: refused for this one.
        Assert.Equal(new CliError("ERR the causal context was not issued by this cluster for this key, or was altered: pass back the context string of a get of the same key unchanged"),
            await Cli("n1").CallAsync("KV.PUT", key, "forged", "CONTEXT", otherRead.Context));
        Assert.Equal(new CliBulk("before"), await Cli("n3").CallAsync("GET", key));

        // Every later write, plain SET and KV.PUT with the real context, through each node, reads back everywhere.
        var i = 0;
        foreach (var writer in _cluster.Names)
        {
            var value = $"later-{++i}";
            Assert.Equal(Ok, await Cli(writer).CallAsync("SET", key, value));
            foreach (var reader in _cluster.Names)
                Assert.Equal(new CliBulk(value), await Cli(reader).CallAsync("GET", key));
        }
        var current = KvGetReply.From(await Cli("n1").CallAsync("KV.GET", key));
        Assert.Equal(Ok, await Cli("n2").CallAsync("KV.PUT", key, "with-context", "CONTEXT", current.Context));
        var final = KvGetReply.From(await Cli("n3").CallAsync("KV.GET", key));
        Assert.Equal(["with-context"], final.Siblings);
    }
}
