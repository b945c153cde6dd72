using AkkaKv.Counters;
using AkkaKv.Protocol;

namespace AkkaKv.Resp;

/// <summary>
/// Counters, Redis's commands on the store's PN-counter (<see cref="CounterRules"/>): <c>INCR</c>,
/// <c>DECR</c>, <c>INCRBY</c>, <c>DECRBY</c>. Each is one write: the coordinating replica adds the
/// amount to what it holds and answers the number it made, a string that is not an integer or a
/// result past 64 bits is refused with Redis's error and nothing is written. <c>TYPE</c> answers
/// <c>string</c> for a counter, as Redis does.
/// </summary>
internal static partial class RespCommands
{
    private static Task<RespValue> IncrCmd(RespCall c) =>
        ParseDelta(c, out var delta) is { } error ? Done(error) : Increment(c, c.Args[1], delta);

    /// <summary>The amount of <c>INCR</c>, <c>DECR</c>, <c>INCRBY</c>, <c>DECRBY</c>, or Redis's error for it.</summary>
    private static RespValue? ParseDelta(RespCall c, out long delta)
    {
        delta = 0;
        switch (c.Upper(0))
        {
            case "INCR": delta = 1; return null;
            case "DECR": delta = -1; return null;
        }
        if (!CounterRules.TryParse(c.Args[2], out var amount)) return NotAnInteger;
        if (c.Upper(0) == "DECRBY")
        {
            // As Redis: the negation of the smallest 64-bit integer does not exist.
            if (amount == long.MinValue) return RespValue.Error("ERR decrement would overflow");
            amount = -amount;
        }
        delta = amount;
        return null;
    }

    private static async Task<RespValue> Increment(RespCall c, Bytes key, long delta) =>
        await Ask(c, new Increment(key, delta, RequestOptions.Default), RequestOptions.Default) switch
        {
            IncrementSuccess s => RespValue.Integer(s.Value),
            RequestFailed f => Fail(f),
            _ => RespValue.Error("ERR unexpected reply"),
        };

    /// <summary><c>TYPE key</c>: <c>string</c> for a value or a counter, <c>hash</c> for a hash, <c>none</c> when the key reads as not found.</summary>
    private static async Task<RespValue> TypeCmd(RespCall c) => await Read(c, c.Args[1], RequestOptions.Default) switch
    {
        GetSuccess { IsHash: true } => new RespSimple("hash"),
        GetSuccess => new RespSimple("string"),
        NotFound => new RespSimple("none"),
        RequestFailed f => Fail(f),
        _ => RespValue.Error("ERR unexpected reply"),
    };
}
