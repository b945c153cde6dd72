using AkkaKv.Client;
using AkkaKv.Transactions;
using StackExchange.Redis;
using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Single-key transactions (README, "Transactions") on the live 3-node cluster of
/// <see cref="RespEndToEndTests"/>: MULTI/EXEC/DISCARD through redis-cli on one connection, with
/// Redis's replies (each command's reply in EXEC's array, an error inline, EXECABORT after a
/// command refused while queueing); a transaction across keys refused at EXEC; WATCH refused with
/// why; StackExchange.Redis transactions on RESP2 and RESP3; the .NET client; and transactions of
/// increments through every node at once, each seeing its own increments together and all counting.
/// </summary>
public sealed partial class RespEndToEndTests
{
    /// <summary>What redis-cli printed, reply line by reply line (less the "(0.74s)" it adds after a slow command).</summary>
    private static string[] ReplyLines(string printed) =>
        printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !System.Text.RegularExpressions.Regex.IsMatch(l, @"^\(\d+(\.\d+)?s\)$")).ToArray();

    private static void AssertLines(string printed, params string[] expected) => Assert.Equal(expected, ReplyLines(printed));

    [Fact]
    public async Task Redis_cli_transactions_apply_one_key_as_one_write_and_refuse_what_they_cannot()
    {
        string k = Key("txn"), h = Key("txn-hash"), a = Key("txn-a"), b = Key("txn-b");
        const string wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

        var lines = ReplyLines(await Cli("n1").ScriptAsync("MULTI", $"SET {k} 10 EX 100", $"INCRBY {k} 5", $"GET {k}", $"TTL {k}", $"HSET {k} f v", $"TYPE {k}", "EXEC"));
        Assert.Equal(["OK", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "1) OK", "2) (integer) 15", "3) \"15\""], lines[..10]);
        Assert.InRange(long.Parse(lines[10].Replace("4) (integer) ", "")), 90, 100);
        Assert.Equal([$"5) (error) {wrongType}", "6) string"], lines[11..]);
        // Written as one version: every node reads all of it.
        Assert.Equal(new CliBulk("15"), await Cli("n2").CallAsync("GET", k));
        Assert.InRange(Integer(await Cli("n3").CallAsync("TTL", k)), 90, 100);

        // DISCARD drops what was queued.
        AssertLines(await Cli("n2").ScriptAsync("MULTI", $"SET {k} 1", "DISCARD", $"GET {k}"), "OK", "QUEUED", "OK", "\"15\"");
        // A transaction across keys is refused at EXEC, and nothing of it is written.
        var cross = ReplyLines(await Cli("n3").ScriptAsync("MULTI", $"SET {a} 1", $"SET {b} 2", "EXEC", $"GET {a}"));
        Assert.Equal(["OK", "QUEUED", "QUEUED"], cross[..3]);
        Assert.StartsWith("(error) ERR EXEC refused: the transaction touches 2 keys", cross[3]);
        Assert.Contains("queue each key's commands in their own MULTI/EXEC", cross[3]);
        Assert.Equal("(nil)", cross[4]);
        // A command refused while queueing (arity, one that spans keys) aborts the whole transaction, as Redis.
        var aborted = ReplyLines(await Cli("n1").ScriptAsync("MULTI", $"SET {k}", $"INCR {k}", "KEYS *", "EXEC", $"GET {k}"));
        Assert.Equal(["OK", "(error) ERR wrong number of arguments for 'set' command", "QUEUED"], aborted[..3]);
        Assert.StartsWith("(error) ERR 'keys' cannot be queued in a transaction", aborted[3]);
        Assert.Equal(["(error) EXECABORT Transaction discarded because of previous errors.", "\"15\""], aborted[4..]);
        // After a refused WATCH, the next EXEC is refused too (nothing runs unwatched); UNWATCH clears it.
        var unwatched = ReplyLines(await Cli("n3").ScriptAsync($"WATCH {k}", "MULTI", $"INCR {k}", "EXEC", $"WATCH {k}", "UNWATCH", "MULTI", $"GET {k}", "EXEC"));
        Assert.StartsWith("(error) ERR WATCH is not supported", unwatched[0]);
        Assert.Equal(["OK", "QUEUED"], unwatched[1..3]);
        Assert.StartsWith("(error) EXECABORT Transaction discarded: this connection sent WATCH", unwatched[3]);
        Assert.StartsWith("(error) ERR WATCH is not supported", unwatched[4]);
        Assert.Equal(["OK", "OK", "QUEUED", "1) \"15\""], unwatched[5..]);
        // Inside MULTI, WATCH is an error that leaves the transaction as it is, and UNWATCH is queued
        // (it cannot lift a refused WATCH), as Redis.
        var inside = ReplyLines(await Cli("n1").ScriptAsync("MULTI", $"WATCH {k}", "UNWATCH", $"GET {k}", "EXEC", $"WATCH {k}", "MULTI", "UNWATCH", $"INCR {k}", "EXEC", $"GET {k}"));
        Assert.Equal(["OK", "(error) ERR WATCH inside MULTI is not allowed", "QUEUED", "QUEUED", "1) OK", "2) \"15\""], inside[..6]);
        Assert.StartsWith("(error) ERR WATCH is not supported", inside[6]);
        Assert.Equal(["OK", "QUEUED", "QUEUED"], inside[7..10]);
        Assert.StartsWith("(error) EXECABORT Transaction discarded: this connection sent WATCH", inside[10]);
        Assert.Equal("\"15\"", inside[11]);
        // Bad arguments are the command's reply inside EXEC, as Redis: the rest applies.
        AssertLines(await Cli("n1").ScriptAsync("MULTI", $"INCRBY {k} ten", $"SET {k} 16 EX 0", $"EXPIRE {k} soon", $"SET {k} 16 NX", $"HINCRBY {k} f 1.5", $"INCRBY {k} 1", "EXEC", "MULTI extra"),
            "OK", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED",
            "1) (error) ERR value is not an integer or out of range", "2) (error) ERR invalid expire time in 'set' command",
            "3) (error) ERR value is not an integer or out of range",
            "4) (error) ERR SET NX is not supported: it needs a linearizable store, and AkkaKv stays available under partitions instead (two sides could both see the key absent); read with KV.GET and write with KV.PUT key value CONTEXT ctx, which replaces exactly what you read and keeps concurrent writes as siblings",
            "5) (error) ERR value is not an integer or out of range", "6) (integer) 16",
            "(error) ERR wrong number of arguments for 'multi' command");
        // WATCH is refused with why; EXEC and DISCARD need MULTI; MULTI does not nest.
        var control = ReplyLines(await Cli("n2").ScriptAsync($"WATCH {k}", "EXEC", "DISCARD", "MULTI", "MULTI", "DISCARD", "MULTI", "EXEC"));
        Assert.StartsWith("(error) ERR WATCH is not supported: optimistic locking needs a linearizable store", control[0]);
        Assert.Contains("KV.PUT key value CONTEXT ctx", control[0]);
        Assert.Equal(["(error) ERR EXEC without MULTI", "(error) ERR DISCARD without MULTI", "OK", "(error) ERR MULTI calls can not be nested", "OK", "OK", "(empty array)"], control[1..]);

        // A hash in a transaction: each command sees the ones before it.
        AssertLines(await Cli("n3").ScriptAsync("MULTI", $"HSET {h} a 1 b 2", $"HINCRBY {h} a 10", $"HDEL {h} b", $"HGETALL {h}", $"EXPIRE {h} 100", "PING", "EXEC"),
            "OK", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED",
            "1) (integer) 2", "2) (integer) 11", "3) (integer) 1", "4) 1) \"a\"", "   2) \"11\"", "5) (integer) 1", "6) PONG");
        Assert.Equal(Bulks("a", "11"), await Cli("n1").CallAsync("HGETALL", h));
        Assert.InRange(Integer(await Cli("n2").CallAsync("TTL", h)), 90, 100);
        // DEL and a later INCR in one transaction: the counter starts over, as Redis.
        AssertLines(await Cli("n1").ScriptAsync("MULTI", $"DEL {k}", $"INCR {k}", $"TTL {k}", "EXEC"),
            "OK", "QUEUED", "QUEUED", "QUEUED", "1) (integer) 1", "2) (integer) 1", "3) (integer) -1");
        Assert.Equal(new CliBulk("1"), await Cli("n3").CallAsync("GET", k));
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task StackExchange_Redis_and_the_NET_client_run_transactions(RedisProtocol protocol)
    {
        await using var r1 = await RedisAsync("n1", protocol);
        await using var r2 = await RedisAsync("n2", protocol);
        IDatabase n1 = r1.GetDatabase(), n2 = r2.GetDatabase();
        RedisKey k = Key($"se-txn-{protocol}"), h = Key($"se-txn-hash-{protocol}"), other = Key($"se-txn-other-{protocol}");

        var txn = n1.CreateTransaction();
        var set = txn.StringSetAsync(k, "5", TimeSpan.FromSeconds(100));
        var incr = txn.StringIncrementAsync(k, 2);
        var get = txn.StringGetAsync(k);
        var hashSet = txn.HashSetAsync(k, "f", "v");
        Assert.True(await txn.ExecuteAsync());
        Assert.True(await set);
        Assert.Equal(7, await incr);
        Assert.Equal("7", (string?)await get);
        var wrong = await Assert.ThrowsAsync<RedisServerException>(() => hashSet);
        Assert.StartsWith("WRONGTYPE", wrong.Message);
        Assert.Equal("7", (string?)await n2.StringGetAsync(k));
        Assert.InRange(await n2.KeyTimeToLiveAsync(k) ?? TimeSpan.Zero, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(100));

        var hash = n2.CreateTransaction();
        var added = hash.HashSetAsync(h, [new HashEntry("a", "1"), new HashEntry("b", "2")]);
        var count = hash.HashIncrementAsync(h, "a", 4);
        var all = hash.HashGetAllAsync(h);
        Assert.True(await hash.ExecuteAsync());
        await added;
        Assert.Equal(5, await count);
        Assert.Equal(["a=5", "b=2"], (await all).Select(e => $"{e.Name}={e.Value}").Order());

        // A condition needs WATCH, which is refused, and so is the EXEC after it: the transaction
        // never runs as if the key had been watched. One across keys is refused at EXEC.
        var watched = n1.CreateTransaction();
        watched.AddCondition(Condition.KeyExists(k));
        var watchedIncr = watched.StringIncrementAsync(k);
        var watch = await Assert.ThrowsAsync<RedisServerException>(() => watched.ExecuteAsync());
        Assert.StartsWith("EXECABORT", watch.Message);
        Assert.Contains("linearizable", watch.Message);
        await Assert.ThrowsAnyAsync<Exception>(() => watchedIncr);
        Assert.Equal("7", (string?)await n2.StringGetAsync(k));
        var across = n1.CreateTransaction();
        _ = across.StringSetAsync(k, "8");
        _ = across.StringSetAsync(other, "9");
        var refused = await Assert.ThrowsAnyAsync<RedisException>(() => across.ExecuteAsync());
        Assert.Contains("one key", refused.ToString());
        Assert.Equal("7", (string?)await n2.StringGetAsync(k));
        Assert.False(await n2.KeyExistsAsync(other));

        // The .NET client: the same key, one transaction.
        await using var client = _cluster.Client("n3");
        var results = await client.TransactionAsync(Bytes.FromUtf8(k.ToString()),
            [KeyOp.Increment(10), KeyOp.Read(), KeyOp.Persist(), KeyOp.Of(Hashes.HashOp.Set((Bytes.FromUtf8("f"), Bytes.FromUtf8("v"))))]);
        Assert.Equal(17, results[0].Number);
        Assert.Equal(KeyType.String, results[1].Read!.Type);
        Assert.Equal("17", results[1].Read!.Value.ToUtf8());
        Assert.Equal(1, results[2].Number);
        Assert.StartsWith("Operation against a key holding the wrong kind", results[3].Error);
        Assert.Equal("17", (string?)await n1.StringGetAsync(k));
        Assert.Null(await n1.KeyTimeToLiveAsync(k));
    }

    [Fact]
    public async Task Transactions_of_increments_through_every_node_see_their_own_increments_together_and_all_count()
    {
        // Two clients per node, each running transactions of INCRBY 1, INCRBY 2, GET on one key at
        // once: inside each, the replies are consecutive (one write), and the final number is the
        // sum of the acknowledged ones (bounded above by the ones whose outcome is unknown).
        var k = Key("txn-concurrent");
        var nodes = new[] { "n1", "n2", "n3" };
        var connections = await Task.WhenAll(nodes.Select(n => RedisAsync(n)));
        long acknowledged = 0, unknown = 0;
        try
        {
            await Task.WhenAll(connections.SelectMany(c => Enumerable.Range(0, 2).Select(async _ =>
            {
                var db = c.GetDatabase();
                for (var i = 0; i < 8; i++)
                {
                    var txn = db.CreateTransaction();
                    var one = txn.StringIncrementAsync(k, 1);
                    var two = txn.StringIncrementAsync(k, 2);
                    var get = txn.StringGetAsync(k);
                    try
                    {
                        Assert.True(await txn.ExecuteAsync());
                    }
                    catch (RedisException e)
                    {
                        _output.WriteLine($"transaction failed, outcome unknown: {e.Message}");
                        Interlocked.Add(ref unknown, 3);
                        continue;
                    }
                    var first = await one;
                    Assert.Equal(first + 2, await two);
                    Assert.Equal((first + 2).ToString(), (string?)await get);
                    Interlocked.Add(ref acknowledged, 3);
                }
            })));
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }
        Assert.True(acknowledged > 0);
        foreach (var node in nodes)
            Assert.InRange(long.Parse(Assert.IsType<CliBulk>(await Cli(node).CallAsync("GET", k)).Value), acknowledged, acknowledged + unknown);
    }
}
