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
    /// The TTL in ms a write made at <paramref name="nowMs"/> must carry (0: none; negative or zero
    /// for an absolute deadline already past: the caller deletes instead). <see cref="Keep"/> is
    /// resolved by the caller from what it read.
    /// </summary>
    public long TtlAt(long nowMs) => How switch
    {
        Kind.Relative => Amount,
        Kind.Absolute => Amount - nowMs,
        _ => 0,
    };

    /// <summary>
    /// Parses the amount of <paramref name="option"/> (<c>EX</c>, <c>PX</c>, <c>EXAT</c>, <c>PXAT</c>)
    /// into milliseconds, as Redis does: an integer, positive for SET and SETEX, and small enough
    /// that the deadline fits a Unix-ms clock. Null when invalid (then Redis's error is the caller's).
    /// </summary>
    public static ExpirySpec? Parse(string option, string amount, bool positive)
    {
        if (!long.TryParse(amount, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return null;
        if (positive && n <= 0) return null;
        var seconds = option is "EX" or "EXAT";
        if (seconds && (n > long.MaxValue / 1000 || n < long.MinValue / 1000)) return null;
        var ms = seconds ? n * 1000 : n;
        return new ExpirySpec(option is "EXAT" or "PXAT" ? Kind.Absolute : Kind.Relative, ms);
    }
}

/// <summary>
/// The expiry commands of the RESP gateway (README, "Expiry"). A deadline is part of a version:
/// <c>SET … EX</c> writes one with the value; <c>EXPIRE</c> and <c>PERSIST</c> read the key and
/// write its value back with the new deadline and the read's context, so they replace exactly the
/// versions read (concurrent siblings resolve to the value a GET returns, as a SET of it would).
/// <c>TTL</c> reads the deadline of the value a GET returns.
/// </summary>
internal static partial class RespCommands
{
    private static long NowMs(RespCall c) => c.Session.Node.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private static RespValue InvalidExpire(RespCall c) => RespValue.Error($"ERR invalid expire time in '{c.Arg(0).ToLowerInvariant()}' command");

    /// <summary>Writes <paramref name="value"/> with the TTL <paramref name="spec"/> gives (SET, SETEX, PSETEX).</summary>
    private static async Task<RespValue> SetWithExpiry(RespCall c, Bytes key, Bytes value, ExpirySpec spec)
    {
        var now = NowMs(c);
        var ttl = spec.TtlAt(now);
        if (ttl > 0 && ttl > long.MaxValue - now) return InvalidExpire(c);
        if (spec.How == ExpirySpec.Kind.Keep)
        {
            switch (await Read(c, key, RequestOptions.Default))
            {
                case RequestFailed f: return Fail(f);
                case GetSuccess s when s.LastExpiresAtMs != 0:
                    ttl = Math.Max(1, s.LastExpiresAtMs - now);
                    break;
            }
        }
        else if (spec.How == ExpirySpec.Kind.Absolute && ttl <= 0)
        {
            // A deadline already past: Redis stores nothing and the key reads as absent.
            var (_, failure) = await DeleteWhatIsThere(c, key, RequestOptions.Default);
            return failure is null ? RespValue.Ok : Fail(failure);
        }
        return await Write(c, new Put(key, value, null, new RequestOptions(Overwrite: true), ttl)) switch
        {
            WriteSuccess => RespValue.Ok,
            RequestFailed f => Fail(f),
            _ => RespValue.Error("ERR unexpected reply"),
        };
    }

    /// <summary><c>SETEX key seconds value</c> and <c>PSETEX key ms value</c>.</summary>
    private static Task<RespValue> SetEx(RespCall c)
    {
        var option = c.Upper(0) == "SETEX" ? "EX" : "PX";
        return ExpirySpec.Parse(option, c.Arg(2), positive: true) is { } spec
            ? SetWithExpiry(c, c.Args[1], c.Args[3], spec)
            : Done(InvalidExpire(c));
    }

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
                    if (ExpirySpec.Parse(name, options[++i], positive: true) is not { } parsed)
                        return RespValue.Error("ERR invalid expire time in 'set' command");
                    spec = parsed;
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
        if (!long.TryParse(c.Arg(2), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            return RespValue.Error("ERR value is not an integer or out of range");
        if (ExpirySpec.Parse(option, c.Arg(2), positive: false) is not { } spec) return InvalidExpire(c);
        if (ParseExpireCondition(c.Args.Skip(3).Select((_, i) => c.Upper(i + 3)).ToArray(), out var condition) is { } error) return error;
        var key = c.Args[1];
        var now = NowMs(c);
        var ttl = spec.TtlAt(now);
        if (ttl > 0 && ttl > long.MaxValue - now) return InvalidExpire(c);
        var deadline = ttl > 0 ? now + ttl : now;
        switch (await Read(c, key, RequestOptions.Default))
        {
            case RequestFailed f: return Fail(f);
            case GetSuccess s:
                if (!ConditionHolds(condition, s.LastExpiresAtMs, deadline)) return RespValue.Integer(0);
                IKvRequest write = ttl > 0
                    ? new Put(key, s.Values[^1], s.Context, RequestOptions.Default, ttl)
                    : new Delete(key, s.Context, RequestOptions.Default);
                return await Write(c, write) switch
                {
                    WriteSuccess => RespValue.Integer(1),
                    RequestFailed f => Fail(f),
                    _ => RespValue.Error("ERR unexpected reply"),
                };
            default:
                return RespValue.Integer(0);
        }
    }

    /// <summary>The condition of <c>EXPIRE</c> (Redis 7): none, <c>NX</c>, <c>XX</c>, <c>GT</c> or <c>LT</c>, or Redis's error for a bad combination.</summary>
    internal static RespValue? ParseExpireCondition(string[] options, out string? condition)
    {
        condition = null;
        foreach (var o in options)
        {
            if (o is not ("NX" or "XX" or "GT" or "LT")) return RespValue.Error($"ERR Unsupported option {o}");
            if (condition is null || condition == o) { condition = o; continue; }
            return RespValue.Error(o is "GT" or "LT" && condition is "GT" or "LT"
                ? "ERR GT and LT options at the same time are not compatible"
                : "ERR NX and XX, GT or LT options at the same time are not compatible");
        }
        return null;
    }

    /// <summary>Whether <c>EXPIRE</c>'s condition holds for a key whose deadline is <paramref name="current"/> (0: none, which counts as infinite for GT and LT, as in Redis).</summary>
    internal static bool ConditionHolds(string? condition, long current, long deadline) => condition switch
    {
        "NX" => current == 0,
        "XX" => current != 0,
        "GT" => current != 0 && deadline > current,
        "LT" => current == 0 || deadline < current,
        _ => true,
    };

    /// <summary><c>TTL</c>, <c>PTTL</c>, <c>EXPIRETIME</c>, <c>PEXPIRETIME</c>: -2 when the key is absent, -1 when it has no deadline.</summary>
    private static async Task<RespValue> TtlCmd(RespCall c)
    {
        switch (await Read(c, c.Args[1], RequestOptions.Default))
        {
            case RequestFailed f: return Fail(f);
            case GetSuccess s:
                var deadline = s.LastExpiresAtMs;
                var now = NowMs(c);
                return RespValue.Integer(c.Upper(0) switch
                {
                    "TTL" => TimeToLive.RemainingSeconds(deadline, now),
                    "PTTL" => TimeToLive.RemainingMs(deadline, now),
                    "EXPIRETIME" => deadline == 0 ? -1 : deadline / 1000,
                    _ => deadline == 0 ? -1 : deadline,
                });
            default:
                return RespValue.Integer(-2);
        }
    }

    /// <summary><c>PERSIST key</c>: 1 when the key had a deadline and now has none, else 0.</summary>
    private static async Task<RespValue> Persist(RespCall c)
    {
        var key = c.Args[1];
        switch (await Read(c, key, RequestOptions.Default))
        {
            case RequestFailed f: return Fail(f);
            case GetSuccess { LastExpiresAtMs: not 0 } s:
                return await Write(c, new Put(key, s.Values[^1], s.Context, RequestOptions.Default)) switch
                {
                    WriteSuccess => RespValue.Integer(1),
                    RequestFailed f => Fail(f),
                    _ => RespValue.Error("ERR unexpected reply"),
                };
            default:
                return RespValue.Integer(0);
        }
    }
}
