using AkkaKv.Expiry;
using AkkaKv.Hashes;

namespace AkkaKv.Transactions;

/// <summary>
/// What a <see cref="KeyOp"/> does to its key. The first four are the hash operations
/// (<see cref="HashOpKind"/>, same numbers and wire form); the rest are what a Redis transaction
/// (<c>MULTI</c> ... <c>EXEC</c>) of one key may also queue.
/// </summary>
public enum KeyOpKind : byte
{
    /// <summary><c>HSET key f v [f v ...]</c>: the number of fields that were new.</summary>
    HashSet = 1,
    /// <summary><c>HDEL key f [f ...]</c>: the number of fields removed.</summary>
    HashDelete = 2,
    /// <summary><c>HINCRBY key f n</c> (<see cref="KeyOp.Number"/>: n): the field's new value.</summary>
    HashIncrement = 3,
    /// <summary>
    /// <c>EXPIRE</c> (any type): 1 when the deadline was set, or the key deleted for a deadline not
    /// in the future; 0 when the key is absent or the condition (one optional argument: an
    /// <see cref="ExpireCondition"/> byte) does not hold. <see cref="KeyOp.Number"/>: from a
    /// client, the TTL in ms (0: none; negative: already past); in a replica put, the deadline
    /// (Unix ms; 0: none) the gateway fixed by its clock.
    /// </summary>
    Expire = 4,
    /// <summary>Reads the key as the operations so far left it (<see cref="KeyOpResult.Read"/>): every read command of a transaction.</summary>
    Read = 5,
    /// <summary>
    /// <c>SET key value</c> (one argument, the value), replacing any type: 1.
    /// <see cref="KeyOp.Number"/>: the TTL in ms from a client, the deadline in a replica put
    /// (0: none; -1: keep the key's, as <c>KEEPTTL</c>).
    /// </summary>
    Set = 6,
    /// <summary><c>DEL key</c>: 1 when the key was there, else 0.</summary>
    Delete = 7,
    /// <summary><c>INCRBY key n</c> (<see cref="KeyOp.Number"/>: n) on the key's counter: the new number.</summary>
    Increment = 8,
    /// <summary><c>PERSIST key</c>: 1 when the key had a deadline and now has none, else 0.</summary>
    Persist = 9,
}

/// <summary>
/// One operation of a write applied by the key's coordinating replica to what it holds
/// (<see cref="KeyRules.Apply"/>): the operations of one request make one version, so they are
/// atomic on every replica.
/// </summary>
public sealed record KeyOp(KeyOpKind Kind, ValueList<Bytes> Args, long Number = 0)
{
    /// <summary>Keep the key's deadline (<c>SET ... KEEPTTL</c>): the <see cref="Number"/> of a <see cref="KeyOpKind.Set"/>.</summary>
    public const long KeepTtl = -1;

    public static KeyOp Read() => new(KeyOpKind.Read, ValueList<Bytes>.Empty);

    /// <summary><paramref name="ttlMs"/>: 0 for none, <see cref="KeepTtl"/> to keep the key's.</summary>
    public static KeyOp Set(Bytes value, long ttlMs = 0) => new(KeyOpKind.Set, ValueList.From([value]), ttlMs);

    public static KeyOp Delete() => new(KeyOpKind.Delete, ValueList<Bytes>.Empty);

    public static KeyOp Increment(long delta) => new(KeyOpKind.Increment, ValueList<Bytes>.Empty, delta);

    /// <summary><paramref name="ttlMs"/>: from when the node takes it (0: no deadline; negative: already past, the key is deleted).</summary>
    public static KeyOp Expire(long ttlMs, ExpireCondition condition = ExpireCondition.None) =>
        new(KeyOpKind.Expire, condition == ExpireCondition.None ? ValueList<Bytes>.Empty : ValueList.From([Bytes.Wrap([(byte)condition])]), ttlMs);

    public static KeyOp Persist() => new(KeyOpKind.Persist, ValueList<Bytes>.Empty);

    /// <summary>The same operation on a hash as a key operation (the kinds share their numbers).</summary>
    public static KeyOp Of(HashOp op) => new((KeyOpKind)op.Kind, op.Args, op.Number);

