using System.Collections.Frozen;
using AkkaKv.Counters;
using AkkaKv.Expiry;
using AkkaKv.Hashes;
using AkkaKv.Protocol;
using AkkaKv.Transactions;

namespace AkkaKv.Resp;

/// <summary>The operations a command adds to a transaction, and how its reply is made from their results.</summary>
internal sealed record PlannedCommand(IReadOnlyList<KeyOp> Ops, Func<IReadOnlyList<KeyOpResult>, Task<RespValue>> Reply);

/// <summary>
/// One command queued between <c>MULTI</c> and <c>EXEC</c>: the command and its call (planned again
/// at EXEC, so that times such as <c>EXPIREAT</c>'s count from EXEC, as in Redis), its keys, and
/// the operations and argument bytes it adds.
/// </summary>
internal sealed record QueuedCommand(RespCommand Command, RespCall Call, IReadOnlyList<Bytes> Keys, int Ops, long ArgBytes);

/// <summary>The commands a connection has queued since <c>MULTI</c>, and whether one was refused (then <c>EXEC</c> discards them all).</summary>
internal sealed class QueuedTransaction
{
    public List<QueuedCommand> Commands { get; } = new();
    public bool Aborted { get; set; }
    public int Ops { get; set; }
    public long ArgBytes { get; set; }
    /// <summary>The distinct keys its commands name (EXEC writes them; more than one is refused).</summary>
    public List<Bytes> Keys => Commands.SelectMany(q => q.Keys).Distinct().ToList();
}

/// <summary>
/// Single-key transactions (README "Transactions"): <c>MULTI</c> queues commands, <c>EXEC</c>
/// sends them as one <see cref="Transaction"/> to the key's coordinating replica, which applies
/// them in order to what it holds and writes one version (<see cref="KeyRules"/>), so every
/// replica takes all of them or none; <c>EXEC</c> answers each command's reply, as Redis does. A
/// transaction that touches more than one key is refused at <c>EXEC</c>, as Redis Cluster refuses
/// one across slots. <c>WATCH</c> is refused with why: it needs a linearizable store.
/// </summary>
internal static partial class RespCommands
{
    private static readonly RespValue Queued = new RespSimple("QUEUED");

    /// <summary>The refusal of <c>WATCH</c>, and the alternative.</summary>
    internal const string WatchRefused =
        "ERR WATCH is not supported: optimistic locking needs a linearizable store, and AkkaKv stays available under partitions instead (two sides could both pass the check); "
        + "for read-modify-write, read with KV.GET and write with KV.PUT key value CONTEXT ctx, which replaces exactly what you read and keeps a concurrent write as a sibling, "
        + "or queue the commands of one key in MULTI/EXEC, which the key's coordinating replica applies as one write";

    private static Task<RespValue> Multi(RespCall c)
    {
        if (c.Session.Transaction is not null) return Done(RespValue.Error("ERR MULTI calls can not be nested"));
        c.Session.Transaction = new QueuedTransaction();
        return Done(RespValue.Ok);
    }

    /// <summary>
    /// <c>WATCH</c>: refused; and the connection's next <c>EXEC</c> is refused too (until
    /// <c>UNWATCH</c> or <c>DISCARD</c>), so a client that sends WATCH, checks a condition and then
    /// runs MULTI/EXEC (StackExchange.Redis's conditions do) never has its transaction applied as
    /// if the key had been watched.
    /// </summary>
    private static Task<RespValue> Watch(RespCall c)
    {
        // As Redis: inside MULTI it is an error that leaves the transaction as it is.
        if (c.Session.Transaction is not null) return Done(RespValue.Error("ERR WATCH inside MULTI is not allowed"));
        c.Session.WatchRefused = true;
        return Done(RespValue.Error(WatchRefused));
    }

    private static Task<RespValue> Unwatch(RespCall c)
    {
        c.Session.WatchRefused = false;
        return Done(RespValue.Ok);
    }

    private static Task<RespValue> Discard(RespCall c)
    {
        if (c.Session.Transaction is null) return Done(RespValue.Error("ERR DISCARD without MULTI"));
        c.Session.Transaction = null;
        c.Session.WatchRefused = false;
        return Done(RespValue.Ok);
    }

