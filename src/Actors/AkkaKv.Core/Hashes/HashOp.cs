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
/// (<see cref="HashRules.Apply"/>). The operations of one request make one version: they are
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

    /// <summary>
    /// Why the operations cannot be applied to any hash (the shape of each, not the key's state), or
    /// null: a known kind, the arguments it takes, a TTL not negative, at least one operation and
    /// at most <paramref name="maxOps"/>.
    /// </summary>
    public static string? CheckShape(IReadOnlyList<HashOp>? ops, int maxOps)
    {
        if (ops is null || ops.Count == 0) return "no hash operation";
        if (ops.Count > maxOps) return $"{ops.Count} hash operations in one request, over the limit of {maxOps}";
        foreach (var op in ops)
        {
            var error = op.Kind switch
            {
                HashOpKind.Set when op.Args.Count == 0 || op.Args.Count % 2 != 0 => "HSET takes field and value pairs",
                HashOpKind.Delete when op.Args.Count == 0 => "HDEL takes at least one field",
                HashOpKind.Increment when op.Args.Count != 1 => "HINCRBY takes one field",
                HashOpKind.Expire when op.Args.Count != 0 || op.Number < 0 => "a hash EXPIRE takes a TTL of 0 or more ms and no field",
                HashOpKind.Set or HashOpKind.Delete or HashOpKind.Increment or HashOpKind.Expire => null,
                _ => $"unknown hash operation {(byte)op.Kind}",
            };
            if (error is not null) return error;
        }
        return null;
    }
}

/// <summary>The wire form of hash operations (client protocol and replica puts): count, then each kind, its arguments and its number.</summary>
public static class HashOpCodec
{
    public static void WriteHashOps(this Codec.KvWriter w, IReadOnlyList<HashOp> ops)
    {
        w.WriteInt(ops.Count);
        foreach (var op in ops)
        {
            w.WriteByte((byte)op.Kind);
            w.WriteInt(op.Args.Count);
            foreach (var a in op.Args) w.WriteBytes(a);
            w.WriteVarLong(op.Number);
        }
    }

    /// <summary>Reads what <see cref="WriteHashOps"/> wrote; the kinds and shapes are checked by whoever takes them (<see cref="HashOp.CheckShape"/>).</summary>
    public static ValueList<HashOp> ReadHashOps(this Codec.KvReader r)
    {
        var count = r.ReadCount();
        var ops = new List<HashOp>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var kind = (HashOpKind)r.ReadByte();
            var n = r.ReadCount();
            var args = new List<Bytes>(Math.Min(n, 1024));
            for (var a = 0; a < n; a++) args.Add(r.ReadBytes());
            ops.Add(new HashOp(kind, ValueList.From(args), r.ReadVarLong()));
        }
        return ValueList.From(ops);
    }
}