    /// <summary>
    /// The operations a client sent, with every TTL turned into the deadline a replica put carries,
    /// by the clock of the node that took them (<paramref name="nowMs"/>): a positive TTL becomes
    /// now plus it, a negative one (an <c>EXPIRE</c> already past) a deadline already past, and 0
    /// (none) and <see cref="KeepTtl"/> stay. Null, or why a TTL is invalid (its deadline would overflow).
    /// </summary>
    public static string? WithDeadlines(IReadOnlyList<KeyOp> ops, long nowMs, out List<KeyOp> converted)
    {
        converted = new List<KeyOp>(ops.Count);
        foreach (var op in ops)
        {
            if (op.Kind is not (KeyOpKind.Expire or KeyOpKind.Set) || op.Number == 0 || (op.Kind == KeyOpKind.Set && op.Number == KeepTtl))
            {
                converted.Add(op);
                continue;
            }
            if (op.Number < 0) { converted.Add(op with { Number = 1 }); continue; }
            if (Expiry.TimeToLive.DeadlineOf(op.Number, nowMs, out var deadline) is { } error) return error;
            converted.Add(op with { Number = deadline });
        }
        return null;
    }

    /// <summary>The condition of an <see cref="KeyOpKind.Expire"/>.</summary>
    public ExpireCondition Condition => Kind == KeyOpKind.Expire && Args.Count == 1 ? (ExpireCondition)Args[0].Span[0] : ExpireCondition.None;

    /// <summary>
    /// Why the operations cannot be applied to any key (the shape of each, not the key's state), or
    /// null: a known kind with the arguments it takes, at least one operation and at most
    /// <paramref name="maxOps"/>. <paramref name="fromClient"/>: TTLs (which may be negative for an
    /// <see cref="KeyOpKind.Expire"/>) rather than the deadlines a replica put carries.
    /// </summary>
    public static string? CheckShape(IReadOnlyList<KeyOp>? ops, int maxOps, bool fromClient)
    {
        if (ops is null || ops.Count == 0) return "no operation";
        if (ops.Count > maxOps) return $"{ops.Count} operations in one request, over the limit of {maxOps}";
        foreach (var op in ops)
        {
            var error = op.Kind switch
            {
                KeyOpKind.HashSet when op.Args.Count == 0 || op.Args.Count % 2 != 0 => "HSET takes field and value pairs",
                KeyOpKind.HashDelete when op.Args.Count == 0 => "HDEL takes at least one field",
                KeyOpKind.HashIncrement when op.Args.Count != 1 => "HINCRBY takes one field",
                KeyOpKind.Expire when op.Args.Count > 1 || (op.Args.Count == 1 && (op.Args[0].Length != 1 || !ExpireConditions.IsValid((ExpireCondition)op.Args[0].Span[0])))
                    => "EXPIRE takes at most one condition: NX, XX, GT, LT, or XX with GT or LT",
                KeyOpKind.Expire when !fromClient && op.Number < 0 => "EXPIRE takes a deadline of 0 or more",
                KeyOpKind.Set when op.Args.Count != 1 => "SET takes one value",
                KeyOpKind.Set when op.Number < KeepTtl => "SET takes a TTL of 0 or more ms, or -1 to keep the key's",
                KeyOpKind.Read or KeyOpKind.Delete or KeyOpKind.Increment or KeyOpKind.Persist when op.Args.Count != 0 => $"{op.Kind} takes no argument",
                KeyOpKind.HashSet or KeyOpKind.HashDelete or KeyOpKind.HashIncrement or KeyOpKind.Expire or KeyOpKind.Read
                    or KeyOpKind.Set or KeyOpKind.Delete or KeyOpKind.Increment or KeyOpKind.Persist => null,
                _ => $"unknown operation {(byte)op.Kind}",
            };
            if (error is not null) return error;
        }
        return null;
    }
}

/// <summary>What a key holds, as <c>TYPE</c> names it.</summary>
public enum KeyType : byte { None = 0, String = 1, Hash = 2 }

