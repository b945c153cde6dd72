
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

    /// <summary>Most operations one write carries (one <c>HSET</c>, or a <c>MULTI</c> of one key).</summary>
    public const int MaxHashOps = 1024;

    /// <summary>
    /// Hash operations: the four hash kinds only, a TTL not negative and no condition on an
    /// <c>EXPIRE</c>, and the checks of <see cref="CheckKeyOps"/>.
    /// </summary>
    public static string? CheckHashOps(IReadOnlyList<Hashes.HashOp>? ops, KvSettings settings)
    {
        if (ops?.FirstOrDefault(op => op.Kind is < Hashes.HashOpKind.Set or > Hashes.HashOpKind.Expire) is { } unknown)
            return $"unknown hash operation {(byte)unknown.Kind}";
        if (ops?.Any(op => op.Kind == Hashes.HashOpKind.Expire && (op.Number < 0 || op.Args.Count != 0)) == true)
            return "a hash EXPIRE takes a TTL of 0 or more ms and no field";
        return CheckKeyOps(ops?.Select(Transactions.KeyOp.Of).ToList(), settings, fromClient: true);
    }

    /// <summary>
    /// Key operations (a hash write, a transaction): their shape (<see cref="Transactions.KeyOp.CheckShape"/>),
    /// and every field name and value within <c>limits.max-value-bytes</c> (each one, as a value;
    /// the key's whole version counts against <c>limits.max-bytes-per-key</c> where it is minted).
    /// </summary>
    public static string? CheckKeyOps(IReadOnlyList<Transactions.KeyOp>? ops, KvSettings settings, bool fromClient)
    {
        if (Transactions.KeyOp.CheckShape(ops, MaxHashOps, fromClient) is { } shape) return shape;
        long total = 0;
        foreach (var op in ops!)
            foreach (var arg in op.Args)
            {
                if (arg.Length > settings.MaxValueBytes)
                    return $"a value or hash field of {arg.Length} bytes, over the limit of {settings.MaxValueBytes} bytes (akka-kv.limits.max-value-bytes)";
                total += arg.Length;
            }
        return total > settings.MaxBytesPerKey
            ? $"the operations carry {total} bytes, over the limit of {settings.MaxBytesPerKey} bytes for one write of one key (akka-kv.limits.max-bytes-per-key)"
            : null;
    }

    /// <summary>
    /// Why a transaction's results must not be sent back (what its reads saw adds up past
    /// <c>limits.max-bytes-per-key</c>, so the reply might not fit a remoting frame), or null.
    /// </summary>
    public static string? CheckResults(IReadOnlyList<Transactions.KeyOpResult> results, KvSettings settings)
    {
        long total = 0;
        foreach (var r in results)
            if (r.Read is { } read)
                total += read.Value.Length + read.Fields.Sum(f => (long)f.Length);
        return total > settings.MaxBytesPerKey
            ? $"the transaction's reads return {total} bytes in all, over the limit of {settings.MaxBytesPerKey} bytes (akka-kv.limits.max-bytes-per-key): read the key fewer times in one transaction"
            : null;
    }
}
