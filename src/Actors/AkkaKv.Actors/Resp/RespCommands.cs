using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using AkkaKv.Coordination;
using AkkaKv.Protocol;
using AkkaKv.Codec;

namespace AkkaKv.Resp;

/// <summary>A command the gateway knows, with the metadata <c>COMMAND</c> reports (Redis's arity rule: n exact, -n at least n).</summary>
internal sealed record RespCommand(
    string Name, int Arity, CommandKind Kind, string[] Flags, int FirstKey, int LastKey, int Step,
    Func<RespCall, Task<RespValue>> Run, bool ClosesConnection = false);

/// <summary>
/// The commands of the RESP gateway: a thin translation onto the gateway's Get/Put/Delete/GetStatus
/// protocol (the same coordinators and quorums as the .NET client) plus the connection commands
/// clients send on connect. Semantics (see README, "Speaking Redis"):
/// <list type="bullet">
/// <item>SET carries no causal context and supersedes what the coordinating replica holds (the
/// request's Overwrite option): sequential blind writes never pile up siblings.</item>
/// <item>GET of a key with concurrent siblings returns the newest by the wall clock of the replica
/// that minted it, ties broken by version order (the last of <see cref="GetSuccess.Values"/>); KV.GET
/// shows them all.</item>
/// <item>DEL and EXISTS read each key at the default R; DEL then deletes exactly what it read.</item>
/// </list>
/// </summary>
internal static partial class RespCommands
{
    /// <summary>The Redis version the gateway answers as, for clients that gate features on it.</summary>
    public const string RedisCompatibleVersion = "7.0.0";

