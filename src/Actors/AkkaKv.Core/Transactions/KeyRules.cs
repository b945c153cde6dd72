using System.Globalization;
using System.Text;
using AkkaKv.Counters;
using AkkaKv.Expiry;
using AkkaKv.Hashes;
using AkkaKv.Versioning;

namespace AkkaKv.Transactions;

/// <summary>
/// Applies a list of <see cref="KeyOp"/>s (a hash write, or a Redis transaction of one key) to what
/// the key's coordinating replica holds, and gives the one version they make (README
/// "Transactions", docs/typed-values.md). Pure.
/// <list type="bullet">
/// <item>The operations run in order on the key as a read at that replica sees it (the
/// <c>GET</c>/<see cref="HashRules.Read"/> rules: a string, a counter's number, a hash's fields),
/// each seeing what the earlier ones did; a <see cref="KeyOpKind.Read"/> reports that state.</item>
/// <item>What they leave is minted as <b>one</b> version superseding every version the replica
/// holds (its past is their context), so every replica takes all of them or none.</item>
/// <item><b>Counters stay CRDTs</b>: when the key is a string that no operation replaced (no
/// <c>SET</c>, <c>DEL</c> or hash write in the list), increments and deadlines are minted as one
/// increment of their sum (<see cref="CounterRules.Increment"/>), so increments made concurrently
/// elsewhere still count. After a replace, the list's increments count from the value it set, and
/// the version is a plain value (a reset observed by concurrent increments: they count on top).</item>
/// <item>Hash fields a write sets carry the version's dot; the others keep theirs (see
/// <see cref="HashRules"/>). A key left with no field, or deleted, is a tombstone; a list that
/// changes nothing mints nothing.</item>
/// </list>
/// </summary>
public static class KeyRules
{
    /// <summary>
    /// Applies <paramref name="ops"/> in order at <paramref name="nowMs"/> to <paramref name="held"/>
    /// (what the minting replica holds; <paramref name="ownHighest"/> its highest counter entry for
    /// the key) and gives the version to mint as <paramref name="dot"/> (null when nothing changed)
    /// and each operation's result. An operation refused for the key's state (a hash operation on a
    /// string, a string one on a hash, a value that is not an integer, an overflow) does nothing:
    /// with <paramref name="stopAtError"/>, nothing at all is written and its reason is returned;
    /// without it (as Redis's <c>EXEC</c>), its result carries the reason and the others still apply.
    /// </summary>
    public static string? Apply(SiblingSet held, long nowMs, Dot dot, CounterEntry ownHighest, IReadOnlyList<KeyOp> ops, bool stopAtError,
        out Sibling? version, out KeyOpResult[] results)
    {
        version = null;
        results = new KeyOpResult[ops.Count];
        var view = View.Of(held, nowMs);
        for (var i = 0; i < ops.Count; i++)
        {
            results[i] = view.Apply(ops[i], dot, nowMs);
            if (results[i].Error is { } error && stopAtError) return error;
        }
        if (view.Changed) version = view.Mint(held, nowMs, dot, ownHighest);
        return null;
    }

    /// <summary>The key as the operations so far left it.</summary>
    private sealed class View
    {
        private KeyType _type;
        private Bytes _value = Bytes.Empty;
        private SortedDictionary<Bytes, HashField> _fields = new();
        private long _deadline;
        /// <summary>A write replaced what the replica held (SET, DEL, a hash write): no increment of the held counter is minted.</summary>
        private bool _replaced;
        /// <summary>Whether an increment was made while nothing was replaced, their sum, and whether a deadline was set meanwhile.</summary>
        private bool _counted;
        private long _delta;
        private bool _deadlineSet;
        private bool _present;

        public bool Changed { get; private set; }

        public static View Of(SiblingSet held, long nowMs)
        {
            var view = new View();
            if (HashRules.Read(held, nowMs) is { } hash)
            {
                view._type = KeyType.Hash;
                foreach (var f in hash.Fields) view._fields[f.Name] = f;
                view._deadline = hash.ExpiresAtMs;
            }
            else if (CounterRules.Read(held, nowMs) is { Count: > 0 } values)
            {
                view._type = KeyType.String;
                view._value = values[^1].Value;
                view._deadline = values[^1].ExpiresAtMs;
            }
            view._present = view._type != KeyType.None;
            return view;
        }

