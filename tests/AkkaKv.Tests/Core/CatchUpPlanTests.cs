using AkkaKv.Coordination;
using Xunit;

namespace AkkaKv.Tests.Core;

public sealed class CatchUpPlanTests
{
    private static CatchUpOutcome InSync(int peer) => new(peer, InSync: true, 0, 100, null, null);
    private static CatchUpOutcome Repaired(int peer, int keys, bool inSync = false) => new(peer, inSync, keys, 1000, null, null);

    [Fact]
    public void A_replica_exchanges_with_each_peer_in_turn_then_serves()
    {
        var (plan, step) = CatchUpPlan.Start(3, self: 1).First();
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 0), step);
        (plan, step) = plan.After(InSync(0), localGeneration: 0);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 2), step);
        (plan, step) = plan.After(InSync(2), localGeneration: 0);
        Assert.Equal(CatchUpStep.Serve, step.Step);
        Assert.Equal(200, plan.BytesExchanged);
    }

    [Fact]
    public void A_peer_with_more_differing_keys_than_one_exchange_moves_is_asked_again_until_nothing_is_left()
    {
        var (plan, _) = CatchUpPlan.Start(3, self: 0).First();
        var (again, step) = plan.After(Repaired(1, 256), 0);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 1), step);
        (again, step) = again.After(Repaired(1, 12), 0);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 1), step);
        // Repaired, and the repair left it in sync or found nothing more: the next peer.
        (again, step) = again.After(Repaired(1, 0), 0);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 2), step);
        Assert.Equal(268, again.KeysRepaired);
        (_, step) = again.After(Repaired(2, 3, inSync: true), 0);
        Assert.Equal(CatchUpStep.Serve, step.Step);
    }

    [Fact]
    public void A_silent_peer_is_abandoned_with_its_reason_and_the_next_one_is_asked()
    {
        var (plan, _) = CatchUpPlan.Start(3, self: 2).First();
        var (next, step) = plan.After(new CatchUpOutcome(0, false, 0, 0, "a replica did not answer within 3 s", null), 0);
        Assert.Equal(CatchUpStep.Exchange, step.Step);
        Assert.Equal(1, step.Peer);
        Assert.Equal("a replica did not answer within 3 s", step.Abandoned);
        (_, step) = next.After(new CatchUpOutcome(1, false, 0, 0, "a replica did not answer within 3 s", null), 0);
        Assert.Equal(CatchUpStep.Serve, step.Step);
        Assert.NotNull(step.Abandoned);
    }

    [Fact]
    public void A_majority_ahead_in_tombstone_GC_generation_resets_the_replica_and_one_peer_ahead_does_not()
    {
        var (plan, _) = CatchUpPlan.Start(3, self: 0).First();
        // Peer 1 ahead: noted, and the next peer is asked (nothing was copied either way).
        var (afterFirst, step) = plan.After(new CatchUpOutcome(1, false, 0, 64, null, GenerationAhead: 4), localGeneration: 3);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 2), step);
        // Peer 2 ahead too: two of three replicas hold generation 4, so this one missed a purge.
        (_, step) = afterFirst.After(new CatchUpOutcome(2, false, 0, 64, null, GenerationAhead: 4), localGeneration: 3);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Reset, -1, 4), step);
        // Peer 2 at this replica's generation: one peer ahead is not a majority; serve.
        (_, step) = afterFirst.After(new CatchUpOutcome(2, true, 0, 64, null, null), localGeneration: 3);
        Assert.Equal(CatchUpStep.Serve, step.Step);
        // This replica is the one ahead: the peer resets, this one carries on.
        (_, step) = plan.After(new CatchUpOutcome(1, false, 0, 64, null, GenerationAhead: 4), localGeneration: 4);
        Assert.Equal(new CatchUpDecision(CatchUpStep.Exchange, 2), step);
    }

    [Fact]
    public void A_single_replica_has_no_one_to_catch_up_with()
    {
        var (_, step) = CatchUpPlan.Start(1, self: 0).First();
        Assert.Equal(CatchUpStep.Serve, step.Step);
    }

    [Theory]
    [InlineData(0, 5_000, false)]          // no send time: never late
    [InlineData(1_000, 1_999, false)]      // under half the coordinating-replica timeout (2 s)
    [InlineData(1_000, 2_000, true)]       // at half: the coordinator may have moved on
    [InlineData(1_000, 900, false)]        // the sender's clock is ahead: not late
    public void A_put_minted_after_half_the_coordinating_replica_timeout_is_replicated_by_the_replica(long sentAt, long now, bool late) =>
        Assert.Equal(late, LatePut.IsLate(sentAt, now, TimeSpan.FromSeconds(2)));

    [Fact]
    public void A_late_put_goes_to_every_other_slot() =>
        Assert.Equal([0, 2], LatePut.Peers(3, 1));
}
