using AkkaKv.Client;
using StackExchange.Redis;
using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Counters (README, "Counters") on the live 3-node cluster of <see cref="RespEndToEndTests"/>:
/// INCR and its family through different nodes, Redis's rules for strings that hold integers and
/// the TTL, concurrent increments through every node, StackExchange.Redis, the .NET client, and bad input.
/// </summary>
public sealed partial class RespEndToEndTests
{
    [Fact]
    public async Task Redis_cli_counts_through_every_node_and_follows_Redis_rules()
    {
        string k = Key("ctr"), s = Key("ctr-string"), limiter = Key("ctr-limiter"), gone = Key("ctr-gone");

        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("INCR", k));
        Assert.Equal(new CliInteger(11), await Cli("n2").CallAsync("INCRBY", k, "10"));
        Assert.Equal(new CliInteger(10), await Cli("n3").CallAsync("DECR", k));
        Assert.Equal(new CliInteger(-90), await Cli("n1").CallAsync("DECRBY", k, "100"));
        Assert.Equal(new CliBulk("-90"), await Cli("n2").CallAsync("GET", k));
        Assert.Equal(new CliStatus("string"), await Cli("n3").CallAsync("TYPE", k));
        Assert.Equal(new CliStatus("none"), await Cli("n3").CallAsync("TYPE", Key("ctr-never")));
        Assert.Equal(new CliArray([new CliBulk("-90")]), await Cli("n1").CallAsync("MGET", k));

