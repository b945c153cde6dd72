namespace AkkaKv.Hashes;

/// <summary>What a <see cref="HashOp"/> does to a hash.</summary>
public enum HashOpKind : byte
{
    /// <summary><c>HSET key f v [f v ...]</c>: <see cref="HashOp.Args"/> alternate names and values; the result is the number of fields that were new.</summary>
    Set = 1,
    /// <summary><c>HDEL key f [f ...]</c>: the result is the number of fields removed.</summary>
    Delete = 2,
    /// <summary><c>HINCRBY key f n</c>: one name in <see cref="HashOp.Args"/>, the amount in <see cref="HashOp.Number"/>; the result is the field's new value.</summary>
    Increment = 3,
    /// <summary>
    /// <c>EXPIRE</c> or <c>PERSIST</c> of a hash: the result is 1, or 0 when the key holds no hash.
    /// <see cref="HashOp.Number"/>: from a client, the TTL in ms (0: none); in a replica put, the
    /// deadline (Unix ms; 0: none) the gateway fixed by its clock.
    /// </summary>
    Expire = 4,
}

/// <summary>
/// One operation on a hash, applied by the key's coordinating replica to what it holds
/// (<c>Transactions.KeyRules.Apply</c>; the kinds are <c>Transactions.KeyOpKind</c>'s first four). The operations of one request make one version: they are
/// atomic on every replica.
/// </summary>
public sealed record HashOp(HashOpKind Kind, ValueList<Bytes> Args, long Number = 0)
{
    public static HashOp Set(params (Bytes Field, Bytes Value)[] pairs) =>
        new(HashOpKind.Set, ValueList.From(pairs.SelectMany(p => new[] { p.Field, p.Value })));

    public static HashOp Delete(params Bytes[] fields) => new(HashOpKind.Delete, ValueList.From(fields));

    public static HashOp Increment(Bytes field, long delta) => new(HashOpKind.Increment, ValueList.From([field]), delta);

    /// <summary>From a client: <paramref name="ttlMs"/> ms from when the node takes it (0: no deadline).</summary>
    public static HashOp Expire(long ttlMs) => new(HashOpKind.Expire, ValueList<Bytes>.Empty, ttlMs);
}