    /// <summary>
    /// Queues <paramref name="c"/> in the connection's transaction and answers <c>QUEUED</c>, or
    /// the reason it cannot be (then the transaction is aborted, as Redis does for a command it
    /// refuses while queueing).
    /// </summary>
    internal static RespValue Queue(QueuedTransaction txn, RespCommand command, RespCall c)
    {
        if (!Queueable(command))
            return Abort(txn, RespValue.Error($"ERR '{command.Name.ToLowerInvariant()}' cannot be queued in a transaction: a transaction holds the commands of one key "
                                              + "(reads, SET, DEL, EXPIRE, PERSIST, INCR, HSET, HDEL, HINCRBY and their kin) and PING/ECHO/UNWATCH, applied as one write; KV.* and commands over many keys or none are refused"));
        // Bad arguments (not an integer, a bad option) are the command's reply inside EXEC's array, as in Redis.
        var ops = Plan(command, c, out var planned) is null ? planned!.Ops.Count : 0;
        var argBytes = c.Args.Skip(1).Sum(a => (long)a.Length);
        var limits = c.Session.Node.Settings;
        if (txn.Ops + ops > Configuration.Limits.MaxHashOps)
            return Abort(txn, RespValue.Error($"ERR a transaction holds at most {Configuration.Limits.MaxHashOps} operations (the limit on one write)"));
        if (txn.ArgBytes + argBytes > limits.MaxBytesPerKey)
            return Abort(txn, RespValue.Error($"ERR a transaction's arguments are limited to {limits.MaxBytesPerKey} bytes in all (akka-kv.limits.max-bytes-per-key): it is one write of one key"));
        txn.Ops += ops;
        txn.ArgBytes += argBytes;
        txn.Commands.Add(new QueuedCommand(command, c, KeysOf(command, c.Args), ops, argBytes));
        return Queued;
    }

    private static RespValue Abort(QueuedTransaction txn, RespValue refusal)
    {
        txn.Aborted = true;
        return refusal;
    }

    /// <summary>The write commands a transaction may queue (<see cref="Plan"/> turns each into operations).</summary>
    private static readonly FrozenSet<string> PlannedWrites = new[]
    {
        "SET", "SETEX", "PSETEX", "MSET", "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST",
        "INCR", "DECR", "INCRBY", "DECRBY", "HSET", "HMSET", "HDEL", "HINCRBY",
    }.ToFrozenSet();

    private static bool Queueable(RespCommand command) =>
        KeylessInTransaction.Contains(command.Name) || PlannedWrites.Contains(command.Name)
        || (command.Kind == CommandKind.Read && command.FirstKey == 1 && command.Name != "KV.GET");

    /// <summary><c>EXEC</c>: the queued commands (<see cref="RespCall.Queued"/>, taken from the connection when EXEC arrived) as one write, and the array of their replies.</summary>
    private static async Task<RespValue> Exec(RespCall c)
    {
        if (c.Queued is not { } txn) return RespValue.Error("ERR EXEC without MULTI");
        if (txn.Aborted) return RespValue.Error("EXECABORT Transaction discarded because of previous errors.");
        if (c.AfterRefusedWatch)
            return RespValue.Error("EXECABORT Transaction discarded: this connection sent WATCH, which AkkaKv refuses (it needs a linearizable store), so the transaction cannot be made conditional on it; send UNWATCH to run transactions without it");
        var keys = txn.Keys;
        if (keys.Count > 1)
            return RespValue.Error($"ERR EXEC refused: the transaction touches {keys.Count} keys ({string.Join(", ", keys.Take(4).Select(k => $"'{RespSession.Show(k)}'"))}{(keys.Count > 4 ? ", ..." : "")}); "
                                   + "AkkaKv applies a transaction to one key as one write (as Redis Cluster refuses a transaction across slots): queue each key's commands in their own MULTI/EXEC");
        // Planned now, at EXEC, by this node's clock.
        var planned = txn.Commands.Select(q => Plan(q.Command, q.Call, out var p) is { } error
            ? new PlannedCommand([], _ => Task.FromResult(error)) : p!).ToList();
        var ops = planned.SelectMany(p => p.Ops).ToList();
        IReadOnlyList<KeyOpResult> results = [];
        if (ops.Count > 0)
        {
            switch (await Ask(c, new Transaction(keys[0], ValueList.From(ops), RequestOptions.Default), RequestOptions.Default))
            {
                case TransactionSuccess s when s.Results.Count == ops.Count: results = s.Results; break;
                case RequestFailed f: return RespValue.Error($"ERR EXEC failed: {f.Reason}");
                default: return RespValue.Error("ERR unexpected reply");
            }
        }
        var replies = new List<RespValue>(planned.Count);
        var at = 0;
        foreach (var q in planned)
        {
            replies.Add(await q.Reply(results.Skip(at).Take(q.Ops.Count).ToList()));
            at += q.Ops.Count;
        }
        return RespValue.Array(replies);
    }

