using AkkaKv.Client;
using StackExchange.Redis;
using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Hashes (README, "Hashes") on the live 3-node cluster of <see cref="RespEndToEndTests"/>: the
/// HSET family through different nodes, Redis's type rules (TYPE, WRONGTYPE both ways, SET over a
/// hash, DEL of any type), expiry of a hash, concurrent HSETs of different fields through every
/// node, StackExchange.Redis on RESP2 and RESP3, the .NET client, and bad input.
/// </summary>
public sealed partial class RespEndToEndTests
{
    private static CliArray Bulks(params string[] items) => new(items.Select(i => (CliReply)new CliBulk(i)).ToList());

    [Fact]
    public async Task Redis_cli_hashes_through_every_node_follow_Redis_rules()
    {
        string h = Key("hash"), s = Key("hash-string"), gone = Key("hash-gone");

        Assert.Equal(new CliInteger(2), await Cli("n1").CallAsync("HSET", h, "a", "1", "b", "2"));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("HSET", h, "b", "20", "c", "3"));
        Assert.Equal(Ok, await Cli("n3").CallAsync("HMSET", h, "d", "4"));
        Assert.Equal(new CliBulk("20"), await Cli("n3").CallAsync("HGET", h, "b"));
        Assert.Equal(new CliNil(), await Cli("n1").CallAsync("HGET", h, "zz"));
        Assert.Equal(new CliArray([new CliBulk("1"), new CliNil(), new CliBulk("4")]), await Cli("n2").CallAsync("HMGET", h, "a", "zz", "d"));
        Assert.Equal(Bulks("a", "1", "b", "20", "c", "3", "d", "4"), await Cli("n1").CallAsync("HGETALL", h));
        Assert.Equal(Bulks("a", "b", "c", "d"), await Cli("n2").CallAsync("HKEYS", h));
        Assert.Equal(Bulks("1", "20", "3", "4"), await Cli("n3").CallAsync("HVALS", h));
        Assert.Equal(new CliInteger(4), await Cli("n1").CallAsync("HLEN", h));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("HEXISTS", h, "c"));
        Assert.Equal(new CliInteger(0), await Cli("n2").CallAsync("HEXISTS", h, "zz"));
        Assert.Equal(new CliInteger(2), await Cli("n3").CallAsync("HSTRLEN", h, "b"));
        Assert.Equal(new CliInteger(25), await Cli("n3").CallAsync("HINCRBY", h, "b", "5"));
        Assert.Equal(new CliInteger(-7), await Cli("n1").CallAsync("HINCRBY", h, "new", "-7"));
        Assert.Equal(new CliInteger(2), await Cli("n2").CallAsync("HDEL", h, "a", "zz", "new"));
        Assert.Equal(new CliInteger(0), await Cli("n2").CallAsync("HDEL", h, "a"));
        Assert.Equal(new CliStatus("hash"), await Cli("n3").CallAsync("TYPE", h));
        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("EXISTS", h));

        // Expiry of a hash: set and removed by its coordinating replica; HSET keeps it, as Redis.
        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("EXPIRE", h, "100"));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("HSET", h, "e", "5"));
        Assert.InRange(Integer(await Cli("n3").CallAsync("TTL", h)), 90, 100);
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("PERSIST", h));
        Assert.Equal(new CliInteger(-1), await Cli("n1").CallAsync("TTL", h));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("PEXPIRE", h, "1500"));
        foreach (var node in new[] { "n1", "n2", "n3" })
            await UntilAsync($"{h} expired on {node}", async () => await Cli(node).CallAsync("HLEN", h) is CliInteger { Value: 0 }, TimeSpan.FromSeconds(30));
        Assert.Equal(new CliStatus("none"), await Cli("n1").CallAsync("TYPE", h));
        Assert.Equal(new CliArray([]), await Cli("n2").CallAsync("HGETALL", h));

        // WRONGTYPE both ways; MGET answers nil for a hash; SET over a hash replaces it; DEL removes any type.
        const string wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", s, "text"));
        Assert.Equal(new CliError(wrongType), await Cli("n2").CallAsync("HSET", s, "f", "v"));
        Assert.Equal(new CliError(wrongType), await Cli("n3").CallAsync("HGET", s, "f"));
        Assert.Equal(new CliError(wrongType), await Cli("n1").CallAsync("HGETALL", s));
        Assert.Equal(new CliBulk("text"), await Cli("n2").CallAsync("GET", s));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("HSET", gone, "f", "7"));
        Assert.Equal(new CliError(wrongType), await Cli("n3").CallAsync("GET", gone));
        Assert.Equal(new CliError(wrongType), await Cli("n1").CallAsync("INCR", gone));
        Assert.Equal(new CliArray([new CliNil(), new CliBulk("text")]), await Cli("n1").CallAsync("MGET", gone, s));
        Assert.Equal(Ok, await Cli("n3").CallAsync("SET", gone, "now a string"));
        Assert.Equal(new CliStatus("string"), await Cli("n1").CallAsync("TYPE", gone));
        Assert.Equal(new CliBulk("now a string"), await Cli("n2").CallAsync("GET", gone));
        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("HSET", Key("hash-del"), "f", "v"));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("DEL", Key("hash-del")));
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("INCR", Key("hash-del")));

        // SCAN TYPE tells hashes from strings.
        var hashes = new HashSet<string>();
        var strings = new HashSet<string>();
        await Cli("n1").CallAsync("HSET", Key("hash-scan"), "f", "v");
        foreach (var (type, found) in new[] { ("hash", hashes), ("string", strings) })
        {
            var cursor = "0";
            do
            {
                var page = Assert.IsType<CliArray>(await Cli("n2").CallAsync("SCAN", cursor, "MATCH", Key("hash-*"), "COUNT", "1000", "TYPE", type));
                cursor = Assert.IsType<CliBulk>(page.Elements[0]).Value;
                foreach (var k in Assert.IsType<CliArray>(page.Elements[1]).Elements) found.Add(Assert.IsType<CliBulk>(k).Value);
            } while (cursor != "0");
        }
        Assert.Equal([Key("hash-scan")], hashes.Order());
        Assert.Equal(new[] { Key("hash-del"), Key("hash-gone"), Key("hash-string") }.Order(), strings.Order());
    }

    [Fact]
    public async Task Concurrent_HSETs_of_different_fields_through_every_node_all_survive()
    {
        // Three clients per node, 20 fields each, all in one hash at once: none hides another.
        var h = Key("hash-concurrent");
        var clients = new[] { "n1", "n2", "n3" }.SelectMany(n => Enumerable.Range(0, 3).Select(c => (Node: n, Name: $"{n}-{c}"))).ToList();
        await Task.WhenAll(clients.Select(async client =>
        {
            for (var i = 0; i < 20; i++)
                Assert.Equal(new CliInteger(1), await Cli(client.Node).CallAsync("HSET", h, $"{client.Name}-{i}", $"{i}"));
        }));
        foreach (var node in new[] { "n1", "n2", "n3" })
            Assert.Equal(new CliInteger(clients.Count * 20), await Cli(node).CallAsync("HLEN", h));
        Assert.Equal(new CliBulk("19"), await Cli("n2").CallAsync("HGET", h, "n3-2-19"));
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task StackExchange_Redis_and_the_NET_client_share_hashes(RedisProtocol protocol)
    {
        await using var r1 = await RedisAsync("n1", protocol);
        await using var r3 = await RedisAsync("n3", protocol);
        IDatabase n1 = r1.GetDatabase(), n3 = r3.GetDatabase();
        RedisKey h = Key($"se-hash-{protocol}");

        await n1.HashSetAsync(h, [new HashEntry("a", "1"), new HashEntry("b", new byte[] { 0, 0xFF })]);
        Assert.True(await n3.HashSetAsync(h, "c", "3"));
        Assert.False(await n3.HashSetAsync(h, "c", "30"));
        Assert.Equal("30", (string?)await n1.HashGetAsync(h, "c"));
        Assert.Equal(new byte[] { 0, 0xFF }, (byte[]?)await n3.HashGetAsync(h, "b"));
        Assert.Equal(["a", "b", "c"], (await n1.HashGetAllAsync(h)).Select(e => (string)e.Name!).Order());
        Assert.Equal(3, await n3.HashLengthAsync(h));
        Assert.True(await n1.HashExistsAsync(h, "a"));
        Assert.Equal(["a", "b", "c"], (await n3.HashKeysAsync(h)).Select(k => (string)k!).Order());
        Assert.Equal(12, await n1.HashIncrementAsync(h, "n", 12));
        Assert.True(await n3.HashDeleteAsync(h, "a"));
        Assert.Equal(RedisType.Hash, await n1.KeyTypeAsync(h));
        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => n3.StringIncrementAsync(h));
        Assert.StartsWith("WRONGTYPE", wrong.Message);

        await using var client = _cluster.Client("n2");
        var key = Bytes.FromUtf8(h.ToString());
        Assert.Equal(1, await client.HashSetAsync(key, [KeyValuePair.Create(Bytes.FromUtf8("d"), Bytes.FromUtf8("4"))]));
        Assert.Equal(13, await client.HashIncrementAsync(key, Bytes.FromUtf8("n")));
        var all = await client.HashGetAllAsync(key);
        Assert.Equal(["b", "c", "d", "n"], all.Keys.Select(k => k.ToUtf8()));
        Assert.Equal("13", (string?)await n1.HashGetAsync(h, "n"));
        Assert.True(await client.ExpireAsync(key, TimeSpan.FromSeconds(100)));
        Assert.InRange(await n3.KeyTimeToLiveAsync(h) ?? TimeSpan.Zero, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(100));
        Assert.Equal(2, await client.HashDeleteAsync(key, [Bytes.FromUtf8("b"), Bytes.FromUtf8("c")]));
        Assert.Equal(2, await n1.HashLengthAsync(h));

        await client.PutAsync(Bytes.FromUtf8(Key($"client-hash-text-{protocol}")), Bytes.FromUtf8("text"));
        var refused = await Assert.ThrowsAsync<KvRequestException>(() => client.HashGetAllAsync(Bytes.FromUtf8(Key($"client-hash-text-{protocol}"))));
        Assert.StartsWith("WRONGTYPE", refused.Message);
    }

    [Fact]
    public async Task Bad_hash_input_gets_Redis_errors_and_changes_nothing()
    {
        var cli = Cli("n3");
        string h = Key("hash-bad"), s = Key("hash-bad-string");
        Assert.Equal(new CliInteger(2), await cli.CallAsync("HSET", h, "n", "10", "text", "ten"));
        Assert.Equal(Ok, await cli.CallAsync("SET", s, "v"));
        await cli.CallAsync("HSET", h, "max", long.MaxValue.ToString());

        async Task Refused(string expected, params string[] command) =>
            Assert.Equal(expected, Assert.IsType<CliError>(await cli.CallAsync(command)).Message);
        await Refused("ERR wrong number of arguments for 'hset' command", "HSET", h, "f");
        await Refused("ERR wrong number of arguments for 'hset' command", "HSET", h, "f", "v", "g");
        await Refused("ERR wrong number of arguments for 'hmset' command", "HMSET", h);
        await Refused("ERR wrong number of arguments for 'hget' command", "HGET", h);
        await Refused("ERR wrong number of arguments for 'hmget' command", "HMGET", h);
        await Refused("ERR wrong number of arguments for 'hdel' command", "HDEL", h);
        await Refused("ERR wrong number of arguments for 'hgetall' command", "HGETALL", h, "x");
        await Refused("ERR wrong number of arguments for 'hincrby' command", "HINCRBY", h, "n");
        await Refused("ERR value is not an integer or out of range", "HINCRBY", h, "n", "1.5");
        await Refused("ERR value is not an integer or out of range", "HINCRBY", h, "n", "99999999999999999999");
        await Refused("ERR hash value is not an integer", "HINCRBY", h, "text", "1");
        await Refused("ERR increment or decrement would overflow", "HINCRBY", h, "max", "1");
        await Refused("WRONGTYPE Operation against a key holding the wrong kind of value", "HINCRBY", s, "n", "1");
        await Refused("WRONGTYPE Operation against a key holding the wrong kind of value", "HDEL", s, "n");

        // Nothing changed, and the node still serves.
        Assert.Equal(Bulks("max", long.MaxValue.ToString(), "n", "10", "text", "ten"), await Cli("n1").CallAsync("HGETALL", h));
        Assert.Equal(new CliBulk("v"), await Cli("n2").CallAsync("GET", s));
        Assert.Equal(new CliInteger(11), await cli.CallAsync("HINCRBY", h, "n", "1"));
    }
}
