using AkkaKv.Configuration;
using AkkaKv.Counters;
using AkkaKv.Expiry;
using AkkaKv.Hashes;
using AkkaKv.Replica;
using AkkaKv.Transactions;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

/// <summary>
/// Transactions of one key in the pure core (<see cref="KeyRules"/>): any history of transactions
/// at one replica reads, result by result and after each transaction, as Redis's sequential model
/// does; increments inside transactions on concurrent replicas all count once in any interleaving
/// of transactions and merges; a transaction is one version (all or nothing on every replica);
/// an operation refused for the key's state does nothing while the others apply.
/// </summary>
public sealed class TransactionTests(ITestOutputHelper output)
{
    private static readonly Bytes Key = Bytes.FromUtf8("t");
    private const long Now = 1_800_000_000_000;
    private static Bytes B(string s) => Bytes.FromUtf8(s);

    private static ReplicaState Replica(int r) => ReplicaState.Empty.Apply(new ReplicaIncarnated($"n{r + 1}/{r}.0000000{r}"));

    private static Dot NextDot(ReplicaState s) => new(s.ActorId!, s.Counter + 1);

    /// <summary>Applies a transaction at <paramref name="state"/> as its replica actor does, and returns the results.</summary>
    private static KeyOpResult[] Exec(ref ReplicaState state, long now, params KeyOp[] ops)
    {
        var evt = state.TransactionEvent(Key, state.Get(Key), NextDot(state), ops, now, out var results);
        if (evt is not null)
        {
            Assert.Single(evt.Siblings.Siblings); // one version, whatever the number of operations
            state = state.Apply(evt);
        }
        return results;
    }

    private static void Sync(ref ReplicaState to, ReplicaState from) => to = to.Apply(new SiblingsMerged(Key, from.Get(Key)));

    /// <summary>What a read at R returns for the key: its type, a string's value, a hash's fields, the deadline.</summary>
    private static string Show(ReplicaState s, long now)
    {
        var set = s.Get(Key);
        if (HashRules.Read(set, now) is { } h)
            return $"hash {{{string.Join(",", h.Fields.Select(f => $"{f.Name.ToUtf8()}={f.Value.ToUtf8()}"))}}} @{h.ExpiresAtMs}";
        var values = CounterRules.Read(set, now);
        return values.Count == 0 ? "none" : $"string {values[^1].Value.ToUtf8()} @{values[^1].ExpiresAtMs}";
    }

    // ---- Redis's sequential model ---------------------------------------------------------

    /// <summary>The key as Redis keeps it: a type, a string or fields, a deadline (0: none).</summary>
    private sealed class Model
    {
        public KeyType Type;
        public string Str = "";
        public SortedDictionary<string, string> Fields = new(StringComparer.Ordinal);
        public long Deadline;

        public string Show() => Type switch
        {
            KeyType.Hash => $"hash {{{string.Join(",", Fields.Select(f => $"{f.Key}={f.Value}"))}}} @{Deadline}",
            KeyType.String => $"string {Str} @{Deadline}",
            _ => "none",
        };

        private void Clear() { Type = KeyType.None; Str = ""; Fields = new(StringComparer.Ordinal); Deadline = 0; }

        private static string? Add(string current, long delta, string notInteger, out long after)
        {
            after = 0;
            if (!CounterRules.TryParse(B(current), out var n)) return notInteger;
            var sum = (Int128)n + delta;
            if (sum < long.MinValue || sum > long.MaxValue) return CounterRules.Overflow;
            after = (long)sum;
            return null;
        }