    /// <summary>The keys a command names, by its <c>COMMAND</c> metadata (first, last, step).</summary>
    internal static IReadOnlyList<Bytes> KeysOf(RespCommand command, Bytes[] args)
    {
        if (command.FirstKey == 0) return [];
        var last = command.LastKey < 0 ? args.Length + command.LastKey : Math.Min(command.LastKey, args.Length - 1);
        var keys = new List<Bytes>();
        for (var i = command.FirstKey; i <= last; i += command.Step) keys.Add(args[i]);
        return keys;
    }

    /// <summary>What a read inside a transaction saw, as the reply of a read at R would carry it (no context, no replicas: the coordinating replica read it).</summary>
    private static IGetResponse AsReadReply(Bytes key, KeyRead read) => read.Type switch
    {
        KeyType.String => new GetSuccess(key, ValueList.From([read.Value]), "", ValueList<ReplicaReport>.Empty,
            read.ExpiresAtMs > 0 ? ValueList.From([read.ExpiresAtMs]) : null),
        KeyType.Hash => new GetSuccess(key, ValueList<Bytes>.Empty, "", ValueList<ReplicaReport>.Empty, ValueList.From([read.ExpiresAtMs]), read.Fields),
        _ => new NotFound(key, "", ValueList<ReplicaReport>.Empty),
    };

    /// <summary>The reply to an operation's result: its number, or its refusal as Redis words it.</summary>
    private static RespValue NumberOrError(KeyOpResult r) => r.Error switch
    {
        null => RespValue.Integer(r.Number),
        CounterRules.WrongType => WrongType,
        CounterRules.NotAnInteger => NotAnInteger,
        var reason => RespValue.Error("ERR " + reason),
    };

    private static PlannedCommand Step(IReadOnlyList<KeyOp> ops, Func<IReadOnlyList<KeyOpResult>, RespValue> reply) =>
        new(ops, r => Task.FromResult(reply(r)));

    /// <summary>The first refusal among the results, or <paramref name="ok"/>.</summary>
    private static Func<IReadOnlyList<KeyOpResult>, RespValue> OkUnlessRefused(RespValue ok) =>
        r => r.FirstOrDefault(x => x.Error is not null) is { } refused ? NumberOrError(refused) : ok;

    /// <summary>The reply of a one-operation command: its number, or its refusal.</summary>
    private static readonly Func<IReadOnlyList<KeyOpResult>, RespValue> FirstNumber = r => NumberOrError(r[0]);

    /// <summary>The commands a transaction may queue besides reads of one key (planned into operations here).</summary>
    private static readonly FrozenSet<string> KeylessInTransaction = new[] { "PING", "ECHO", "UNWATCH" }.ToFrozenSet();

