namespace AkkaKv.Resp;

/// <summary>
/// A reply in the Redis serialization protocol. The same value encodes as RESP2 or RESP3 (see
/// <see cref="RespWriter"/>): a <see cref="RespMap"/> is a flat field/value array in RESP2 and a
/// map in RESP3; <see cref="RespNull"/> is a null bulk string in RESP2 and <c>_</c> in RESP3.
/// </summary>
public abstract record RespValue
{
    public static readonly RespValue Ok = new RespSimple("OK");
    public static readonly RespValue Null = new RespNull();

    public static RespValue Bulk(Bytes? value) => value is null ? Null : new RespBulk(value);
    public static RespValue Bulk(string text) => new RespBulk(Bytes.FromUtf8(text));
    public static RespValue Error(string message) => new RespError(message);
    public static RespValue Integer(long value) => new RespInteger(value);
    public static RespValue Array(params RespValue[] items) => new RespArray(items);
    public static RespValue Array(IEnumerable<RespValue> items) => new RespArray(items.ToArray());
}

/// <summary><c>+text</c>: a short status such as OK or PONG (never contains CR or LF).</summary>
internal sealed record RespSimple(string Text) : RespValue;

/// <summary><c>-CODE message</c>: <see cref="Message"/> starts with the error code, e.g. <c>ERR ...</c>.</summary>
internal sealed record RespError(string Message) : RespValue;

internal sealed record RespInteger(long Value) : RespValue;

/// <summary>A binary-safe bulk string.</summary>
internal sealed record RespBulk(Bytes Value) : RespValue;

internal sealed record RespArray(IReadOnlyList<RespValue> Items) : RespValue;

/// <summary>Field/value pairs: a map in RESP3, a flat array of 2n items in RESP2 (like HELLO's reply).</summary>
internal sealed record RespMap(IReadOnlyList<KeyValuePair<string, RespValue>> Fields) : RespValue;

/// <summary>A map with binary keys (<c>HGETALL</c>'s fields): a RESP3 map, or a flat array of key, value, ... in RESP2.</summary>
internal sealed record RespPairs(IReadOnlyList<KeyValuePair<Bytes, RespValue>> Pairs) : RespValue;

/// <summary>No value (a missing key).</summary>
internal sealed record RespNull : RespValue;