        /// <summary>The result Redis gives (a number, a refusal, or for a read the state shown) and its effect.</summary>
        public string Apply(KeyOp op, long now)
        {
            switch (op.Kind)
            {
                case KeyOpKind.Read: return "read " + Show();
                case KeyOpKind.Set:
                {
                    var deadline = op.Number == KeyOp.KeepTtl ? Deadline : op.Number;
                    Clear();
                    if (deadline > 0 && deadline <= now) return "1";
                    Type = KeyType.String; Str = op.Args[0].ToUtf8(); Deadline = deadline;
                    return "1";
                }
                case KeyOpKind.Delete:
                    if (Type == KeyType.None) return "0";
                    Clear();
                    return "1";
                case KeyOpKind.Increment:
                {
                    if (Type == KeyType.Hash) return CounterRules.WrongType;
                    if (Add(Type == KeyType.None ? "0" : Str, op.Number, CounterRules.NotAnInteger, out var after) is { } e) return e;
                    Type = KeyType.String; Str = after.ToString();
                    return Str;
                }
                case KeyOpKind.Expire:
                    if (Type == KeyType.None || !op.Condition.Holds(Deadline, op.Number == 0 ? long.MaxValue : op.Number)) return "0";
                    if (op.Number > 0 && op.Number <= now) Clear();
                    else Deadline = op.Number;
                    return "1";
                case KeyOpKind.Persist:
                    if (Type == KeyType.None || Deadline == 0) return "0";
                    Deadline = 0;
                    return "1";
                case KeyOpKind.HashSet:
                {
                    if (Type == KeyType.String) return CounterRules.WrongType;
                    Type = KeyType.Hash;
                    var added = 0;
                    for (var a = 0; a < op.Args.Count; a += 2)
                    {
                        if (!Fields.ContainsKey(op.Args[a].ToUtf8())) added++;
                        Fields[op.Args[a].ToUtf8()] = op.Args[a + 1].ToUtf8();
                    }
                    return added.ToString();
                }
                case KeyOpKind.HashDelete:
                {
                    if (Type == KeyType.String) return CounterRules.WrongType;
                    var removed = op.Args.Select(a => a.ToUtf8()).Distinct().Count(f => Fields.Remove(f));
                    if (Type == KeyType.Hash && Fields.Count == 0) Clear();
                    return removed.ToString();
                }
                case KeyOpKind.HashIncrement:
                {
                    if (Type == KeyType.String) return CounterRules.WrongType;
                    var name = op.Args[0].ToUtf8();
                    if (Add(Fields.GetValueOrDefault(name, "0"), op.Number, HashRules.NotAnInteger, out var after) is { } e) return e;
                    Type = KeyType.Hash;
                    Fields[name] = after.ToString();
                    return Fields[name];
                }
                default: throw new InvalidOperationException();
            }
        }
    }

    private static string Show(KeyOpResult r) => r.Error ?? (r.Read is { } read ? "read " + ShowRead(read) : r.Number.ToString());

    private static string ShowRead(KeyRead r) => r.Type switch
    {
        KeyType.Hash => $"hash {{{string.Join(",", r.Fields.Chunk(2).Select(p => $"{p[0].ToUtf8()}={p[1].ToUtf8()}"))}}} @{r.ExpiresAtMs}",
        KeyType.String => $"string {r.Value.ToUtf8()} @{r.ExpiresAtMs}",
        _ => "none",
    };

    // Few values and fields, integers near the 64-bit edges and not-integers, deadlines kept, set, past.
    private static readonly string[] Values = ["0", "7", "-3", "x", "+1", long.MaxValue.ToString()];
    private static readonly long[] Deltas = [1, -2, 5, long.MaxValue, long.MinValue];
    private static readonly ExpireCondition[] Conditions =
        [ExpireCondition.None, ExpireCondition.Nx, ExpireCondition.Xx, ExpireCondition.Gt, ExpireCondition.Lt, ExpireCondition.Xx | ExpireCondition.Lt];