    /// <summary>
    /// The operations <paramref name="c"/> (a <see cref="Queueable"/> command) adds to a transaction
    /// and how its reply is made, or Redis's error for its arguments.
    /// </summary>
    private static RespValue? Plan(RespCommand command, RespCall c, out PlannedCommand? queued)
    {
        queued = null;
        if (KeylessInTransaction.Contains(command.Name))
        {
            // UNWATCH inside MULTI is queued and answers OK, as Redis; it does not clear a refused WATCH (the EXEC is refused).
            queued = new PlannedCommand([], _ => command.Name == "UNWATCH" ? Done(RespValue.Ok) : command.Run(c));
            return null;
        }
        if (command.Kind == CommandKind.Read && command.FirstKey == 1 && command.Name != "KV.GET")
        {
            // Every read command of one key runs as it does outside, on what the transaction's read saw.
            var key = c.Args[1];
            queued = new PlannedCommand([KeyOp.Read()],
                r => command.Run(c with { Preread = r[0].Read is { } read ? AsReadReply(key, read) : new RequestFailed(key, r[0].Error ?? "no read", 0, 0) }));
            return null;
        }
        switch (command.Name)
        {
            case "SET":
            {
                if (ParseSetOptions(Enumerable.Range(3, c.Args.Length - 3).Select(c.Arg).ToArray(), out var spec) is { } error) return error;
                return PlanSet(c, command, c.Args[2], spec, out queued);
            }
            case "SETEX" or "PSETEX":
                switch (ExpirySpec.Parse(command.Name == "SETEX" ? "EX" : "PX", c.Arg(2), positive: true, out var exSpec))
                {
                    case ExpirySpec.ParseError.NotAnInteger: return NotAnInteger;
                    case ExpirySpec.ParseError.Invalid: return InvalidExpire(c);
                }
                return PlanSet(c, command, c.Args[3], exSpec, out queued);
            case "MSET":
                if (c.Args.Length % 2 != 1) return RespValue.Error("ERR wrong number of arguments for 'mset' command");
                queued = Step(Enumerable.Range(0, (c.Args.Length - 1) / 2).Select(i => KeyOp.Set(c.Args[2 + 2 * i])).ToList(), OkUnlessRefused(RespValue.Ok));
                return null;
            case "DEL" or "UNLINK":
                queued = Step([KeyOp.Delete()], FirstNumber);
                return null;
            case "EXPIRE" or "PEXPIRE" or "EXPIREAT" or "PEXPIREAT":
            {
                var option = command.Name switch { "EXPIRE" => "EX", "PEXPIRE" => "PX", "EXPIREAT" => "EXAT", _ => "PXAT" };
                switch (ExpirySpec.Parse(option, c.Arg(2), positive: false, out var spec))
                {
                    case ExpirySpec.ParseError.NotAnInteger: return NotAnInteger;
                    case ExpirySpec.ParseError.Invalid: return InvalidExpire(c);
                }
                if (ParseExpireCondition(Enumerable.Range(3, c.Args.Length - 3).Select(c.Arg).ToArray(), out var condition) is { } error) return error;
                var now = NowMs(c);
                if (!spec.IsPastAt(now) && spec.TtlAt(now) > long.MaxValue - now) return InvalidExpire(c);
                // A deadline not in the future deletes the key (a negative TTL says so to the gateway).
                var ttl = spec.IsPastAt(now) ? -1 : Math.Max(1, spec.TtlAt(now));
                queued = Step([KeyOp.Expire(ttl, condition)], FirstNumber);
                return null;
            }
            case "PERSIST":
                queued = Step([KeyOp.Persist()], FirstNumber);
                return null;
            case "INCR" or "DECR" or "INCRBY" or "DECRBY":
            {
                if (ParseDelta(c, out var delta) is { } error) return error;
                queued = Step([KeyOp.Increment(delta)], FirstNumber);
                return null;
            }
            case "HSET" or "HMSET":
            {
                if (c.Args.Length % 2 != 0) return RespValue.Error($"ERR wrong number of arguments for '{command.Name.ToLowerInvariant()}' command");
                var op = KeyOp.Of(HashOp.Set(HashPairs(c)));
                queued = Step([op], command.Name == "HMSET" ? OkUnlessRefused(RespValue.Ok) : FirstNumber);
                return null;
            }
            case "HDEL":
                queued = Step([KeyOp.Of(HashOp.Delete(c.Args.Skip(2).ToArray()))], FirstNumber);
                return null;
            case "HINCRBY":
                if (!CounterRules.TryParse(c.Args[3], out var by)) return NotAnInteger;
                queued = Step([KeyOp.Of(HashOp.Increment(c.Args[2], by))], FirstNumber);
                return null;
            default:
                throw new InvalidOperationException($"{command.Name} is not planned for transactions");
        }
    }

    /// <summary>SET, SETEX, PSETEX in a transaction: a value with the deadline <paramref name="spec"/> gives (one already past deletes the key, as Redis stores nothing).</summary>
    private static RespValue? PlanSet(RespCall c, RespCommand command, Bytes value, ExpirySpec spec, out PlannedCommand? queued)
    {
        queued = null;
        var now = NowMs(c);
        KeyOp op;
        if (spec.How == ExpirySpec.Kind.Keep) op = KeyOp.Set(value, KeyOp.KeepTtl);
        else if (spec.How == ExpirySpec.Kind.None) op = KeyOp.Set(value);
        else if (spec.IsPastAt(now)) op = KeyOp.Delete();
        else if (spec.TtlAt(now) > long.MaxValue - now) return InvalidExpire(c);
        else op = KeyOp.Set(value, Math.Max(1, spec.TtlAt(now)));
        queued = Step([op], OkUnlessRefused(RespValue.Ok));
        return null;
    }
}
