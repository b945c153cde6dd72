
namespace AkkaKv.Configuration;

/// <summary>Key and value size checks, shared by every front door so they all say the same thing.</summary>
public static class Limits
{
    public static string? CheckKey(Bytes? key, KvSettings settings) =>
        key is null || key.Length == 0 ? "the key is empty: keys must be 1 or more bytes"
        : key.Length > settings.MaxKeyBytes ? $"the key is {key.Length} bytes, over the limit of {settings.MaxKeyBytes} bytes (akka-kv.limits.max-key-bytes)"
        : null;

    public static string? CheckValue(Bytes? value, KvSettings settings) =>
        value is null ? "the value is missing"
        : value.Length > settings.MaxValueBytes ? $"the value is {value.Length} bytes, over the limit of {settings.MaxValueBytes} bytes (akka-kv.limits.max-value-bytes)"
        : null;

    /// <summary>Most operations one hash write carries (a <c>MULTI</c> of one key, or one <c>HSET</c>).</summary>
    public const int MaxHashOps = 1024;

    /// <summary>
    /// Hash operations: their shape (<see cref="Hashes.HashOp.CheckShape"/>), and every field name
    /// and value within <c>limits.max-value-bytes</c> (each one, as a value; the whole hash counts
    /// against <c>limits.max-bytes-per-key</c> where it is minted).
    /// </summary>
    public static string? CheckHashOps(IReadOnlyList<Hashes.HashOp>? ops, KvSettings settings)
    {
        if (Hashes.HashOp.CheckShape(ops, MaxHashOps) is { } shape) return shape;
        foreach (var op in ops!)
            foreach (var arg in op.Args)
                if (arg.Length > settings.MaxValueBytes)
                    return $"a hash field or value of {arg.Length} bytes, over the limit of {settings.MaxValueBytes} bytes (akka-kv.limits.max-value-bytes)";
        return null;
    }
}