    public static readonly string AkkaKvVersion =
        typeof(RespCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static readonly TimeSpan AskGrace = NodeTimings.RespAskGrace;

    public static readonly FrozenDictionary<string, RespCommand> Table = new RespCommand[]
    {
        new("PING", -1, CommandKind.Connection, ["fast", "stale"], 0, 0, 0, Ping),
        new("ECHO", 2, CommandKind.Connection, ["fast"], 0, 0, 0, c => Done(new RespBulk(c.Args[1]))),
        new("QUIT", -1, CommandKind.Connection, ["fast", "noscript"], 0, 0, 0, _ => Done(RespValue.Ok), ClosesConnection: true),
        new("HELLO", -1, CommandKind.Connection, ["fast", "noscript", "loading", "stale", "no_auth"], 0, 0, 0, Hello),
        new("AUTH", -2, CommandKind.Connection, ["fast", "noscript", "loading", "stale", "no_auth"], 0, 0, 0, Auth),
        new("SELECT", 2, CommandKind.Connection, ["fast", "loading", "stale"], 0, 0, 0, Select),
        new("CLIENT", -2, CommandKind.Connection, ["noscript", "loading", "stale"], 0, 0, 0, Client),
        new("COMMAND", -1, CommandKind.Connection, ["loading", "stale"], 0, 0, 0, Command),
        new("CONFIG", -2, CommandKind.Connection, ["admin", "noscript", "loading", "stale"], 0, 0, 0, Config),
        new("ROLE", 1, CommandKind.Connection, ["noscript", "loading", "stale", "fast"], 0, 0, 0, _ =>
            Done(RespValue.Array(RespValue.Bulk("master"), RespValue.Integer(0), RespValue.Array()))),
        new("INFO", -1, CommandKind.Read, ["loading", "stale"], 0, 0, 0, Info),
        new("GET", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, GetCmd),
        new("MGET", -2, CommandKind.Read, ["readonly", "fast"], 1, -1, 1, MGet),
        new("EXISTS", -2, CommandKind.Read, ["readonly", "fast"], 1, -1, 1, Exists),
        new("SET", -3, CommandKind.Write, ["write", "denyoom"], 1, 1, 1, SetCmd),
        new("SETEX", 4, CommandKind.Write, ["write", "denyoom"], 1, 1, 1, SetEx),
        new("PSETEX", 4, CommandKind.Write, ["write", "denyoom"], 1, 1, 1, SetEx),
        new("EXPIRE", -3, CommandKind.Write, ["write", "fast"], 1, 1, 1, ExpireCmd),
        new("PEXPIRE", -3, CommandKind.Write, ["write", "fast"], 1, 1, 1, ExpireCmd),
        new("EXPIREAT", -3, CommandKind.Write, ["write", "fast"], 1, 1, 1, ExpireCmd),
        new("PEXPIREAT", -3, CommandKind.Write, ["write", "fast"], 1, 1, 1, ExpireCmd),
        new("PERSIST", 2, CommandKind.Write, ["write", "fast"], 1, 1, 1, Persist),
        new("TTL", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, TtlCmd),
        new("PTTL", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, TtlCmd),
        new("EXPIRETIME", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, TtlCmd),
        new("PEXPIRETIME", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, TtlCmd),
        new("INCR", 2, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, IncrCmd),
        new("DECR", 2, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, IncrCmd),
        new("INCRBY", 3, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, IncrCmd),
        new("DECRBY", 3, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, IncrCmd),
        new("TYPE", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, TypeCmd),
        new("HSET", -4, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, HSet),
        new("HMSET", -4, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, HSet),
        new("HGET", 3, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, HGet),
        new("HMGET", -3, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, HMGet),
        new("HGETALL", 2, CommandKind.Read, ["readonly"], 1, 1, 1, HGetAll),
        new("HKEYS", 2, CommandKind.Read, ["readonly"], 1, 1, 1, HKeys),
        new("HVALS", 2, CommandKind.Read, ["readonly"], 1, 1, 1, HVals),
        new("HLEN", 2, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, HLen),
        new("HEXISTS", 3, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, HExists),
        new("HSTRLEN", 3, CommandKind.Read, ["readonly", "fast"], 1, 1, 1, HStrLen),
        new("HDEL", -3, CommandKind.Write, ["write", "fast"], 1, 1, 1, HDel),
        new("HINCRBY", 4, CommandKind.Write, ["write", "denyoom", "fast"], 1, 1, 1, HIncrBy),
        new("MSET", -3, CommandKind.Write, ["write", "denyoom"], 1, -1, 2, MSet),
        new("DEL", -2, CommandKind.Write, ["write"], 1, -1, 1, Del),
        // Redis's non-blocking DEL; StackExchange.Redis's KeyDelete sends it. Deletes are never blocking here.
        new("UNLINK", -2, CommandKind.Write, ["write", "fast"], 1, -1, 1, Del),
        new("SCAN", -2, CommandKind.Read, ["readonly"], 0, 0, 0, ScanCmd),
        new("KEYS", 2, CommandKind.Read, ["readonly"], 0, 0, 0, KeysCmd),
        new("DBSIZE", 1, CommandKind.Read, ["readonly", "fast"], 0, 0, 0, DbSize),
        new("MULTI", 1, CommandKind.Connection, ["noscript", "loading", "stale", "fast"], 0, 0, 0, Multi),
        new("EXEC", 1, CommandKind.Write, ["noscript", "loading", "stale", "skip_slowlog"], 0, 0, 0, Exec),
        new("DISCARD", 1, CommandKind.Connection, ["noscript", "loading", "stale", "fast"], 0, 0, 0, Discard),
        new("WATCH", -2, CommandKind.Connection, ["noscript", "loading", "stale", "fast"], 1, -1, 1, Watch),
        // Nothing is ever watched: UNWATCH only lets EXEC run again after a refused WATCH.
        new("UNWATCH", 1, CommandKind.Connection, ["noscript", "loading", "stale", "fast"], 0, 0, 0, Unwatch),
        new("KV.GET", -2, CommandKind.Read, ["readonly"], 1, 1, 1, KvGet),
        new("KV.PUT", -3, CommandKind.Write, ["write", "denyoom"], 1, 1, 1, KvPut),
        new("KV.DEL", -2, CommandKind.Write, ["write"], 1, 1, 1, KvDel),
        new("KV.STATUS", 1, CommandKind.Read, ["readonly"], 0, 0, 0, KvStatus),
    }.ToFrozenDictionary(c => c.Name);

    private static Task<RespValue> Done(RespValue value) => Task.FromResult(value);

    // ---- store commands -------------------------------------------------------------------------

    private static async Task<IGetResponse> Read(RespCall c, Bytes key, RequestOptions options) =>
        // Inside EXEC, a read command runs on what the transaction's read saw.
        c.Preread ?? await Ask(c, new Get(key, options), options) switch
        {
            IGetResponse r => r,
            var other => new RequestFailed(key, $"unexpected reply {other.GetType().Name}", 0, 0),
        };

    private static async Task<IWriteResponse> Write(RespCall c, IKvRequest request) =>
        await Ask(c, request, request.Options) switch
        {
            IWriteResponse r => r,
            var other => new RequestFailed(request.Key, $"unexpected reply {other.GetType().Name}", 0, 0),
        };

    private static Task<object> Ask(RespCall c, IKvMessage request, RequestOptions options) =>
        c.Session.Backend.RequestAsync(request, (options.Timeout ?? c.Session.Node.Settings.RequestTimeout) + AskGrace);

    /// <summary>Sends the write and answers <paramref name="ok"/> once it is acknowledged, or the failure.</summary>
    private static async Task<RespValue> WriteReply(RespCall c, IKvRequest request, RespValue ok) => await Write(c, request) switch
    {
        WriteSuccess => ok,
        RequestFailed f => Fail(f),
        _ => RespValue.Error("ERR unexpected reply"),
    };

    /// <summary>Concurrent siblings resolve to the newest write (wall clock of its coordinating replica, then version order).</summary>
    private static RespValue PlainValue(IGetResponse r, bool hashAsNull = false) => r switch
    {
        // As Redis: GET of a hash is an error; MGET answers nil for it.
        GetSuccess { IsHash: true } => hashAsNull ? RespValue.Null : WrongType,
        GetSuccess s when s.Values.Count > 0 => new RespBulk(s.Values[^1]),
        GetSuccess or NotFound => RespValue.Null,
        RequestFailed f => Fail(f),
        _ => RespValue.Error("ERR unexpected reply"),
    };

    private static async Task<RespValue> GetCmd(RespCall c) => PlainValue(await Read(c, c.Args[1], RequestOptions.Default));

    /// <summary>Keys MGET reads at once; after each batch the reply's size so far is checked against <c>resp.max-reply-bytes</c>.</summary>
    private const int MGetBatch = 256;

    private static async Task<RespValue> MGet(RespCall c)
    {
        // Each distinct key is read once; a key named twice answers twice with the same value.
        var keys = c.Args.Skip(1).ToArray();
        // Distinct keys in order of first mention, with how many times each is named.
        var times = keys.GroupBy(k => k).ToDictionary(g => g.Key, g => (long)g.Count());
        var replies = new Dictionary<Bytes, IGetResponse>();
        long replyBytes = 0;
        var limit = c.Session.Node.Settings.RespMaxReplyBytes;
        foreach (var batch in times.Keys.Chunk(MGetBatch))
        {
            var read = await Task.WhenAll(batch.Select(k => Read(c, k, RequestOptions.Default)));
            for (var i = 0; i < batch.Length; i++)
            {
                if (read[i] is RequestFailed failed)
                    return RespValue.Error($"ERR MGET failed for key '{RespSession.Show(failed.Key)}': {failed.Reason}");
                replies[batch[i]] = read[i];
                if (read[i] is GetSuccess { Values.Count: > 0 } s) replyBytes += s.Values[^1].Length * times[batch[i]];
            }
            if (replyBytes > limit)
                return RespValue.Error($"ERR the reply would exceed {limit} bytes (akka-kv.resp.max-reply-bytes): MGET fewer or smaller keys");
        }
        return RespValue.Array(keys.Select(k => PlainValue(replies[k], hashAsNull: true)));
    }

    private static async Task<RespValue> Exists(RespCall c)
    {
        var keys = c.Args.Skip(1).ToArray();
        var distinct = keys.Distinct().ToArray();
        var replies = await Task.WhenAll(distinct.Select(k => Read(c, k, RequestOptions.Default)));
        if (replies.OfType<RequestFailed>().FirstOrDefault() is { } failed)
            return RespValue.Error($"ERR EXISTS failed for key '{RespSession.Show(failed.Key)}': {failed.Reason}");
        var found = distinct.Where((_, i) => replies[i] is GetSuccess).ToHashSet();
        // As Redis: a key named twice counts twice.
        return RespValue.Integer(keys.Count(found.Contains));
    }

    private static Task<RespValue> SetCmd(RespCall c)
    {
        var options = Enumerable.Range(3, c.Args.Length - 3).Select(c.Arg).ToArray();
        return ParseSetOptions(options, out var expiry) is { } error ? Done(error) : SetWithExpiry(c, c.Args[1], c.Args[2], expiry);
    }

    private static async Task<RespValue> MSet(RespCall c)
    {
        if (c.Args.Length % 2 != 1) return RespValue.Error("ERR wrong number of arguments for 'mset' command");
        var puts = Enumerable.Range(0, (c.Args.Length - 1) / 2)
            .Select(i => new Put(c.Args[1 + 2 * i], c.Args[2 + 2 * i], null, new RequestOptions(Overwrite: true)))
            // A key named twice: as Redis, the last value wins (one write per key, no sibling of itself).
            .GroupBy(p => p.Key).Select(g => g.Last()).ToArray();
        var replies = await Task.WhenAll(puts.Select(p => Write(c, p)));
        var failed = replies.OfType<RequestFailed>().ToArray();
        if (failed.Length == 0) return RespValue.Ok;
        return RespValue.Error($"ERR MSET is not atomic: {puts.Length - failed.Length} of {puts.Length} keys written; " +
                               string.Join("; ", failed.Take(3).Select(f => $"'{RespSession.Show(f.Key)}': {f.Reason}")));
    }

    private static async Task<RespValue> Del(RespCall c)
    {
        var keys = c.Args.Skip(1).Distinct().ToArray();
        var results = await Task.WhenAll(keys.Select(k => DeleteWhatIsThere(c, k, new RequestOptions())));
        if (results.FirstOrDefault(r => r.Failure is not null) is { Failure: { } failed })
            return RespValue.Error($"ERR {c.Upper(0)} failed for key '{RespSession.Show(failed.Key)}': {failed.Reason}");
        return RespValue.Integer(results.Count(r => r.Deleted));
    }

    /// <summary>Reads the key, then deletes exactly the versions read (a write concurrent with the read survives as a sibling).</summary>
    private static async Task<(bool Deleted, RequestFailed? Failure)> DeleteWhatIsThere(RespCall c, Bytes key, RequestOptions writeOptions)
    {
        switch (await Read(c, key, RequestOptions.Default with { Timeout = writeOptions.Timeout }))
        {
            case RequestFailed f: return (false, f);
            case NotFound: return (false, null);
            case GetSuccess s:
                return await Write(c, new Delete(key, s.Context, writeOptions)) switch
                {
                    WriteSuccess => (true, null),
                    RequestFailed f => (false, f),
                    _ => (false, new RequestFailed(key, "unexpected reply", 0, 0)),
                };
            default: return (false, new RequestFailed(key, "unexpected reply", 0, 0));
        }
    }

    // ---- key listing ----------------------------------------------------------------------------

    /// <summary>Keys a whole listing (KEYS, DBSIZE) asks each replica for per page: the most it gives.</summary>
    private const int ListingPage = Listing.KeyScan.MaxCount;

    private static async Task<object> ScanPage(RespCall c, long cursor, Bytes? match, int count) =>
        await Ask(c, new Scan(cursor, match, count, RequestOptions.Default), RequestOptions.Default);

    /// <summary><c>SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]</c>: one page, as Redis replies it (the next cursor, then the keys).</summary>
    private static async Task<RespValue> ScanCmd(RespCall c)
    {
        if (!long.TryParse(c.Arg(1), NumberStyles.None, CultureInfo.InvariantCulture, out var cursor))
            return RespValue.Error("ERR invalid cursor");
        Bytes? match = null;
        var count = 10;
        string? type = null;
        for (var i = 2; i < c.Args.Length; i += 2)
        {
            if (i + 1 >= c.Args.Length) return RespValue.Error("ERR syntax error");
            switch (c.Upper(i))
            {
                case "MATCH": match = c.Args[i + 1]; break;
                case "COUNT":
                    if (!int.TryParse(c.Arg(i + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out count))
                        return RespValue.Error("ERR value is not an integer or out of range");
                    if (count < 1) return RespValue.Error("ERR syntax error");
                    break;
                case "TYPE": type = c.Arg(i + 1).ToLowerInvariant(); break;
                default: return RespValue.Error("ERR syntax error");
            }
        }
        switch (await ScanPage(c, cursor, match, count))
        {
            case ScanResult r:
                var keys = type is null ? r.Keys.ToList() : await OfType(c, r.Keys, type);
                if (keys is null) return RespValue.Error("ERR SCAN TYPE failed: a key of the page could not be read; retry the same cursor");
                return RespValue.Array(RespValue.Bulk(r.Cursor.ToString(CultureInfo.InvariantCulture)),
                    RespValue.Array(keys.Select(k => (RespValue)new RespBulk(k))));
            case RequestFailed f: return Fail(f);
            default: return RespValue.Error("ERR unexpected reply");
        }
    }

    /// <summary>
    /// The keys of a page whose type (<c>string</c> or <c>hash</c>, as <c>TYPE</c> answers) is
    /// <paramref name="type"/>: each key is read, as Redis's own SCAN TYPE looks at each value.
    /// Null when a read failed. A type no key has (<c>list</c>, <c>set</c>, ...) matches none.
    /// </summary>
    private static async Task<List<Bytes>?> OfType(RespCall c, IReadOnlyList<Bytes> keys, string type)
    {
        if (type is not ("string" or "hash")) return [];
        var kept = new List<Bytes>();
        // A batch at a time, as MGET: the reads of a page hold at most a batch of values at once.
        foreach (var batch in keys.Chunk(MGetBatch))
        {
            var reads = await Task.WhenAll(batch.Select(k => Read(c, k, RequestOptions.Default)));
            if (reads.Any(r => r is RequestFailed)) return null;
            kept.AddRange(batch.Where((_, i) => reads[i] is GetSuccess s && LiveNow(c, s) is not null && s.IsHash == (type == "hash")));
        }
        return kept;
    }

    /// <summary>Partitions a whole listing walks at once (each walk is one partition's pages, in order).</summary>
    private const int ListingParallelism = 8;

    /// <summary>
    /// Walks the whole ring, every partition page by page (<see cref="ListingParallelism"/>
    /// partitions at once), calling <paramref name="onPage"/> with each page's keys (one call at a
    /// time); null when done, else the error to reply.
    /// </summary>
    private static async Task<RespValue?> WalkKeys(RespCall c, Bytes? match, Func<ValueList<Bytes>, RespValue?> onPage)
    {
        var partitioner = new Ring.Partitioner(c.Session.Node.Settings.PartitionCount);
        RespValue? failure = null;
        var gate = new object();
        await Parallel.ForEachAsync(Enumerable.Range(0, partitioner.PartitionCount), new ParallelOptions { MaxDegreeOfParallelism = ListingParallelism },
            async (partition, _) =>
            {
                var cursor = Listing.KeyScan.StartOf(partition, partitioner);
                while (Volatile.Read(ref failure) is null)
                {
                    var reply = await ScanPage(c, cursor, match, ListingPage);
                    lock (gate)
                    {
                        if (failure is not null) return;
                        if (reply is not ScanResult r)
                        {
                            failure = reply is RequestFailed f ? Fail(f) : RespValue.Error("ERR unexpected reply");
                            return;
                        }
                        failure = onPage(r.Keys);
                        if (r.Cursor == 0 || Listing.KeyScan.PartitionOf(r.Cursor, partitioner) != partition) return;
                        cursor = r.Cursor;
                    }
                }
            });
        return failure;
    }

    /// <summary><c>KEYS pattern</c>: every live key that matches, from a walk of the whole ring (O(keys), as in Redis); bounded by resp.max-reply-bytes.</summary>
    private static async Task<RespValue> KeysCmd(RespCall c)
    {
        var keys = new List<RespValue>();
        long bytes = 0;
        var limit = c.Session.Node.Settings.RespMaxReplyBytes;
        var failure = await WalkKeys(c, c.Args[1], page =>
        {
            foreach (var k in page) { keys.Add(new RespBulk(k)); bytes += k.Length + 16; }
            return bytes > limit ? RespValue.Error($"ERR the reply would exceed {limit} bytes (akka-kv.resp.max-reply-bytes): use SCAN") : null;
        });
        return failure ?? RespValue.Array(keys);
    }

    /// <summary><c>DBSIZE</c>: the live keys, counted by a walk of the whole ring (O(keys), where Redis keeps a count).</summary>
    private static async Task<RespValue> DbSize(RespCall c)
    {
        long count = 0;
        var failure = await WalkKeys(c, null, page => { count += page.Count; return null; });
        return failure ?? RespValue.Integer(count);
    }

    // ---- extension commands ---------------------------------------------------------------------

    private static async Task<RespValue> KvGet(RespCall c)
    {
        if (!TryParseOptions(c, 2, ["R", "TIMEOUT"], out var options, out _, out var error)) return error!;
        var reply = await Read(c, c.Args[1], options);
        return reply switch
        {
            // KV.GET shows a string's siblings; a hash's fields are read with HGETALL.
            GetSuccess { IsHash: true } => WrongType,
            GetSuccess s => KvGetReply(s.Values, s.Context, s.Replicas),
            NotFound n => KvGetReply(ValueList<Bytes>.Empty, n.Context, n.Replicas),
            RequestFailed { Replicas: { } replicas } f => RespValue.Error($"ERR {f.Reason}; replicas: " +
                string.Join(", ", replicas.Select(r => $"{r.Node} {StateName(r.State)}"))),
            RequestFailed f => Fail(f),
            _ => RespValue.Error("ERR unexpected reply"),
        };
    }

    private static RespValue KvGetReply(IEnumerable<Bytes> values, string context, IEnumerable<ReplicaReport> replicas) => new RespMap([
        KeyValuePair.Create("siblings", RespValue.Array(values.Select(v => (RespValue)new RespBulk(v)))),
        KeyValuePair.Create("context", RespValue.Bulk(context)),
        KeyValuePair.Create("replicas", RespValue.Array(replicas.OrderBy(r => r.Slot)
            .Select(r => RespValue.Array(RespValue.Bulk(r.Node), RespValue.Bulk(StateName(r.State)))))),
    ]);

    public static string StateName(ReplicaReadState state) => state switch
    {
        ReplicaReadState.Current => "current",
        ReplicaReadState.Stale => "stale",
        ReplicaReadState.NotFound => "notfound",
        ReplicaReadState.Pending => "pending",
        ReplicaReadState.Timeout => "timeout",
        ReplicaReadState.Unreachable => "unreachable",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static async Task<RespValue> KvPut(RespCall c)
    {
        if (!TryParseOptions(c, 3, ["CONTEXT", "W", "SLOPPY", "TIMEOUT", "TTL"], out var options, out var context, out var error, out var ttlMs)) return error!;
        return await WriteReply(c, new Put(c.Args[1], c.Args[2], context, options, ttlMs), RespValue.Ok);
    }

    private static async Task<RespValue> KvDel(RespCall c)
    {
        if (!TryParseOptions(c, 2, ["CONTEXT", "W", "SLOPPY", "TIMEOUT"], out var options, out var context, out var error)) return error!;
        if (context is null)
        {
            var (_, failure) = await DeleteWhatIsThere(c, c.Args[1], options);
            return failure is null ? RespValue.Ok : Fail(failure);
        }
        return await WriteReply(c, new Delete(c.Args[1], context, options), RespValue.Ok);
    }

    private static async Task<RespValue> KvStatus(RespCall c) => await Status(c) switch
    {
        NodeStatus st => RespValue.Bulk(StatusText.Render(st)),
        var other => RespValue.Error("ERR " + other),
    };

    private static async Task<object> Status(RespCall c)
    {
        try
        {
            return await c.Session.Backend.RequestAsync(GetStatus.Instance, c.Session.Node.Settings.RequestTimeout + AskGrace) is NodeStatus st
                ? st : "unexpected reply to a status request";
        }
        catch (TimeoutException)
        {
            return "the node did not report its status in time";
        }
    }

    /// <summary>Parses <c>NAME value</c> pairs from <paramref name="start"/> on, as allowed by <paramref name="allowed"/>.</summary>
    private static bool TryParseOptions(RespCall c, int start, string[] allowed, out RequestOptions options, out string? context, out RespValue? error) =>
        TryParseOptions(c, start, allowed, out options, out context, out error, out _);

    /// <summary>As above, with <c>TTL ms</c> (a positive number of milliseconds; 0 when absent).</summary>
    private static bool TryParseOptions(RespCall c, int start, string[] allowed, out RequestOptions options, out string? context, out RespValue? error, out long ttlMs)
    {
        ttlMs = 0;
        options = RequestOptions.Default;
        context = null;
        error = null;
        var command = c.Upper(0);
        for (var i = start; i < c.Args.Length; i += 2)
        {
            var name = c.Upper(i);
            if (!allowed.Contains(name) || i + 1 >= c.Args.Length)
            {
                error = RespValue.Error($"ERR syntax error: {command} takes {string.Join(" ", allowed.Select(a => $"[{a} {(a == "CONTEXT" ? "ctx" : a == "SLOPPY" ? "0|1" : a is "TIMEOUT" or "TTL" ? "ms" : "n")}]"))}");
                return false;
            }
            var value = c.Arg(i + 1);
            if (name == "CONTEXT") { context = value; continue; }
            if (name == "TTL")
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ttlMs) || ttlMs == 0)
                {
                    error = RespValue.Error("ERR value of TTL is not a positive number of milliseconds");
                    return false;
                }
                continue;
            }
            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                || (name == "SLOPPY" && number > 1))
            {
                error = RespValue.Error($"ERR value of {name} is not {(name == "SLOPPY" ? "0 or 1" : "a non-negative integer")}");
                return false;
            }
            options = name switch
            {
                "R" => options with { R = number },
                "W" => options with { W = number },
                "SLOPPY" => options with { Sloppy = number == 1 },
                _ => options with { Timeout = TimeSpan.FromMilliseconds(number) },
            };
        }
        return true;
    }

    // ---- connection commands --------------------------------------------------------------------

    private static Task<RespValue> Ping(RespCall c) => Done(c.Args.Length switch
    {
        1 => new RespSimple("PONG"),
        2 => new RespBulk(c.Args[1]),
        _ => RespValue.Error("ERR wrong number of arguments for 'ping' command"),
    });

    private static Task<RespValue> Hello(RespCall c)
    {
        var session = c.Session;
        var protocol = session.Protocol;
        if (c.Args.Length > 1)
        {
            if (!int.TryParse(c.Arg(1), NumberStyles.None, CultureInfo.InvariantCulture, out protocol))
                return Done(RespValue.Error("ERR Protocol version is not an integer or out of range"));
            if (protocol is not (2 or 3)) return Done(RespValue.Error("NOPROTO unsupported protocol version"));
        }
        string? name = null;
        var authenticated = session.Authenticated;
        for (var i = 2; i < c.Args.Length; i++)
        {
            var option = c.Upper(i);
            if (option == "AUTH" && i + 2 < c.Args.Length)
            {
                // As Redis: a wrong user or password fails the whole HELLO and changes nothing.
                if (!RespAuth.Check(session.Node.Settings, c.Args[i + 1], c.Args[i + 2])) return Done(RespValue.Error(RespAuth.WrongPass));
                authenticated = true;
                i += 2;
            }
            else if (option == "SETNAME" && i + 1 < c.Args.Length)
            {
                name = c.Arg(++i);
                if (!ValidClientName(name)) return Done(RespValue.Error("ERR Client names cannot contain spaces, newlines or special characters."));
            }
            else return Done(RespValue.Error($"ERR Syntax error in HELLO option '{RespSession.Show(c.Args[i])}'"));
        }
        if (!authenticated) return Done(RespValue.Error(RespAuth.HelloNoAuth));
        session.Authenticated = true;
        session.Protocol = protocol;
        if (name is not null) session.Name = name;
        return Done(new RespMap([
            KeyValuePair.Create("server", RespValue.Bulk("redis")),
            KeyValuePair.Create("version", RespValue.Bulk(RedisCompatibleVersion)),
            KeyValuePair.Create("proto", RespValue.Integer(protocol)),
            KeyValuePair.Create("id", RespValue.Integer(session.Id)),
            KeyValuePair.Create("mode", RespValue.Bulk("standalone")),
            KeyValuePair.Create("role", RespValue.Bulk("master")),
            KeyValuePair.Create("modules", RespValue.Array()),
        ]));
    }

    /// <summary><c>AUTH password</c> or <c>AUTH username password</c>, as Redis 6+ (only the user <c>default</c> exists).</summary>
    private static Task<RespValue> Auth(RespCall c)
    {
        var settings = c.Session.Node.Settings;
        switch (c.Args.Length)
        {
            case 2 when !RespAuth.Required(settings):
                return Done(RespValue.Error(RespAuth.NoPasswordConfigured));
            case 2 or 3:
                var user = c.Args.Length == 3 ? c.Args[1] : Bytes.FromUtf8(RespAuth.DefaultUser);
                if (!RespAuth.Check(settings, user, c.Args[^1])) return Done(RespValue.Error(RespAuth.WrongPass));
                c.Session.Authenticated = true;
                return Done(RespValue.Ok);
            default:
                return Done(RespValue.Error("ERR syntax error"));
        }
    }

    private static bool ValidClientName(string name) => name.All(ch => ch > ' ' && ch <= '~');

    private static Task<RespValue> Select(RespCall c) => Done(c.Arg(1) == "0" ? RespValue.Ok
        : int.TryParse(c.Arg(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? RespValue.Error("ERR DB index is out of range (AkkaKv has one keyspace: database 0)")
            : RespValue.Error("ERR value is not an integer or out of range"));

    private static Task<RespValue> Client(RespCall c)
    {
        var s = c.Session;
        return Done((c.Upper(1), c.Args.Length) switch
        {
            ("SETNAME", 3) => ValidClientName(c.Arg(2)) ? Named(s, c.Arg(2)) : RespValue.Error("ERR Client names cannot contain spaces, newlines or special characters."),
            ("GETNAME", 2) => s.Name is null ? RespValue.Null : RespValue.Bulk(s.Name),
            ("ID", 2) => RespValue.Integer(s.Id),
            ("SETINFO", 4) => RespValue.Ok,
            ("INFO", 2) => RespValue.Bulk(ClientLine(s)),
            ("LIST", 2) => RespValue.Bulk(ClientLine(s)),
            ("NO-EVICT" or "NO-TOUCH", 3) => RespValue.Ok,
            var (sub, _) => RespValue.Error($"ERR unknown subcommand or wrong number of arguments for '{sub.ToLowerInvariant()}'. Try CLIENT HELP."),
        });

        static RespValue Named(RespSession s, string name) { s.Name = name.Length == 0 ? null : name; return RespValue.Ok; }
    }

    private static string ClientLine(RespSession s) =>
        $"id={s.Id} addr={s.RemoteAddress} laddr={s.LocalAddress} name={s.Name ?? ""} db=0 resp={s.Protocol} cmd={s.LastCommand}\n";

    private static Task<RespValue> Command(RespCall c)
    {
        if (c.Args.Length == 1) return Done(RespValue.Array(Table.Values.OrderBy(x => x.Name, StringComparer.Ordinal).Select(Describe)));
        return Done(c.Upper(1) switch
        {
            "COUNT" => RespValue.Integer(Table.Count),
            "LIST" => RespValue.Array(Table.Keys.Order(StringComparer.Ordinal).Select(n => RespValue.Bulk(n.ToLowerInvariant()))),
            "INFO" => RespValue.Array(c.Args.Skip(2).Select(a =>
                Table.TryGetValue(Encoding.ASCII.GetString(a.Span).ToUpperInvariant(), out var cmd) ? Describe(cmd) : RespValue.Null)),
            // Documentation is in the README; clients treat an empty reply as "no docs".
            "DOCS" => new RespMap([]),
            var sub => RespValue.Error($"ERR unknown subcommand '{sub.ToLowerInvariant()}'. Try COMMAND HELP."),
        });
    }

    /// <summary>A COMMAND entry in Redis 7's layout: name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands.</summary>
    private static RespValue Describe(RespCommand cmd) => RespValue.Array(
        RespValue.Bulk(cmd.Name.ToLowerInvariant()),
        RespValue.Integer(cmd.Arity),
        RespValue.Array(cmd.Flags.Select(f => (RespValue)new RespSimple(f))),
        RespValue.Integer(cmd.FirstKey),
        RespValue.Integer(cmd.LastKey),
        RespValue.Integer(cmd.Step),
        RespValue.Array(), RespValue.Array(), RespValue.Array(), RespValue.Array());

    private static Task<RespValue> Config(RespCall c)
    {
        var sub = c.Upper(1);
        if (sub != "GET")
            return Done(RespValue.Error($"ERR CONFIG {sub} is not supported by AkkaKv: configure a node through its HOCON (--config) and restart it"));
        if (c.Args.Length < 3) return Done(RespValue.Error("ERR wrong number of arguments for 'config|get' command"));
        var settings = c.Session.Node.Settings;
        // What a Redis tool may ask about, answered truthfully for this store: every acknowledged
        // write is already in the node's journal (no RDB snapshots to configure), one database,
        // no memory eviction.
        var known = new (string Name, string Value)[]
        {
            ("appendonly", "yes"), ("appendfsync", "always"), ("save", ""), ("databases", "1"), ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"), ("timeout", ((long)settings.RespIdleTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)), ("maxclients", settings.RespMaxConnections.ToString(CultureInfo.InvariantCulture)),
            ("proto-max-bulk-len", settings.RespMaxBulkBytes.ToString(CultureInfo.InvariantCulture)),
            ("port", c.Session.Node.Port.ToString(CultureInfo.InvariantCulture)),
            ("replica-read-only", "yes"), ("slave-read-only", "yes"), ("cluster-enabled", "no"),
        };
        var patterns = c.Args.Skip(2).Select(a => Encoding.UTF8.GetString(a.Span).ToLowerInvariant()).ToArray();
        return Done(new RespMap(known.Where(k => patterns.Any(p => Glob(p, k.Name)))
            .Select(k => KeyValuePair.Create(k.Name, RespValue.Bulk(k.Value))).ToArray()));
    }

    /// <summary>Glob match with <c>*</c> and <c>?</c>, as CONFIG GET patterns.</summary>
    internal static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    private static async Task<RespValue> Info(RespCall c)
    {
        var asked = c.Args.Skip(1).Select(a => Encoding.ASCII.GetString(a.Span).ToLowerInvariant()).ToHashSet();
        bool Wants(string section) => asked.Count == 0 || asked.Overlaps(["all", "everything", "default", section]);
        var node = c.Session.Node;
        var sb = new StringBuilder();
        void Section(string title) { if (sb.Length > 0) sb.Append("\r\n"); sb.Append("# ").Append(title).Append("\r\n"); }
        void Field(string name, object value) => sb.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");
        if (Wants("server"))
        {
            Section("Server");
            Field("redis_version", RedisCompatibleVersion);
            Field("akkakv_version", AkkaKvVersion);
            Field("redis_mode", "standalone");
            Field("os", RuntimeInformation.OSDescription);
            Field("arch_bits", IntPtr.Size * 8);
            Field("process_id", Environment.ProcessId);
            Field("tcp_port", node.Port);
            Field("uptime_in_seconds", (long)(node.Time.GetUtcNow() - node.StartedAt).TotalSeconds);
        }
        if (Wants("clients"))
        {
            Section("Clients");
            Field("connected_clients", node.ConnectedClients());
            Field("maxclients", node.Settings.RespMaxConnections);
        }
        if (Wants("replication"))
        {
            Section("Replication");
            // Every node accepts writes: there are no Redis-style replicas to route around.
            Field("role", "master");
            Field("connected_slaves", 0);
        }
        if (Wants("akkakv"))
        {
            Section("akkakv");
            Field("node", node.Settings.NodeName);
            switch (await Status(c))
            {
                case NodeStatus st:
                    Field("members", st.Members.Count);
                    Field("members_up", st.Members.Count(m => m.Status == "Up"));
                    var unreachable = st.Members.Where(m => !m.Reachable).Select(m => m.Node).ToArray();
                    Field("unreachable_members", unreachable.Length);
                    Field("unreachable", string.Join(",", unreachable));
                    foreach (var m in st.Members)
                        Field("member_" + m.Node, $"status={m.Status},reachable={(m.Reachable ? "yes" : "no")},address={m.Address}");
                    Field("partitions", st.Partitions);
                    Field("replication_factor", st.ReplicationFactor);
                    Field("virtual_nodes", st.VirtualNodes);
                    Field("partitions_held", st.PartitionsHeld);
                    Field("replica_slots_held", st.SlotsPerNode.FirstOrDefault(kv => kv.Key == st.Node).Value);
                    Field("unallocated_slots", st.UnallocatedSlots);
                    Field("co_located_partitions", st.CoLocatedPartitions);
                    Field("misplaced_slots", st.MisplacedSlots);
                    if (st.Warning is not null) Field("warning", st.Warning);
                    break;
                case var failure:
                    Field("status_error", failure);
                    break;
            }
        }
        return RespValue.Bulk(sb.ToString());
    }
}
