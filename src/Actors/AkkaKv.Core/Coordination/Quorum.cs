using System.Collections.Immutable;

namespace AkkaKv.Coordination;

/// <summary>
/// Which replica slots answered a request: a pure tally. A slot counts once, however often it
/// answers. <see cref="Reached"/> once <see cref="Required"/> distinct slots have answered.
/// </summary>
public sealed record QuorumTally(int N, int Required, ImmutableSortedSet<int> Answered)
{
    public static QuorumTally Start(int n, int required)
    {
        if (required < 1 || required > n) throw new ArgumentOutOfRangeException(nameof(required), $"a quorum must be in [1, {n}]");
        return new QuorumTally(n, required, ImmutableSortedSet<int>.Empty);
    }

    public QuorumTally Add(int slot) => slot < 0 || slot >= N ? this : this with { Answered = Answered.Add(slot) };

    public int Count => Answered.Count;
    public bool Reached => Answered.Count >= Required;
    public bool Complete => Answered.Count == N;
}

/// <summary>
/// The order in which a put tries coordinating replicas: slot index order, but slots whose node
/// is known to be unreachable go last (they are tried only if every other one times out).
/// </summary>
public static class CoordinatorChoice
{
    // Computed for every put: two loops, not a LINQ sort.
    public static ImmutableArray<int> Order(int n, IReadOnlyDictionary<int, string> knownNodes, IReadOnlySet<string> unreachable)
    {
        var order = ImmutableArray.CreateBuilder<int>(n);
        for (var pass = 0; pass < 2; pass++)
            for (var i = 0; i < n; i++)
                if ((knownNodes.TryGetValue(i, out var node) && unreachable.Contains(node)) == (pass == 1))
                    order.Add(i);
        return order.MoveToImmutable();
    }
}