        public KeyOpResult Apply(KeyOp op, Dot dot, long nowMs)
        {
            switch (op.Kind)
            {
                case KeyOpKind.Read:
                    return new KeyOpResult(0, Read: new KeyRead(_type, _type == KeyType.String ? _value : Bytes.Empty,
                        ValueList.From(_fields.Values.SelectMany(f => new[] { f.Name, f.Value })), _deadline));
                case KeyOpKind.Set:
                {
                    var deadline = op.Number == KeyOp.KeepTtl ? _deadline : op.Number;
                    if (deadline > 0 && deadline <= nowMs) { Remove(); return new KeyOpResult(1); }
                    Replace(KeyType.String);
                    _value = op.Args[0];
                    _deadline = deadline;
                    return new KeyOpResult(1);
                }
                case KeyOpKind.Delete:
                    if (_type == KeyType.None) return new KeyOpResult(0);
                    Remove();
                    return new KeyOpResult(1);
                case KeyOpKind.Increment:
                {
                    if (_type == KeyType.Hash) return Refused(CounterRules.WrongType);
                    long current = 0;
                    if (_type == KeyType.String && !CounterRules.TryParse(_value, out current)) return Refused(CounterRules.NotAnInteger);
                    var after = (Int128)current + op.Number;
                    if (after < long.MinValue || after > long.MaxValue) return Refused(CounterRules.Overflow);
                    var delta = (Int128)_delta + op.Number;
                    // The sum of the increments past 64 bits (from near one end of the range to the
                    // other): the number is written as a value instead, a reset concurrent increments
                    // elsewhere still count on top of.
                    if (delta < long.MinValue || delta > long.MaxValue) _replaced = true;
                    if (!_replaced) { _delta = (long)delta; _counted = true; }
                    _type = KeyType.String;
                    _value = Ascii((long)after);
                    Changed = true;
                    return new KeyOpResult((long)after);
                }
                case KeyOpKind.Expire:
                {
                    if (_type == KeyType.None || !op.Condition.Holds(_deadline, op.Number == 0 ? long.MaxValue : op.Number)) return new KeyOpResult(0);
                    if (op.Number > 0 && op.Number <= nowMs) { Remove(); return new KeyOpResult(1); }
                    SetDeadline(op.Number);
                    return new KeyOpResult(1);
                }
                case KeyOpKind.Persist:
                    if (_type == KeyType.None || _deadline == 0) return new KeyOpResult(0);
                    SetDeadline(0);
                    return new KeyOpResult(1);
                case KeyOpKind.HashSet:
                {
                    if (_type == KeyType.String) return Refused(CounterRules.WrongType);
                    if (_type == KeyType.None) Replace(KeyType.Hash);
                    MarkHashWrite();
                    long added = 0;
                    for (var a = 0; a + 1 < op.Args.Count; a += 2)
                    {
                        if (!_fields.ContainsKey(op.Args[a])) added++;
                        _fields[op.Args[a]] = new HashField(op.Args[a], dot, nowMs, op.Args[a + 1]);
                    }
                    return new KeyOpResult(added);
                }
                case KeyOpKind.HashDelete:
                {
                    if (_type == KeyType.String) return Refused(CounterRules.WrongType);
                    long removed = 0;
                    foreach (var name in op.Args.Distinct())
                        if (_fields.Remove(name)) removed++;
                    if (removed == 0) return new KeyOpResult(0);
                    MarkHashWrite();
                    // As Redis: a hash whose last field goes is no key.
                    if (_fields.Count == 0) Remove();
                    return new KeyOpResult(removed);
                }
                case KeyOpKind.HashIncrement:
                {
                    if (_type == KeyType.String) return Refused(CounterRules.WrongType);
                    var name = op.Args[0];
                    long current = 0;
                    if (_fields.TryGetValue(name, out var entry) && !CounterRules.TryParse(entry.Value, out current)) return Refused(HashRules.NotAnInteger);
                    var after = (Int128)current + op.Number;
                    if (after < long.MinValue || after > long.MaxValue) return Refused(CounterRules.Overflow);
                    if (_type == KeyType.None) Replace(KeyType.Hash);
                    MarkHashWrite();
                    _fields[name] = new HashField(name, dot, nowMs, Ascii((long)after));
                    return new KeyOpResult((long)after);
                }
                default:
                    return Refused($"unknown operation {(byte)op.Kind}");
            }
        }

        private static KeyOpResult Refused(string reason) => new(0, reason);

        private void Replace(KeyType type)
        {
            _type = type;
            _value = Bytes.Empty;
            _fields = new SortedDictionary<Bytes, HashField>();
            _deadline = 0;
            _replaced = true;
            Changed = true;
        }

        private void Remove() => Replace(KeyType.None);

        private void MarkHashWrite()
        {
            _replaced = true;
            Changed = true;
        }

        private void SetDeadline(long deadline)
        {
            _deadline = deadline;
            if (!_replaced) _deadlineSet = true;
            Changed = true;
        }

        public Sibling? Mint(SiblingSet held, long nowMs, Dot dot, CounterEntry ownHighest)
        {
            var past = held.Context;
            var reset = CounterRules.ResetBy(held, past);
            switch (_type)
            {
                case KeyType.None:
                    // Deleted, or left with no field: a tombstone, unless there was nothing to delete.
                    return _present ? new Sibling(dot, past, null, nowMs, 0, reset) : null;
                case KeyType.Hash:
                    return new Sibling(dot, past, Bytes.Empty, nowMs, _deadline, reset, HashPart.Of(_fields.Values));
                default:
                    // The held string or counter, changed only by increments and deadlines: one increment
                    // of their sum (a deadline on an integer is an increment of 0 that sets it, so a
                    // concurrent increment is never counted twice nor lost).
                    // The increment must make the number the transaction saw; should the two ever
                    // differ, the value it saw is written instead (a reset, which concurrent increments count on top of).
                    if (!_replaced && (_counted || (_deadlineSet && CounterRules.TryParse(_value, out _)))
                        && CounterRules.Increment(held, nowMs, dot, _delta, ownHighest, out var increment, out var number, _deadlineSet ? _deadline : null) is null
                        && CounterRules.TryParse(_value, out var seen) && number == seen)
                        return increment;
                    return new Sibling(dot, past, _value, nowMs, _deadline, reset);
            }
        }

        private static Bytes Ascii(long number) => Bytes.Wrap(Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)));
    }
}