/// <summary>
/// What a <see cref="KeyOpKind.Read"/> saw: the type, a string's value, a hash's fields (name,
/// value, name, value, ... ordered by name) and the deadline (Unix ms; 0: none).
/// </summary>
public sealed record KeyRead(KeyType Type, Bytes Value, ValueList<Bytes> Fields, long ExpiresAtMs)
{
    public static readonly KeyRead Absent = new(KeyType.None, Bytes.Empty, ValueList<Bytes>.Empty, 0);
}

/// <summary>
/// The result of one operation: a number (see each <see cref="KeyOpKind"/>), or why it did
/// nothing (<see cref="Error"/>, Redis's text: <c>WRONGTYPE</c>'s, not an integer, overflow), or
/// for a read what it saw.
/// </summary>
public sealed record KeyOpResult(long Number, string? Error = null, KeyRead? Read = null);

/// <summary>The wire form of key operations (hash operations share it) and of their results.</summary>
public static class KeyOpCodec
{
    public static void WriteKeyOps(this Codec.KvWriter w, IReadOnlyList<KeyOp> ops)
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

    /// <summary>Reads what <see cref="WriteKeyOps"/> wrote; kinds and shapes are checked by whoever takes them (<see cref="KeyOp.CheckShape"/>).</summary>
    public static ValueList<KeyOp> ReadKeyOps(this Codec.KvReader r)
    {
        var count = r.ReadCount();
        var ops = new List<KeyOp>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var kind = (KeyOpKind)r.ReadByte();
            var n = r.ReadCount();
            var args = new List<Bytes>(Math.Min(n, 1024));
            for (var a = 0; a < n; a++) args.Add(r.ReadBytes());
            ops.Add(new KeyOp(kind, ValueList.From(args), r.ReadVarLong()));
        }
        return ValueList.From(ops);
    }

    /// <summary>Hash operations in the same form (<see cref="KeyOp.Of"/>).</summary>
    public static void WriteHashOps(this Codec.KvWriter w, IReadOnlyList<HashOp> ops) => w.WriteKeyOps(ops.Select(KeyOp.Of).ToList());

    /// <summary>Reads what <see cref="WriteHashOps"/> wrote; kinds and shapes are checked by whoever takes them (<c>Limits.CheckHashOps</c>).</summary>
    public static ValueList<HashOp> ReadHashOps(this Codec.KvReader r) =>
        ValueList.From(r.ReadKeyOps().Select(k => new HashOp((HashOpKind)k.Kind, k.Args, k.Number)).ToList());

    public static void WriteKeyOpResults(this Codec.KvWriter w, IReadOnlyList<KeyOpResult> results)
    {
        w.WriteInt(results.Count);
        foreach (var result in results)
        {
            w.WriteVarLong(result.Number);
            w.WriteByte((byte)((result.Error is null ? 0 : 1) | (result.Read is null ? 0 : 2)));
            if (result.Error is { } error) w.WriteString(error);
            if (result.Read is not { } read) continue;
            w.WriteByte((byte)read.Type);
            w.WriteBytes(read.Value);
            w.WriteInt(read.Fields.Count);
            foreach (var f in read.Fields) w.WriteBytes(f);
            w.WriteVarLong(read.ExpiresAtMs);
        }
    }

    public static ValueList<KeyOpResult> ReadKeyOpResults(this Codec.KvReader r)
    {
        var count = r.ReadCount();
        var results = new List<KeyOpResult>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var number = r.ReadVarLong();
            var flags = r.ReadByte();
            if (flags > 3) throw new FormatException($"unknown result flags {flags}");
            var error = (flags & 1) != 0 ? r.ReadString() : null;
            KeyRead? read = null;
            if ((flags & 2) != 0)
            {
                var type = (KeyType)r.ReadByte();
                if (type > KeyType.Hash) throw new FormatException($"unknown key type {(byte)type}");
                var value = r.ReadBytes();
                var n = r.ReadCount();
                if (n % 2 != 0) throw new FormatException("hash fields without their values");
                var fields = new List<Bytes>(Math.Min(n, 1024));
                for (var f = 0; f < n; f++) fields.Add(r.ReadBytes());
                read = new KeyRead(type, value, ValueList.From(fields), r.ReadVarLong());
            }
            results.Add(new KeyOpResult(number, error, read));
        }
        return ValueList.From(results);
    }
}
