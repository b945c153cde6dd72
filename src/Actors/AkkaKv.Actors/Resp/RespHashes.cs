using AkkaKv.Counters;
using AkkaKv.Hashes;
using AkkaKv.Protocol;

namespace AkkaKv.Resp;

/// <summary>
/// Hashes, Redis's commands on the store's field-wise map (<see cref="HashRules"/>, README "Hashes"):
/// <c>HSET</c>/<c>HMSET</c>, <c>HDEL</c> and <c>HINCRBY</c> are one write each, applied by the
/// key's coordinating replica to what it holds (concurrent writes of different fields both
/// survive); <c>HGET</c>, <c>HMGET</c>, <c>HGETALL</c>, <c>HKEYS</c>, <c>HVALS</c>, <c>HLEN</c>,
/// <c>HEXISTS</c>, <c>HSTRLEN</c> read the hash at R. A hash command on a string, and a string
/// command on a hash, answer Redis's <c>WRONGTYPE</c> error.
/// </summary>
internal static partial class RespCommands
{
    private static readonly RespValue WrongType = RespValue.Error("WRONGTYPE " + CounterRules.WrongType);

    /// <summary>The reply to a refused write: Redis's <c>WRONGTYPE</c> error for a key of another type, else <c>ERR</c> and the reason.</summary>
    private static RespValue Fail(RequestFailed f) =>
        f.Reason == CounterRules.WrongType ? WrongType : RespValue.Error("ERR " + f.Reason);

    /// <summary>The hash a read returns (field → value, ordered by name; empty when the key is absent), or the reply to give instead (a failure, <c>WRONGTYPE</c>).</summary>
    private static async Task<(SortedDictionary<Bytes, Bytes> Fields, RespValue? Error)> ReadHash(RespCall c, Bytes key)
    {
        var fields = new SortedDictionary<Bytes, Bytes>();
        switch (await Read(c, key, RequestOptions.Default))
        {
            case GetSuccess { IsHash: true } s when LiveNow(c, s) is not null:
                return (s.HashFields()!, null);
            case GetSuccess { IsHash: true } or NotFound: return (fields, null);
            case GetSuccess s: return LiveNow(c, s) is null ? (fields, null) : (fields, WrongType);
            case RequestFailed f: return (fields, Fail(f));
            default: return (fields, RespValue.Error("ERR unexpected reply"));
        }
    }

    private static async Task<RespValue> HashRead(RespCall c, Func<SortedDictionary<Bytes, Bytes>, RespValue> reply)
    {
        var (fields, error) = await ReadHash(c, c.Args[1]);
        return error ?? reply(fields);
    }

    private static Task<RespValue> HGet(RespCall c) =>
        HashRead(c, h => h.TryGetValue(c.Args[2], out var v) ? new RespBulk(v) : RespValue.Null);

    private static Task<RespValue> HMGet(RespCall c) =>
        HashRead(c, h => RespValue.Array(c.Args.Skip(2).Select(f => h.TryGetValue(f, out var v) ? new RespBulk(v) : RespValue.Null)));

    private static Task<RespValue> HGetAll(RespCall c) =>
        HashRead(c, h => new RespPairs(h.Select(kv => KeyValuePair.Create(kv.Key, (RespValue)new RespBulk(kv.Value))).ToList()));

    private static Task<RespValue> HKeys(RespCall c) => HashRead(c, h => RespValue.Array(h.Keys.Select(k => (RespValue)new RespBulk(k))));

    private static Task<RespValue> HVals(RespCall c) => HashRead(c, h => RespValue.Array(h.Values.Select(v => (RespValue)new RespBulk(v))));

    private static Task<RespValue> HLen(RespCall c) => HashRead(c, h => RespValue.Integer(h.Count));

    private static Task<RespValue> HExists(RespCall c) => HashRead(c, h => RespValue.Integer(h.ContainsKey(c.Args[2]) ? 1 : 0));

    private static Task<RespValue> HStrLen(RespCall c) => HashRead(c, h => RespValue.Integer(h.TryGetValue(c.Args[2], out var v) ? v.Length : 0));

    /// <summary>Sends hash operations on <paramref name="key"/> and answers with <paramref name="ok"/> of their results, or the failure.</summary>
    private static async Task<RespValue> HashWriteReply(RespCall c, Bytes key, IReadOnlyList<HashOp> ops, Func<IReadOnlyList<long>, RespValue> ok) =>
        await Ask(c, new HashWrite(key, ValueList.From(ops), RequestOptions.Default), RequestOptions.Default) switch
        {
            HashWriteSuccess s when s.Results.Count == ops.Count => ok(s.Results),
            RequestFailed f => Fail(f),
            _ => RespValue.Error("ERR unexpected reply"),
        };

    /// <summary><c>HSET key field value [field value ...]</c> (the number of new fields) and <c>HMSET</c> (OK).</summary>
    private static Task<RespValue> HSet(RespCall c)
    {
        if (c.Args.Length % 2 != 0) return Done(RespValue.Error($"ERR wrong number of arguments for '{c.Arg(0).ToLowerInvariant()}' command"));
        var hmset = c.Upper(0) == "HMSET";
        return HashWriteReply(c, c.Args[1], [HashOp.Set(HashPairs(c))], r => hmset ? RespValue.Ok : RespValue.Integer(r[0]));
    }

    /// <summary>The field and value pairs of <c>HSET key field value [field value ...]</c>.</summary>
    private static (Bytes Field, Bytes Value)[] HashPairs(RespCall c) =>
        Enumerable.Range(0, (c.Args.Length - 2) / 2).Select(i => (c.Args[2 + 2 * i], c.Args[3 + 2 * i])).ToArray();

    private static Task<RespValue> HDel(RespCall c) =>
        HashWriteReply(c, c.Args[1], [HashOp.Delete(c.Args.Skip(2).ToArray())], r => RespValue.Integer(r[0]));

    private static Task<RespValue> HIncrBy(RespCall c) =>
        !CounterRules.TryParse(c.Args[3], out var delta) ? Done(NotAnInteger)
            : HashWriteReply(c, c.Args[1], [HashOp.Increment(c.Args[2], delta)], r => RespValue.Integer(r[0]));

    /// <summary>The deadline of a hash (<c>EXPIRE</c>, <c>PERSIST</c>) is set by its coordinating replica: 1 when set, 0 when the key is gone meanwhile.</summary>
    private static Task<RespValue> SetHashDeadline(RespCall c, Bytes key, long ttlMs) =>
        HashWriteReply(c, key, [HashOp.Expire(ttlMs)], r => RespValue.Integer(r[0]));
}
