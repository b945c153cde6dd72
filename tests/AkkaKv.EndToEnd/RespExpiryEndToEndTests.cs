using System.Diagnostics;
using AkkaKv.Client;
using StackExchange.Redis;
using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Expiry (README, "Expiry") on the live 3-node cluster of <see cref="RespEndToEndTests"/>: the
/// deadline is written through one node and read through the others, and an expired key reads as
/// not found from every node.
/// </summary>
public sealed partial class RespEndToEndTests
{
    private static long UnixSeconds => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Polls until <paramref name="done"/> holds, or fails at the deadline with what it last saw.</summary>
    private async Task UntilAsync(string what, Func<Task<bool>> done, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(sw.Elapsed < timeout, $"{what}: not within {timeout.TotalSeconds:0} s");
            await Task.Delay(100);
        }
        _output.WriteLine($"{what}: after {sw.ElapsedMilliseconds} ms");
    }

    private static long Integer(CliReply reply) => Assert.IsType<CliInteger>(reply).Value;

    [Fact]
    public async Task Redis_cli_sets_reads_changes_and_removes_deadlines_across_nodes()
    {
        string k = Key("ttl"), k2 = Key("ttl-setex"), k3 = Key("ttl-psetex"), kv = Key("ttl-kvput"), missing = Key("ttl-missing");

        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", k, "v", "EX", "100"));
        Assert.Equal(new CliBulk("v"), await Cli("n2").CallAsync("GET", k));
        Assert.InRange(Integer(await Cli("n2").CallAsync("TTL", k)), 90, 100);
        Assert.InRange(Integer(await Cli("n3").CallAsync("PTTL", k)), 90_000, 100_000);
        Assert.InRange(Integer(await Cli("n1").CallAsync("EXPIRETIME", k)), UnixSeconds + 95, UnixSeconds + 101);

        // PERSIST removes the deadline; the value stays.
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("PERSIST", k));
        Assert.Equal(new CliInteger(-1), await Cli("n3").CallAsync("TTL", k));
        Assert.Equal(new CliInteger(0), await Cli("n1").CallAsync("PERSIST", k));
        Assert.Equal(new CliBulk("v"), await Cli("n1").CallAsync("GET", k));

        // EXPIRE and its Redis 7 conditions (no deadline counts as infinite for GT and LT).
        Assert.Equal(new CliInteger(0), await Cli("n3").CallAsync("EXPIRE", k, "50", "XX"));
        Assert.Equal(new CliInteger(0), await Cli("n3").CallAsync("EXPIRE", k, "50", "GT"));
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("EXPIRE", k, "50", "NX"));
        Assert.InRange(Integer(await Cli("n1").CallAsync("TTL", k)), 40, 50);
        Assert.Equal(new CliInteger(0), await Cli("n2").CallAsync("EXPIRE", k, "200", "NX"));
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("EXPIRE", k, "200", "GT"));
        Assert.Equal(new CliInteger(0), await Cli("n1").CallAsync("EXPIRE", k, "300", "LT"));
        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("PEXPIRE", k, "20000", "LT"));
        Assert.InRange(Integer(await Cli("n3").CallAsync("PTTL", k)), 10_000, 20_000);
        // XX combines with GT and LT, as in Redis 7.
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("EXPIRE", k, "3600", "XX", "GT"));
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("EXPIREAT", k, (UnixSeconds + 500).ToString()));
        Assert.InRange(Integer(await Cli("n2").CallAsync("TTL", k)), 490, 501);
        Assert.Equal(new CliBulk("v"), await Cli("n2").CallAsync("GET", k));
        // An absolute deadline is kept (to the clock's tick plus the write's own few ms), and EXPIRETIME rounds like TTL.
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 600_499;
        Assert.Equal(new CliInteger(1), await Cli("n1").CallAsync("PEXPIREAT", k, at.ToString()));
        Assert.InRange(Integer(await Cli("n2").CallAsync("PEXPIRETIME", k)), at, at + 50);
        Assert.InRange(Integer(await Cli("n3").CallAsync("EXPIRETIME", k)), (at + 500) / 1000, (at + 550) / 1000);

        // A plain SET writes a new version without a deadline, as in Redis; KEEPTTL keeps it.
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", k, "w", "PX", "100000"));
        var kept = Integer(await Cli("n2").CallAsync("PEXPIRETIME", k));
        Assert.Equal(Ok, await Cli("n2").CallAsync("SET", k, "x", "KEEPTTL"));
        Assert.Equal(new CliBulk("x"), await Cli("n3").CallAsync("GET", k));
        Assert.InRange(Integer(await Cli("n3").CallAsync("PEXPIRETIME", k)), kept, kept + 50);
        // EXAT and PXAT: a deadline in the future is written, one in the past deletes.
        Assert.Equal(Ok, await Cli("n3").CallAsync("SET", k, "z", "EXAT", (UnixSeconds + 1000).ToString()));
        Assert.InRange(Integer(await Cli("n1").CallAsync("TTL", k)), 990, 1001);
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", k, "gone", "PXAT", "1000"));
        Assert.Equal(new CliNil(), await Cli("n2").CallAsync("GET", k));
        Assert.Equal(Ok, await Cli("n3").CallAsync("SET", k, "y"));
        Assert.Equal(new CliInteger(-1), await Cli("n1").CallAsync("TTL", k));

        // SETEX, PSETEX and KV.PUT's TTL option.
        // (Long TTLs: these keys outlive the test, and other tests on this cluster count keys.)
        Assert.Equal(Ok, await Cli("n2").CallAsync("SETEX", k2, "36000", "a"));
        Assert.Equal(Ok, await Cli("n3").CallAsync("PSETEX", k3, "36000000", "b"));
        Assert.Equal(Ok, await Cli("n1").CallAsync("KV.PUT", kv, "c", "TTL", "36000000"));
        foreach (var key in new[] { k2, k3, kv }) Assert.InRange(Integer(await Cli("n2").CallAsync("TTL", key)), 35_990, 36_000);

        // An absent key: -2, and nothing to expire or persist.
        Assert.Equal(new CliInteger(-2), await Cli("n1").CallAsync("TTL", missing));
        Assert.Equal(new CliInteger(-2), await Cli("n1").CallAsync("PTTL", missing));
        Assert.Equal(new CliInteger(0), await Cli("n2").CallAsync("EXPIRE", missing, "10"));
        Assert.Equal(new CliInteger(0), await Cli("n3").CallAsync("PERSIST", missing));
        Assert.Equal(new CliNil(), await Cli("n3").CallAsync("GET", missing));

        // A deadline not in the future deletes the key, as in Redis.
        Assert.Equal(new CliInteger(1), await Cli("n2").CallAsync("EXPIRE", k2, "0"));
        Assert.Equal(new CliNil(), await Cli("n1").CallAsync("GET", k2));
        Assert.Equal(new CliInteger(1), await Cli("n3").CallAsync("PEXPIREAT", k3, "1"));
        Assert.Equal(new CliInteger(0), await Cli("n1").CallAsync("EXISTS", k3));
    }

    [Fact]
    public async Task A_key_that_expires_reads_as_not_found_and_is_not_listed_on_every_node()
    {
        string k = Key("expiring"), kept = Key("expiring-kept");
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", k, "soon", "PX", "4000"));
        Assert.Equal(Ok, await Cli("n1").CallAsync("SET", kept, "stays"));
        Assert.Equal(new CliBulk("soon"), await Cli("n2").CallAsync("GET", k));
        foreach (var node in _cluster.Names)
            await UntilAsync($"{k} expired on {node}", async () => await Cli(node).CallAsync("GET", k) is CliNil, TimeSpan.FromSeconds(30));
        foreach (var node in _cluster.Names)
        {
            Assert.Equal(new CliInteger(-2), await Cli(node).CallAsync("TTL", k));
            Assert.Equal(new CliInteger(1), await Cli(node).CallAsync("EXISTS", k, kept));
            Assert.Equal(new CliArray([new CliBulk(kept)]), await Cli(node).CallAsync("KEYS", Key("expiring*")));
            Assert.Equal(new CliArray([new CliNil(), new CliBulk("stays")]), await Cli(node).CallAsync("MGET", k, kept));
        }
        // The expired version is superseded by the next write, which has no deadline.
        Assert.Equal(Ok, await Cli("n3").CallAsync("SET", k, "again"));
        Assert.Equal(new CliBulk("again"), await Cli("n1").CallAsync("GET", k));
        Assert.Equal(new CliInteger(-1), await Cli("n2").CallAsync("TTL", k));
    }

    [Fact]
    public async Task StackExchange_Redis_expiry_calls_work_through_different_nodes()
    {
        await using var r1 = await RedisAsync("n1");
        await using var r2 = await RedisAsync("n2");
        await using var r3 = await RedisAsync("n3");
        IDatabase n1 = r1.GetDatabase(), n2 = r2.GetDatabase(), n3 = r3.GetDatabase();
        RedisKey k = Key("se-ttl"), quick = Key("se-quick");

        Assert.True(await n1.StringSetAsync(k, "v", TimeSpan.FromSeconds(100)));
        Assert.InRange(await n2.KeyTimeToLiveAsync(k) ?? TimeSpan.Zero, TimeSpan.FromSeconds(95), TimeSpan.FromSeconds(100));
        Assert.True(await n3.KeyExpireAsync(k, TimeSpan.FromMilliseconds(60_500)));
        Assert.InRange(await n1.KeyTimeToLiveAsync(k) ?? TimeSpan.Zero, TimeSpan.FromSeconds(55), TimeSpan.FromMilliseconds(60_500));
        Assert.True(await n2.KeyExpireAsync(k, DateTime.UtcNow.AddSeconds(300)));
        Assert.InRange(await n3.KeyTimeToLiveAsync(k) ?? TimeSpan.Zero, TimeSpan.FromSeconds(290), TimeSpan.FromSeconds(301));
        Assert.True(await n3.KeyPersistAsync(k));
        Assert.Null(await n1.KeyTimeToLiveAsync(k));
        Assert.Equal("v", (string?)await n2.StringGetAsync(k));

        Assert.True(await n1.StringSetAsync(quick, "q", TimeSpan.FromMilliseconds(4000)));
        Assert.Equal("q", (string?)await n3.StringGetAsync(quick));
        foreach (var db in new[] { n1, n2, n3 })
            await UntilAsync($"{quick} expired", async () => (await db.StringGetAsync(quick)).IsNull, TimeSpan.FromSeconds(30));
        Assert.False(await n2.KeyExpireAsync(quick, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task The_NET_client_writes_with_a_TTL_reads_the_deadline_and_changes_it()
    {
        await using var client = _cluster.Client("n2");
        var key = Bytes.FromUtf8(Key("client-ttl"));
        var before = DateTimeOffset.UtcNow;
        await client.PutAsync(key, Bytes.FromUtf8("v"), TimeSpan.FromSeconds(100));
        var read = await client.GetAsync(key);
        Assert.True(read.Found);
        Assert.InRange(read.ExpiresAt!.Value, before.AddSeconds(99), DateTimeOffset.UtcNow.AddSeconds(101));

        Assert.True(await client.ExpireAsync(key, null));
        Assert.Null((await client.GetAsync(key)).ExpiresAt);
        Assert.False(await client.ExpireAsync(key, null));
        Assert.True(await client.ExpireAsync(key, TimeSpan.FromMilliseconds(3000)));
        await UntilAsync("the client's key expired", async () => !(await client.GetAsync(key)).Found, TimeSpan.FromSeconds(30));
        Assert.False(await client.ExpireAsync(key, TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.PutAsync(key, Bytes.FromUtf8("v"), TimeSpan.Zero));
    }

    [Fact]
    public async Task Bad_expiry_arguments_get_Redis_errors_and_change_nothing()
    {
        var cli = Cli("n3");
        string k = Key("ttl-bad");
        Assert.Equal(Ok, await cli.CallAsync("SET", k, "v", "EX", "36000"));

        async Task Refused(string expected, params string[] command)
        {
            var error = Assert.IsType<CliError>(await cli.CallAsync(command));
            Assert.StartsWith(expected, error.Message);
        }
        await Refused("ERR invalid expire time in 'set' command", "SET", k, "w", "EX", "0");
        await Refused("ERR invalid expire time in 'set' command", "SET", k, "w", "PX", "-5");
        await Refused("ERR value is not an integer or out of range", "SET", k, "w", "EX", "ten");
        await Refused("ERR value is not an integer or out of range", "SETEX", k, "ten", "w");
        await Refused("ERR invalid expire time in 'set' command", "SET", k, "w", "EX", "9223372036854775807");
        await Refused("ERR syntax error", "SET", k, "w", "EX", "10", "PX", "10");
        await Refused("ERR syntax error", "SET", k, "w", "EX");
        await Refused("ERR syntax error", "SET", k, "w", "EX", "10", "KEEPTTL");
        await Refused("ERR SET NX is not supported: it needs a linearizable store", "SET", k, "w", "NX");
        await Refused("ERR SET XX is not supported: it needs a linearizable store", "SET", k, "w", "XX");
        await Refused("ERR invalid expire time in 'setex' command", "SETEX", k, "0", "w");
        await Refused("ERR invalid expire time in 'psetex' command", "PSETEX", k, "-1", "w");
        await Refused("ERR wrong number of arguments for 'setex' command", "SETEX", k, "10");
        await Refused("ERR value is not an integer or out of range", "EXPIRE", k, "soon");
        await Refused("ERR invalid expire time in 'expire' command", "EXPIRE", k, "9223372036854775807");
        await Refused("ERR invalid expire time in 'pexpire' command", "PEXPIRE", k, "9223372036854775807");
        await Refused("ERR NX and XX, GT or LT options at the same time are not compatible", "EXPIRE", k, "10", "NX", "XX");
        await Refused("ERR GT and LT options at the same time are not compatible", "EXPIRE", k, "10", "GT", "LT");
        await Refused("ERR Unsupported option foo", "EXPIRE", k, "10", "foo");
        await Refused("ERR Unsupported option foo", "EXPIRE", k, "10", "NX", "XX", "foo");
        await Refused("ERR wrong number of arguments for 'ttl' command", "TTL");
        await Refused("ERR wrong number of arguments for 'persist' command", "PERSIST", k, k);
        await Refused("ERR value of TTL is not a positive number of milliseconds", "KV.PUT", k, "w", "TTL", "0");
        await Refused("ERR value of TTL is not a positive number of milliseconds", "KV.PUT", k, "w", "TTL", "-1");

        // Nothing changed: the value and its deadline are as written, and the node still serves.
        Assert.Equal(new CliBulk("v"), await Cli("n1").CallAsync("GET", k));
        Assert.InRange(Integer(await Cli("n2").CallAsync("TTL", k)), 35_990, 36_000);
        Assert.Equal(new CliStatus("PONG"), await cli.CallAsync("PING"));
    }
}