    private static readonly Gen<KeyOp> GenOp =
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, Values.Length - 1], Gen.Int[0, Deltas.Length - 1], Gen.Int[0, 3], Gen.Int[0, Conditions.Length - 1])
            .Select((kind, v, d, t, c) =>
            {
                long[] deadlines = [0, 1, Now + 2_000_000, Now + 1_000_000];
                var field = B(((char)('a' + t % 3)).ToString());
                return kind switch
                {
                    0 or 1 => KeyOp.Read(),
                    2 => KeyOp.Set(B(Values[v]), t == 1 ? KeyOp.KeepTtl : deadlines[t]),
                    3 => KeyOp.Delete(),
                    4 or 5 => KeyOp.Increment(Deltas[d]),
                    6 => new KeyOp(KeyOpKind.Expire, c == 0 ? ValueList<Bytes>.Empty : ValueList.From([Bytes.Wrap([(byte)Conditions[c]])]), deadlines[t]),
                    7 => KeyOp.Persist(),
                    8 or 9 => KeyOp.Of(HashOp.Set((field, B(Values[v])), (B("b"), B(Values[(v + 1) % Values.Length])))),
                    10 => KeyOp.Of(HashOp.Delete(field, B("c"))),
                    _ => KeyOp.Of(HashOp.Increment(field, Deltas[d])),
                };
            });

    [Fact]
    public void Every_history_of_transactions_at_one_replica_reads_as_Redis_runs_it()
    {
        // The store mints each transaction as one version of its own kind (a counter increment, a
        // value, a hash, a tombstone); reading it back must give what Redis would hold.
        GenOp.Array[1, 6].Array[1, 12].Sample(history =>
        {
            var store = Replica(0);
            var model = new Model();
            for (var t = 0; t < history.Length; t++)
            {
                var now = Now + t;
                var results = Exec(ref store, now, history[t]);
                for (var i = 0; i < history[t].Length; i++)
                    Assert.Equal(model.Apply(history[t][i], now), Show(results[i]));
                Assert.Equal(model.Show(), Show(store, now));
            }
        }, iter: 1000, print: h => string.Join(" | ", h.Select(t => string.Join("; ", t.Select(o => $"{o.Kind} {string.Join(",", o.Args.Select(a => a.ToUtf8()))} {o.Number}")))),
            writeLine: output.WriteLine);
    }

    private sealed record Step(int Replica, int Source, bool IsSync, long Delta, int Extra);

    [Fact]
    public void Increments_in_transactions_on_concurrent_replicas_all_count_once_in_any_interleaving()
    {
        // From "10" on every replica: transactions of increments, deadlines, PERSIST and reads, on
        // any replica, with merges in between; once all have met, the number is 10 plus every delta.
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], Gen.Bool, Gen.Long[-1000, 1000], Gen.Int[0, 3])
            .Select((r, s, sync, d, x) => new Step(r, s, sync, d, x)).Array[1, 30].Sample(steps =>
            {
                var replicas = new[] { Replica(0), Replica(1), Replica(2) };
                Exec(ref replicas[0], Now, KeyOp.Set(B("10")));
                Sync(ref replicas[1], replicas[0]);
                Sync(ref replicas[2], replicas[0]);
                long sum = 10;
                foreach (var step in steps)
                {
                    if (step.IsSync) { Sync(ref replicas[step.Replica], replicas[step.Source]); continue; }
                    KeyOp[] ops = step.Extra switch
                    {
                        0 => [KeyOp.Increment(step.Delta)],
                        1 => [KeyOp.Increment(step.Delta), KeyOp.Expire(Now + 5_000_000), KeyOp.Read()],
                        2 => [KeyOp.Read(), KeyOp.Increment(step.Delta), KeyOp.Persist(), KeyOp.Increment(1)],
                        _ => [KeyOp.Expire(Now + 6_000_000), KeyOp.Read()],
                    };
                    var results = Exec(ref replicas[step.Replica], Now + 1, ops);
                    Assert.All(results, r => Assert.Null(r.Error));
                    sum += ops.Where(o => o.Kind == KeyOpKind.Increment).Sum(o => o.Number);
                }
                for (var round = 0; round < 2; round++)
                    for (var a = 0; a < 3; a++)
                        for (var b = 0; b < 3; b++)
                            Sync(ref replicas[a], replicas[b]);
                foreach (var r in replicas)
                    Assert.Equal($"{sum}", CounterRules.Read(r.Get(Key), Now + 2).Single().Value.ToUtf8());
            }, iter: 500, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_SET_and_INCR_in_one_transaction_concurrent_with_an_INCRBY_elsewhere_count_both()
    {
        var a = Replica(0);
        var b = Replica(1);
        Exec(ref a, Now, KeyOp.Set(B("1")));
        Sync(ref b, a);
        // a: MULTI SET k 5; INCR k EXEC (a reset to 6, observed); b: INCRBY k 3 concurrently.
        var made = Exec(ref a, Now + 1, KeyOp.Set(B("5")), KeyOp.Increment(1));
        Assert.Equal(6, made[1].Number);
        Assert.Equal(4, Exec(ref b, Now + 1, KeyOp.Increment(3))[0].Number);
        Sync(ref a, b);
        Sync(ref b, a);
        Assert.Equal("9", CounterRules.Read(a.Get(Key), Now + 2).Single().Value.ToUtf8());
        Assert.Equal("9", CounterRules.Read(b.Get(Key), Now + 2).Single().Value.ToUtf8());
    }

    [Fact]
    public void An_increment_counts_from_the_value_a_read_shows_when_the_counter_beside_it_expired()
    {
        // a: INCR k, then EXPIRE k (a counter with a deadline); b, concurrently: SET k 5. Once the
        // counter expired, GET answers 5: an INCR (in a transaction or not) must make 6, and store 6.
        var a = Replica(0);
        var b = Replica(1);
        Exec(ref a, Now, KeyOp.Increment(1), KeyOp.Expire(Now + 100));
        Exec(ref b, Now + 1, KeyOp.Set(B("5")));
        Sync(ref a, b);
        Sync(ref b, a);
        var later = Now + 200;
        Assert.Equal("string 5 @0", Show(a, later));
        var made = Exec(ref a, later, KeyOp.Increment(1), KeyOp.Read());
        Assert.Equal(6, made[0].Number);
        Assert.Equal("string 6 @0", ShowRead(made[1].Read!));
        Assert.Equal("string 6 @0", Show(a, later));
        Assert.Null(b.IncrementEvent(Key, b.Get(Key), NextDot(b), 1, later, out var evt, out var number));
        Assert.Equal(6, number);
        Assert.Equal("string 6 @0", Show(b.Apply(evt!), later));
    }

    [Fact]
    public void Concurrent_transactions_on_different_fields_of_a_hash_both_survive()
    {
        var a = Replica(0);
        var b = Replica(1);
        Exec(ref a, Now, KeyOp.Of(HashOp.Set((B("base"), B("0")))));
        Sync(ref b, a);
        Exec(ref b, Now + 1, KeyOp.Of(HashOp.Set((B("y"), B("2")))), KeyOp.Of(HashOp.Delete(B("base"))));
        // The deadline is the newest version's (the GET rule): a's, minted later.
        Exec(ref a, Now + 2, KeyOp.Of(HashOp.Set((B("x"), B("1")))), KeyOp.Of(HashOp.Increment(B("n"), 2)), KeyOp.Expire(Now + 60_000));
        Sync(ref a, b);
        Sync(ref b, a);
        Assert.Equal($"hash {{n=2,x=1,y=2}} @{Now + 60_000}", Show(a, Now + 3));
        Assert.Equal(Show(a, Now + 3), Show(b, Now + 3));
    }

    [Fact]
    public void A_refused_operation_does_nothing_while_the_others_of_the_transaction_apply()
    {
        var s = Replica(0);
        Exec(ref s, Now, KeyOp.Set(B("text")));
        var results = Exec(ref s, Now + 1,
            KeyOp.Increment(1), KeyOp.Of(HashOp.Set((B("f"), B("v")))), KeyOp.Expire(Now + 10_000), KeyOp.Read());
        Assert.Equal(CounterRules.NotAnInteger, results[0].Error);
        Assert.Equal(CounterRules.WrongType, results[1].Error);
        Assert.Equal(1, results[2].Number);
        Assert.Equal($"string text @{Now + 10_000}", ShowRead(results[3].Read!));
        Assert.Equal($"string text @{Now + 10_000}", Show(s, Now + 1));

        // All or nothing for a hash write (HSET k f v then HINCRBY of a non-integer field writes neither).
        var h = Replica(1);
        var before = h;
        Assert.Equal(HashRules.NotAnInteger, KeyRules.Apply(h.Get(Key), Now, NextDot(h), default,
            [KeyOp.Of(HashOp.Set((B("f"), B("x")))), KeyOp.Of(HashOp.Increment(B("f"), 1))], stopAtError: true, out var version, out _));
        Assert.Null(version);
        Assert.Same(before, h);
    }

    [Fact]
    public void A_transaction_that_only_reads_or_changes_nothing_writes_nothing()
    {
        var s = Replica(0);
        Exec(ref s, Now, KeyOp.Set(B("v")), KeyOp.Expire(Now + 1000));
        var counter = s.Counter;
        var results = Exec(ref s, Now + 1, KeyOp.Read(), KeyOp.Expire(Now + 2000, ExpireCondition.Nx), KeyOp.Of(HashOp.Delete(B("f"))));
        Assert.Equal($"string v @{Now + 1000}", ShowRead(results[0].Read!));
        Assert.Equal(0, results[1].Number);
        Assert.Equal(CounterRules.WrongType, results[2].Error);
        Assert.Equal(counter, s.Counter);
        // On a key that is absent: a SET and a DEL of it cancel out, and nothing is written.
        var e = Replica(1);
        Assert.Equal(["1", "1", "read none"], Exec(ref e, Now, KeyOp.Set(B("v")), KeyOp.Delete(), KeyOp.Read()).Select(Show));
        Assert.True(e.Get(Key).IsEmpty);
    }

    [Fact]
    public void Transactions_are_refused_while_a_member_is_below_their_feature_level()
    {
        Assert.True(AkkaKv.Placement.FeatureLevel.AtLeast(AkkaKv.Placement.FeatureLevel.Current, AkkaKv.Placement.FeatureLevel.Transactions));
        var members = AkkaKv.Placement.Membership.Of(
        [
            new AkkaKv.Placement.MemberState("n1", "akka.tcp://kv@127.0.0.1:1", AkkaKv.Placement.MemberStatus.Up, true, AkkaKv.Placement.FeatureLevel.Current),
            new AkkaKv.Placement.MemberState("n2", "akka.tcp://kv@127.0.0.1:2", AkkaKv.Placement.MemberStatus.Up, true, "1.2.0"),
        ]);
        Assert.Equal("a transaction needs every node at feature level 1.3.0 or later, and n2 (1.2.0) is older: finish upgrading every node first",
            AkkaKv.Placement.FeatureLevel.Refusal(members, AkkaKv.Placement.FeatureLevel.Transactions, "a transaction"));
        // Hash writes still run beside a 1.2.0 node.
        Assert.Null(AkkaKv.Placement.FeatureLevel.Refusal(members, AkkaKv.Placement.FeatureLevel.Hashes, "a hash write"));
    }

    [Fact]
    public void Operations_of_the_wrong_shape_are_refused_before_anything_is_applied()
    {
        var settings = CoreTestSupport.DefaultSettings();
        Assert.NotNull(Limits.CheckKeyOps([], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps(Enumerable.Repeat(KeyOp.Read(), Limits.MaxHashOps + 1).ToList(), settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([new KeyOp(KeyOpKind.Set, ValueList<Bytes>.Empty)], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([KeyOp.Set(B("v"), -2)], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([new KeyOp(KeyOpKind.Read, ValueList.From([B("x")]))], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([new KeyOp(KeyOpKind.Expire, ValueList.From([Bytes.Wrap([0x10])]), 1000)], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([new KeyOp((KeyOpKind)10, ValueList<Bytes>.Empty)], settings, fromClient: true));
        Assert.Contains("max-value-bytes", Limits.CheckKeyOps([KeyOp.Set(Bytes.Wrap(new byte[settings.MaxValueBytes + 1]))], settings, fromClient: true));
        // NX with another condition, or GT with LT, is no condition Redis takes.
        Assert.NotNull(Limits.CheckKeyOps([KeyOp.Expire(1000, ExpireCondition.Nx | ExpireCondition.Xx)], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([KeyOp.Expire(1000, ExpireCondition.Gt | ExpireCondition.Lt)], settings, fromClient: true));
        Assert.Null(Limits.CheckKeyOps([KeyOp.Expire(1000, ExpireCondition.Xx | ExpireCondition.Gt)], settings, fromClient: true));
        // One write of one key: its arguments together stay within max-bytes-per-key.
        var big = Bytes.Wrap(new byte[settings.MaxValueBytes]);
        Assert.Contains("max-bytes-per-key", Limits.CheckKeyOps(Enumerable.Repeat(KeyOp.Set(big), (int)(settings.MaxBytesPerKey / settings.MaxValueBytes) + 1).ToList(), settings, fromClient: true));
        // What its reads return, too.
        var read = new KeyOpResult(0, Read: new KeyRead(KeyType.String, big, ValueList<Bytes>.Empty, 0));
        Assert.Null(Limits.CheckResults([read], settings));
        Assert.Contains("max-bytes-per-key", Limits.CheckResults(Enumerable.Repeat(read, (int)(settings.MaxBytesPerKey / settings.MaxValueBytes) + 1).ToList(), settings));
        // A negative TTL (already past) is a client's to send; a replica put carries deadlines, never negative.
        Assert.Null(Limits.CheckKeyOps([KeyOp.Expire(-1)], settings, fromClient: true));
        Assert.NotNull(Limits.CheckKeyOps([KeyOp.Expire(-1)], settings, fromClient: false));
        // A hash write takes only the hash kinds.
        Assert.NotNull(Limits.CheckHashOps([new HashOp((HashOpKind)5, ValueList<Bytes>.Empty)], settings));
    }
}
