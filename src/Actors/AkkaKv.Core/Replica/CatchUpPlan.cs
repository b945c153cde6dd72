using System.Collections.Immutable;

namespace AkkaKv.Replica;

/// <summary>What a catch-up exchange with one peer found (the parts a catch-up decides on).</summary>
/// <param name="Peer">The peer slot index.</param>
/// <param name="InSync">The two trees' roots were equal.</param>
/// <param name="KeysRepaired">Keys merged into at least one side.</param>
/// <param name="Error">Why the exchange was abandoned, or null.</param>
/// <param name="GenerationAhead">The peer's tombstone-GC generation when the two differed, else null.</param>
public sealed record CatchUpOutcome(int Peer, bool InSync, int KeysRepaired, long BytesExchanged, string? Error, long? GenerationAhead);

/// <summary>What a catching-up replica does next.</summary>
public enum CatchUpStep
{
    /// <summary>Run an exchange with <see cref="CatchUpDecision.Peer"/> (the same peer again, or the next one).</summary>
    Exchange,
    /// <summary>A majority of the partition's replicas is at a later GC generation: this journal missed a purge; drop every key and start over.</summary>
    Reset,
    /// <summary>Every peer is done: serve.</summary>
    Serve,
}

public sealed record CatchUpDecision(CatchUpStep Step, int Peer = -1, long Generation = 0, string? Abandoned = null);

/// <summary>
/// A starting replica's catch-up, as a pure state machine: a Merkle exchange with each of the N-1
/// peer slots in turn (one after the other, so what the first peer gives is not fetched again from
/// the second), repeated per peer while an exchange repaired keys but did not end in sync (more
/// differing keys than one exchange moves), a peer that does not answer abandoned (anti-entropy
/// retries later), and a reset when a majority of the partition's replicas is ahead in
/// tombstone-GC generation (<see cref="PeerInput.ConfirmedGeneration"/>: one peer whose generation
/// was raised, by forged purges say, is not enough).
/// <code>
///   Start ──▶ Exchange(p1) ─▶ outcome: ahead in generation (noted) ─────────────┐
///                           │         repaired, not in sync ──▶ Exchange(p1) again │
///                           │         in sync / nothing left / abandoned ──▶ Exchange(p2) ... ──▶ a majority ahead? Reset : Serve
/// </code>
/// </summary>
public sealed record CatchUpPlan(ImmutableQueue<int> Pending, int Current, long KeysRepaired, long BytesExchanged)
{
    /// <summary>N: how many replicas a partition has (a majority of them decides a reset).</summary>
    public int ReplicationFactor { get; init; }

    /// <summary>The generations of the peers found ahead of this replica so far.</summary>
    public ImmutableList<long> Ahead { get; init; } = ImmutableList<long>.Empty;

    /// <summary>The plan for slot <paramref name="self"/> of N; its first decision is <see cref="First"/>.</summary>
    public static CatchUpPlan Start(int n, int self) =>
        new(ImmutableQueue.CreateRange(Enumerable.Range(0, n).Where(i => i != self)), -1, 0, 0) { ReplicationFactor = n };

    /// <summary>The first step: an exchange with the first peer, or serve at once when there is none (N = 1).</summary>
    public (CatchUpPlan Plan, CatchUpDecision Decision) First() => Next(this, 0);

    /// <summary>The step after an exchange with the current peer ended with <paramref name="outcome"/>.</summary>
    public (CatchUpPlan Plan, CatchUpDecision Decision) After(CatchUpOutcome outcome, long localGeneration)
    {
        var plan = this with { KeysRepaired = KeysRepaired + outcome.KeysRepaired, BytesExchanged = BytesExchanged + outcome.BytesExchanged };
        // Nothing was copied from or to a peer at another generation; note it and go on.
        if (outcome.GenerationAhead is { } ahead && ahead > localGeneration)
            return Next(plan with { Ahead = plan.Ahead.Add(ahead) }, localGeneration);
        if (outcome.Error is not null)
        {
            var (next, decision) = Next(plan, localGeneration);
            return (next, decision with { Abandoned = outcome.Error });
        }
        if (!outcome.InSync && outcome.KeysRepaired > 0)
            return (plan, new CatchUpDecision(CatchUpStep.Exchange, outcome.Peer));
        return Next(plan, localGeneration);
    }

    private static (CatchUpPlan, CatchUpDecision) Next(CatchUpPlan plan, long localGeneration)
    {
        if (!plan.Pending.IsEmpty)
            return (plan with { Pending = plan.Pending.Dequeue(out var peer), Current = peer }, new CatchUpDecision(CatchUpStep.Exchange, peer));
        var done = plan with { Current = -1 };
        return PeerInput.ConfirmedGeneration(plan.Ahead, localGeneration, plan.ReplicationFactor) is { } generation
            ? (done, new CatchUpDecision(CatchUpStep.Reset, -1, generation))
            : (done, new CatchUpDecision(CatchUpStep.Serve));
    }
}

/// <summary>When a minted put must be replicated by the replica itself.</summary>
public static class LatePut
{
    /// <summary>
    /// Minted so long after the coordinator sent it (a slot still catching up, a region waiting for
    /// a shard home) that the coordinator has likely given up on this replica, had another one mint
    /// the write, and will not replicate this version. Half the coordinating-replica timeout leaves
    /// room for clock skew between nodes; replicating when it was not needed costs only a merge
    /// that changes nothing. A put with no send time (0) is never late.
    /// </summary>
    public static bool IsLate(long sentAtMs, long nowMs, TimeSpan coordinatingReplicaTimeout) =>
        sentAtMs > 0 && nowMs - sentAtMs >= coordinatingReplicaTimeout.TotalMilliseconds / 2;

    /// <summary>The other slots of the partition, which a late version is replicated to.</summary>
    public static IEnumerable<int> Peers(int n, int self) => Enumerable.Range(0, n).Where(i => i != self);
}
