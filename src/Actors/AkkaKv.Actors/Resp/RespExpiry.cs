using System.Globalization;
using AkkaKv.Expiry;
using AkkaKv.Protocol;

namespace AkkaKv.Resp;

/// <summary>
/// How a command names a deadline: <see cref="None"/>, relative (<c>EX</c> seconds, <c>PX</c> ms)
/// or absolute (<c>EXAT</c> Unix seconds, <c>PXAT</c> Unix ms), or <see cref="Keep"/> (<c>SET … KEEPTTL</c>).
/// </summary>
internal readonly record struct ExpirySpec(ExpirySpec.Kind How, long Amount)
{
    public enum Kind { None, Relative, Absolute, Keep }

    public static readonly ExpirySpec None = new(Kind.None, 0);
    public static readonly ExpirySpec Keep = new(Kind.Keep, 0);

    /// <summary>
    /// The TTL in ms a write made at <paramref name="nowMs"/> must carry (0: none; zero or negative
    /// for a deadline not in the future: the caller deletes instead, however far in the past it
    /// is). <see cref="Keep"/> is resolved by the caller from what it read.
    /// </summary>
    public long TtlAt(long nowMs) => How switch
    {
        Kind.Relative => Amount,
        Kind.Absolute => Amount <= nowMs ? 0 : Amount - nowMs,
        _ => 0,
    };

    /// <summary>True for a deadline not in the future at <paramref name="nowMs"/> (the key is deleted).</summary>
    public bool IsPastAt(long nowMs) => How == Kind.Absolute ? Amount <= nowMs : How == Kind.Relative && Amount <= 0;

    public enum ParseError { None, NotAnInteger, Invalid }

    /// <summary>
    /// Parses the amount of <paramref name="option"/> (<c>EX</c>, <c>PX</c>, <c>EXAT</c>, <c>PXAT</c>)
    /// into milliseconds, as Redis does: an integer (else <see cref="ParseError.NotAnInteger"/>),
    /// positive for SET and SETEX, and in seconds small enough to fit in milliseconds (else
    /// <see cref="ParseError.Invalid"/>).
    /// </summary>
    public static ParseError Parse(string option, string amount, bool positive, out ExpirySpec spec)
    {
        spec = None;
        if (!long.TryParse(amount, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return ParseError.NotAnInteger;
        if (positive && n <= 0) return ParseError.Invalid;
        var seconds = option is "EX" or "EXAT";
        if (seconds && (n > long.MaxValue / 1000 || n < long.MinValue / 1000)) return ParseError.Invalid;
        spec = new ExpirySpec(option is "EXAT" or "PXAT" ? Kind.Absolute : Kind.Relative, seconds ? n * 1000 : n);
        return ParseError.None;
    }
}

/// <summary>
/// The expiry commands of the RESP gateway (README, "Expiry"). A deadline is part of a version:
/// <c>SET … EX</c> writes one with the value; <c>EXPIRE</c> and <c>PERSIST</c> read the key and
/// write its value back with the new deadline and the read's context, so they replace exactly the
/// versions read (concurrent siblings resolve to the value a GET returns, as a SET of it would).
/// <c>TTL</c> reads the deadline of the value a GET returns. Deadlines are turned into the TTL a
/// write carries by this node's clock just before the write, and the gateway (same clock) turns it
/// back, so an absolute deadline is kept to within a millisecond or so.
/// </summary>
internal static partial class RespCommands
{
    private static long NowMs(RespCall c) => c.Session.Node.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private static RespValue InvalidExpire(RespCall c) => RespValue.Error($"ERR invalid expire time in '{c.Arg(0).ToLowerInvariant()}' command");

    private static readonly RespValue NotAnInteger = RespValue.Error("ERR value is not an integer or out of range");

    /// <summary>The read's value is still live at this moment: a read that raced its deadline counts as not found.</summary>
    private static GetSuccess? LiveNow(RespCall c, IGetResponse read) =>
        read is GetSuccess s && (s.LastExpiresAtMs <= 0 || NowMs(c) < s.LastExpiresAtMs) ? s : null;

    /// <summary>Writes <paramref name="value"/> with the TTL <paramref name="spec"/> gives (SET, SETEX, PSETEX).</summary>
    private static async Task<RespValue> SetWithExpiry(RespCall c, Bytes key, Bytes value, ExpirySpec spec)
    {
        long deadline = 0;
        if (spec.How == ExpirySpec.Kind.Keep)
        {
            var read = await Read(c, key, RequestOptions.Default);
            if (read is RequestFailed f) return Fail(f);
            deadline = LiveNow(c, read)?.LastExpiresAtMs ?? 0;
        }
        else if (spec.How != ExpirySpec.Kind.None)
        {
            var now = NowMs(c);
            if (spec.IsPastAt(now))
            {
                // A deadline already past: Redis stores nothing and the key reads as absent.
                var (_, failure) = await DeleteWhatIsThere(c, key, RequestOptions.Default);
                return failure is null ? RespValue.Ok : Fail(failure);
            }
            var relative = spec.TtlAt(now);
            if (relative > long.MaxValue - now) return InvalidExpire(c);
            deadline = now + relative;
        }
        // A kept deadline that passed meanwhile: the key expired, and the new value has none.
        var ttl = deadline > 0 ? Math.Max(0, deadline - NowMs(c)) : 0;
        return await WriteReply(c, new Put(key, value, null, new RequestOptions(Overwrite: true), ttl), RespValue.Ok);
    }

    /// <summary><c>SETEX key seconds value</c> and <c>PSETEX key ms value</c>.</summary>
    private static Task<RespValue> SetEx(RespCall c) =>
        ExpirySpec.Parse(c.Upper(0) == "SETEX" ? "EX" : "PX", c.Arg(2), positive: true, out var spec) switch
        {
            ExpirySpec.ParseError.None => SetWithExpiry(c, c.Args[1], c.Args[3], spec),
            ExpirySpec.ParseError.NotAnInteger => Done(NotAnInteger),
            _ => Done(InvalidExpire(c)),
        };

    /// <summary>
    /// The options of <c>SET key value [EX s | PX ms | EXAT t | PXAT t | KEEPTTL]</c>, or the error
    /// Redis gives. <c>NX</c>, <c>XX</c> and <c>GET</c> are refused with why.
    /// </summary>
    internal static RespValue? ParseSetOptions(string[] options, out ExpirySpec spec)
    {
        spec = ExpirySpec.None;
        for (var i = 0; i < options.Length; i++)
        {
            var name = options[i].ToUpperInvariant();
            switch (name)
            {
                case "EX" or "PX" or "EXAT" or "PXAT":
                    if (spec != ExpirySpec.None || i + 1 >= options.Length) return RespValue.Error("ERR syntax error");
                    switch (ExpirySpec.Parse(name, options[++i], positive: true, out spec))
                    {
                        case ExpirySpec.ParseError.NotAnInteger: return NotAnInteger;
                        case ExpirySpec.ParseError.Invalid: return RespValue.Error("ERR invalid expire time in 'set' command");
                    }
                    break;
                case "KEEPTTL":
                    if (spec != ExpirySpec.None) return RespValue.Error("ERR syntax error");
                    spec = ExpirySpec.Keep;
                    break;
                case "NX" or "XX":
                    return RespValue.Error($"ERR SET {name} is not supported: it needs a linearizable store, and AkkaKv stays available under partitions instead (two sides could both see the key absent); read with KV.GET and write with KV.PUT key value CONTEXT ctx, which replaces exactly what you read and keeps concurrent writes as siblings");
                case "GET":
                    return RespValue.Error("ERR SET GET is not supported: read with GET (or KV.GET for the context) and then SET");
                default:
                    return RespValue.Error("ERR syntax error");
            }
        }
        return null;
    }

    /// <summary>
    /// <c>EXPIRE key seconds [NX|XX|GT|LT]</c>, and <c>PEXPIRE</c>, <c>EXPIREAT</c>, <c>PEXPIREAT</c>:
    /// 1 when the deadline was set (or the key deleted, for a deadline not in the future), 0 when the
    /// key is absent or the condition does not hold.
    /// </summary>
    private static async Task<RespValue> ExpireCmd(RespCall c)
    {
        var command = c.Upper(0);
        var option = command switch { "EXPIRE" => "EX", "PEXPIRE" => "PX", "EXPIREAT" => "EXAT", _ => "PXAT" };
        switch (ExpirySpec.Parse(option, c.Arg(2), positive: false, out var spec))
        {
            case ExpirySpec.ParseError.NotAnInteger: return NotAnInteger;
            case ExpirySpec.ParseError.Invalid: return InvalidExpire(c);
        }
        if (ParseExpireCondition(c.Args.Skip(3).Select((_, i) => c.Arg(i + 3)).ToArray(), out var condition) is { } error) return error;
        var key = c.Args[1];
        var start = NowMs(c);
        if (!spec.IsPastAt(start) && spec.TtlAt(start) > long.MaxValue - start) return InvalidExpire(c);
        var read = await Read(c, key, RequestOptions.Default);
        if (read is RequestFailed failed) return Fail(failed);
        if (LiveNow(c, read) is not { } s) return RespValue.Integer(0);
        // The deadline by this node's clock now, after the read (a relative one counts from the command).
        var now = NowMs(c);
        var past = spec.IsPastAt(now);
        var deadline = past ? now : spec.How == ExpirySpec.Kind.Absolute ? spec.Amount : start + spec.Amount;
        if (!condition.Holds(s.LastExpiresAtMs, deadline)) return RespValue.Integer(0);
        if (!past && deadline > now && s.IsHash) return await SetHashDeadline(c, key, deadline - now);
        if (!past && deadline > now && await SetIntegerDeadline(c, key, s, deadline - now) is { } set) return set;
        IKvRequest write = past || deadline <= now
            ? new Delete(key, s.Context, RequestOptions.Default)
            : new Put(key, s.Values[^1], s.Context, RequestOptions.Default, deadline - now);
        return await WriteReply(c, write, RespValue.Integer(1));
    }

    /// <summary>
    /// The conditions of <c>EXPIRE</c> (Redis 7), or Redis's error: an unknown option first (named
    /// as given), then <c>NX</c> with any other, then <c>GT</c> with <c>LT</c>. <c>XX</c> combines
    /// with <c>GT</c> or <c>LT</c>.
    /// </summary>
    internal static RespValue? ParseExpireCondition(string[] options, out ExpireCondition condition)
    {
        condition = ExpireCondition.None;
        foreach (var o in options)
        {
            condition |= o.ToUpperInvariant() switch
            {
                "NX" => ExpireCondition.Nx,
                "XX" => ExpireCondition.Xx,
                "GT" => ExpireCondition.Gt,
                "LT" => ExpireCondition.Lt,
                _ => (ExpireCondition)0xff,
            };
            if (condition == (ExpireCondition)0xff) { condition = ExpireCondition.None; return RespValue.Error($"ERR Unsupported option {o}"); }
        }
        if (condition.HasFlag(ExpireCondition.Nx) && condition != ExpireCondition.Nx)
            return RespValue.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
        if (condition.HasFlag(ExpireCondition.Gt) && condition.HasFlag(ExpireCondition.Lt))
            return RespValue.Error("ERR GT and LT options at the same time are not compatible");
        return null;
    }

    /// <summary><c>TTL</c>, <c>PTTL</c>, <c>EXPIRETIME</c>, <c>PEXPIRETIME</c>: -2 when the key is absent, -1 when it has no deadline.</summary>
    private static async Task<RespValue> TtlCmd(RespCall c)
    {
        var read = await Read(c, c.Args[1], RequestOptions.Default);
        if (read is RequestFailed f) return Fail(f);
        if (LiveNow(c, read) is not { } s) return RespValue.Integer(-2);
        var deadline = s.LastExpiresAtMs;
        var now = NowMs(c);
        return RespValue.Integer(c.Upper(0) switch
        {
            "TTL" => TimeToLive.RemainingSeconds(deadline, now),
            "PTTL" => TimeToLive.RemainingMs(deadline, now),
            // Redis rounds the absolute time in seconds to the nearest, as it does TTL.
            "EXPIRETIME" => deadline <= 0 ? -1 : (deadline + 500) / 1000,
            _ => deadline <= 0 ? -1 : deadline,
        });
    }

    /// <summary><c>PERSIST key</c>: 1 when the key had a deadline and now has none, else 0.</summary>
    private static async Task<RespValue> Persist(RespCall c)
    {
        var key = c.Args[1];
        var read = await Read(c, key, RequestOptions.Default);
        if (read is RequestFailed failed) return Fail(failed);
        if (LiveNow(c, read) is not { LastExpiresAtMs: > 0 } s) return RespValue.Integer(0);
        if (s.IsHash) return await SetHashDeadline(c, key, 0);
        if (await SetIntegerDeadline(c, key, s, 0) is { } set) return set;
        return await WriteReply(c, new Put(key, s.Values[^1], s.Context, RequestOptions.Default), RespValue.Integer(1));
    }

    /// <summary>
    /// The deadline of a key that reads as one integer (a counter, or a string holding one) is set by
    /// its coordinating replica, as an increment of 0 with the TTL (<paramref name="ttlMs"/>; 0: none):
    /// a write-back of the number could count an increment twice (docs/typed-values.md). Null when
    /// the key is something else, or the increment is refused for it (then the caller writes back).
    /// </summary>
    private static async Task<RespValue?> SetIntegerDeadline(RespCall c, Bytes key, GetSuccess read, long ttlMs)
    {
        if (read.Values.Count != 1 || !Counters.CounterRules.TryParse(read.Values[0], out _)) return null;
        return await Ask(c, new Increment(key, 0, RequestOptions.Default, ttlMs), RequestOptions.Default) switch
        {
            IncrementSuccess => RespValue.Integer(1),
            // A sibling that is no integer won meanwhile, or a member cannot read counters yet: write back.
            RequestFailed f when Protocol.Increment.RefusedForTheKey(f) => null,
            RequestFailed f => Fail(f),
            _ => RespValue.Error("ERR unexpected reply"),
        };
    }
}
