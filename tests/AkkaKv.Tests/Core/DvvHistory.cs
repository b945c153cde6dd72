using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;

namespace AkkaKv.Tests.Core;

internal enum OpKind { Put, Sync, OtherKeyPut, Wipe }

/// <summary>
/// One step of a generated history of a key kept by three replicas:
/// a client put at replica <see cref="Replica"/> carrying the context of an earlier read
/// (<see cref="Source"/> picks which state it read, any state any replica ever had) or a blind put;
/// a replication / read-repair merge of replica <see cref="Source"/>'s set into <see cref="Replica"/>;
/// a put of another key (which advances the replica's counter, leaving gaps in this key's dots);
/// or a replica losing its storage and coming back under a fresh actor id. A put of a value may
/// carry a deadline (<see cref="Expiring"/>: 1 to 8 steps after it, the history's clock being the
/// step number).
/// </summary>
internal readonly record struct HistoryOp(OpKind Kind, int Replica, int Source, bool Blind, bool Tombstone, byte Value, bool Expiring = false)
{
    /// <summary>The deadline a put at step <paramref name="step"/> carries (0: none).</summary>
    public long DeadlineAt(long step) => Expiring && !Tombstone ? step + 1 + Value % 8 : 0;

    public override string ToString() => Kind switch
    {
        OpKind.Put => $"put@{Replica}({(Blind ? "blind" : $"ctx of state #{Source}")}, {(Tombstone ? "delete" : Value.ToString())}{(Expiring && !Tombstone ? $", expires +{1 + Value % 8}" : "")})",
        OpKind.Sync => $"merge {Source % DvvHistory.ReplicaCount}->{Replica}",
        OpKind.OtherKeyPut => $"other-key put@{Replica}",
        _ => $"wipe {Replica}",
    };
}

/// <summary>
/// Runs a history through <see cref="ReplicaState"/> exactly as replica actors do (mint with
/// counter + 1, <see cref="ReplicaState.PutEvent"/>, apply <see cref="SiblingsMerged"/>), and keeps
/// the ground truth: which versions each writer had actually seen.
/// </summary>
internal sealed class DvvHistory
{
    public const int ReplicaCount = 3;
    public static readonly Bytes Key = Bytes.FromUtf8("k");
    public static readonly Bytes OtherKey = Bytes.FromUtf8("other");

    public ReplicaState[] Replicas { get; } = new ReplicaState[ReplicaCount];

    /// <summary>Every set of <see cref="Key"/> any replica ever held, in order; the first is the empty set.</summary>
    public List<SiblingSet> Observed { get; } = [SiblingSet.Empty];

    /// <summary>Every version of <see cref="Key"/> ever minted.</summary>
    public Dictionary<Dot, Sibling> Minted { get; } = [];

    /// <summary>For each minted version, the versions its writer had actually seen (transitively).</summary>
    public Dictionary<Dot, HashSet<Dot>> Seen { get; } = [];

    private readonly int[] _epochs = new int[ReplicaCount];

    public static readonly Gen<HistoryOp> GenOp =
        Gen.Select(Gen.Int[0, 19], Gen.Int[0, ReplicaCount - 1], Gen.Int[0, 1000], Gen.Int[0, 7], Gen.Byte)
            .Select((kind, replica, source, flags, value) => new HistoryOp(
                kind switch { <= 10 => OpKind.Put, <= 16 => OpKind.Sync, <= 18 => OpKind.OtherKeyPut, _ => OpKind.Wipe },
                replica, source, Blind: flags == 0, Tombstone: flags == 1, value, Expiring: flags >= 5));

    public static readonly Gen<HistoryOp[]> GenOps = GenOp.Array[0, 40];

    public static string Print(IEnumerable<HistoryOp> ops) => "[" + string.Join("; ", ops) + "]";

    private DvvHistory()
    {
        for (var r = 0; r < ReplicaCount; r++) Replicas[r] = Incarnate(r);
    }

    private ReplicaState Incarnate(int r) =>
        ReplicaState.Empty.Apply(new ReplicaIncarnated($"n{r + 1}/{r}.{_epochs[r]:x8}"));

    public static DvvHistory Run(IReadOnlyList<HistoryOp> ops)
    {
        var h = new DvvHistory();
        for (var t = 0; t < ops.Count; t++) h.Step(ops[t], t);
        return h;
    }

    /// <summary>The dot a put at replica <paramref name="r"/> would mint next.</summary>
    public Dot NextDot(int r) => new(Replicas[r].ActorId!, Replicas[r].Counter + 1);

    private void Step(HistoryOp op, long timestamp)
    {
        var r = op.Replica;
        switch (op.Kind)
        {
            case OpKind.Put:
            {
                var state = Replicas[r];
                var read = op.Blind ? state.Get(Key) : Observed[op.Source % Observed.Count];
                var dot = NextDot(r);
                var evt = state.PutEvent(Key, dot, op.Tombstone ? null : Bytes.From([op.Value]), op.Blind ? null : read.Context, timestamp, op.DeadlineAt(timestamp));
                Replicas[r] = state.Apply(evt);
                Minted[dot] = evt.Siblings.Siblings.Single();
                Seen[dot] = read.Siblings.SelectMany(s => Seen[s.Dot].Append(s.Dot)).ToHashSet();
                Observed.Add(Replicas[r].Get(Key));
                break;
            }
            case OpKind.Sync:
            {
                var from = Replicas[op.Source % ReplicaCount];
                Replicas[r] = Replicas[r]
                    .Apply(new SiblingsMerged(Key, from.Get(Key)))
                    .Apply(new SiblingsMerged(OtherKey, from.Get(OtherKey)));
                Observed.Add(Replicas[r].Get(Key));
                break;
            }
            case OpKind.OtherKeyPut:
            {
                var state = Replicas[r];
                Replicas[r] = state.Apply(state.PutEvent(OtherKey, NextDot(r), Bytes.From([op.Value]), null, timestamp));
                break;
            }
            case OpKind.Wipe:
                _epochs[r]++;
                Replicas[r] = Incarnate(r);
                Observed.Add(Replicas[r].Get(Key));
                break;
        }
    }
}