        // A string holding an integer counts from it; SET over a counter replaces it, as Redis.
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", s, "41"));
        Assert.Equal(new CliInteger(42), await Cli("n2").CallAsync("INCR", s));
        Assert.Equal(Ok, await Cli("n3").CallAsync("SET", k, "5"));
        Assert.Equal(new CliInteger(6), await Cli("n1").CallAsync("INCR", k));
        // EXPIRE and PERSIST of a counter: its coordinating replica sets the deadline; the number stays.
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("EXPIRE", k, "100"));
        Assert.InRange(Integer(await Cli("n3").CallAsync("TTL", k)), 90, 100);
        Assert.Equal(new CliInteger(7), await Cli("n3").CallAsync("INCR", k));
        Assert.InRange(Integer(await Cli("n1").CallAsync("TTL", k)), 90, 100);
        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("PERSIST", k));
        Assert.Equal(new CliInteger(-1), await Cli("n2").CallAsync("TTL", k));
        Assert.Equal(new CliBulk("7"), await Cli("n2").CallAsync("GET", k));

        // The rate-limiter idiom: SET k 0 EX 60, then INCR keeps the TTL.
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", limiter, "0", "EX", "60"));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("INCR", limiter));
        Assert.Equal(new CliInteger(2), await Cli("n3").CallAsync("INCR", limiter));
        Assert.InRange(Integer(await Cli("n1").CallAsync("TTL", limiter)), 50, 60);
        // EXPIRE on a counter keeps its number; once it expires the next INCR starts from 0, without a TTL.
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("PEXPIRE", limiter, "1500"));
        Assert.Equal(new CliBulk("2"), await Cli("n3").CallAsync("GET", limiter));
        foreach (var node in new[] { "n1", "n2", "n3" })
            await UntilAsync($"{limiter} expired on {node}", async () => await Cli(node).CallAsync("GET", limiter) is CliNil, TimeSpan.FromSeconds(30));
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("INCR", limiter));
        Assert.Equal(new CliInteger(-1), await Cli("n1").CallAsync("TTL", limiter));

        // DEL removes a counter; a later INCR starts from 0.
        Assert.Equal(new CliInteger(7), await Cli("n1").CallAsync("INCRBY", gone, "7"));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("DEL", gone));
        Assert.Equal(new CliNil(), await Cli("n3").CallAsync("GET", gone));
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("INCR", gone));
    }

    [Fact]
    public async Task Concurrent_increments_through_every_node_all_count()
    {
        // Three clients per node, 20 increments each, all on one key: every one counts once.
        var k = Key("ctr-concurrent");
        var clients = new[] { "n1", "n2", "n3" }.SelectMany(n => Enumerable.Range(0, 3).Select(_ => n)).ToList();
        await Task.WhenAll(clients.Select(async node =>
        {
            for (var i = 0; i < 20; i++)
                Assert.IsType<CliInteger>(await Cli(node).CallAsync("INCRBY", k, "2"));
        }));
        foreach (var node in new[] { "n1", "n2", "n3" })
            Assert.Equal(new CliBulk((clients.Count * 20 * 2).ToString()), await Cli(node).CallAsync("GET", k));
    }

    [Fact]
    public async Task StackExchange_Redis_and_the_NET_client_count_on_one_key()
    {
        await using var r1 = await RedisAsync("n1");
        await using var r3 = await RedisAsync("n3");
        IDatabase n1 = r1.GetDatabase(), n3 = r3.GetDatabase();
        RedisKey k = Key("se-ctr");

        Assert.Equal(5, await n1.StringIncrementAsync(k, 5));
        Assert.Equal(4, await n3.StringDecrementAsync(k));
        Assert.Equal(-6, await n1.StringDecrementAsync(k, 10));
        Assert.Equal(-6, (long)await n3.StringGetAsync(k));
        Assert.Equal(RedisType.String, await n1.KeyTypeAsync(k));

        await using var client = _cluster.Client("n2");
        Assert.Equal(94, await client.IncrementAsync(Bytes.FromUtf8(k.ToString()), 100));
        Assert.Equal(93, await client.IncrementAsync(Bytes.FromUtf8(k.ToString()), -1));
        Assert.Equal(93, (long)await n3.StringGetAsync(k));
        Assert.True(await client.ExpireAsync(Bytes.FromUtf8(k.ToString()), TimeSpan.FromSeconds(100)));
        Assert.InRange(await n1.KeyTimeToLiveAsync(k) ?? TimeSpan.Zero, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(100));
        Assert.Equal(93, (long)await n3.StringGetAsync(k));

        await client.PutAsync(Bytes.FromUtf8(Key("client-ctr-text")), Bytes.FromUtf8("text"));
        var refused = await Assert.ThrowsAsync<KvRequestException>(() => client.IncrementAsync(Bytes.FromUtf8(Key("client-ctr-text"))));
        Assert.Equal("value is not an integer or out of range", refused.Message);
    }

    [Fact]
    public async Task Bad_counter_input_gets_Redis_errors_and_changes_nothing()
    {
        var cli = Cli("n2");
        string k = Key("ctr-bad"), text = Key("ctr-bad-text"), max = Key("ctr-bad-max");
        Assert.Equal(new CliInteger(10), await cli.CallAsync("INCRBY", k, "10"));
        Assert.Equal(Ok, await cli.CallAsync("SET", text, "ten"));
        Assert.Equal(Ok, await cli.CallAsync("SET", max, long.MaxValue.ToString()));

        async Task Refused(string expected, params string[] command)
        {
            var error = Assert.IsType<CliError>(await cli.CallAsync(command));
            Assert.Equal(expected, error.Message);
        }
        await Refused("ERR wrong number of arguments for 'incr' command", "INCR");
        await Refused("ERR wrong number of arguments for 'incr' command", "INCR", k, "1");
        await Refused("ERR wrong number of arguments for 'incrby' command", "INCRBY", k);
        await Refused("ERR wrong number of arguments for 'decrby' command", "DECRBY", k, "1", "2");
        await Refused("ERR wrong number of arguments for 'type' command", "TYPE");
        await Refused("ERR value is not an integer or out of range", "INCRBY", k, "ten");
        await Refused("ERR value is not an integer or out of range", "INCRBY", k, "1.5");
        await Refused("ERR value is not an integer or out of range", "DECRBY", k, "99999999999999999999");
        await Refused("ERR value is not an integer or out of range", "INCR", text);
        await Refused("ERR value is not an integer or out of range", "DECRBY", text, "1");
        await Refused("ERR increment or decrement would overflow", "INCR", max);
        await Refused("ERR increment or decrement would overflow", "INCRBY", k, long.MaxValue.ToString());
        await Refused("ERR decrement would overflow", "DECRBY", k, long.MinValue.ToString());

        // Nothing changed, and the node still serves.
        Assert.Equal(new CliBulk("10"), await Cli("n1").CallAsync("GET", k));
        Assert.Equal(new CliBulk("ten"), await Cli("n3").CallAsync("GET", text));
        Assert.Equal(new CliBulk(long.MaxValue.ToString()), await Cli("n1").CallAsync("GET", max));
        Assert.Equal(new CliInteger(11), await cli.CallAsync("INCR", k));
    }
}
