using System.Collections.Immutable;
using AkkaKv.Client;
using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>The history checker on hand-made histories: no processes, no clock.</summary>
public sealed class FaultHistoryTests
{
    private const string K = "w0/k0";

    private static PutAttempt Put(long seq, PutOutcome outcome, params long[] covers) =>
        new(0, K, seq, [.. covers], TimeSpan.FromSeconds(seq), TimeSpan.FromSeconds(seq) + TimeSpan.FromMilliseconds(100), outcome);

    private static FaultHistory HistoryOf(params PutAttempt[] puts)
    {
        var history = new FaultHistory();
        foreach (var p in puts) history.Record(p);
        return history;
    }

    private static Dictionary<string, IReadOnlyCollection<string>> ReadBack(params long[] seqs) =>
        new() { [K] = seqs.Select(s => FaultHistory.ValueOf(K, s)).ToList() };

    [Fact]
    public void The_last_acknowledged_value_read_back_passes_and_its_superseded_predecessors_are_accounted_for()
    {
        var history = HistoryOf(Put(1, PutOutcome.Acked), Put(2, PutOutcome.Acked, 1), Put(3, PutOutcome.Acked, 2));
        var check = history.Check(ReadBack(3));
        Assert.True(check.Ok, check.ToString());
        Assert.Equal(3, check.Acked);
        Assert.Equal(2, check.Superseded);
    }

    [Fact]
    public void An_acknowledged_value_missing_with_nothing_after_it_is_lost()
    {
        var history = HistoryOf(Put(1, PutOutcome.Acked), Put(2, PutOutcome.Acked, 1));
        var check = history.Check(ReadBack(1));
        Assert.False(check.Ok);
        Assert.Equal(2, Assert.Single(check.Lost).Attempt.Seq);
    }

    [Fact]
    public void An_unknown_put_that_covered_the_acknowledged_value_and_was_read_back_accounts_for_it()
    {
        var history = HistoryOf(Put(1, PutOutcome.Acked), Put(2, PutOutcome.Unknown, 1), Put(3, PutOutcome.Failed, 1));
        Assert.True(history.Check(ReadBack(2)).Ok);
        Assert.True(history.Check(ReadBack(3)).Ok, "a failed put may have reached one replica");
        Assert.True(history.Check(ReadBack(1)).Ok, "failed and unknown puts may be absent");
        Assert.Equal(1, Assert.Single(history.Check(ReadBack()).Lost).Attempt.Seq);
    }

    [Fact]
    public void A_later_value_that_did_not_cover_the_acknowledged_one_does_not_account_for_it()
    {
        // #3's context came from a get that did not return #2 (it covers #1 only): #2 must still be there.
        var history = HistoryOf(Put(1, PutOutcome.Acked), Put(2, PutOutcome.Acked, 1), Put(3, PutOutcome.Acked, 1));
        Assert.True(history.Check(ReadBack(2, 3)).Ok);
        var lost = Assert.Single(history.Check(ReadBack(3)).Lost);
        Assert.Equal(2, lost.Attempt.Seq);
        Assert.Contains("no later put covered it", lost.Why);
    }

    [Fact]
    public void Supersession_is_transitive_through_puts_that_are_gone_themselves()
    {
        // #1 acked, #2 (unknown) covered it, #3 (acked) covered #2 and is read back.
        var history = HistoryOf(Put(1, PutOutcome.Acked), Put(2, PutOutcome.Unknown, 1), Put(3, PutOutcome.Acked, 2));
        Assert.True(history.Check(ReadBack(3)).Ok);
        // The chain breaks when its head is gone too.
        var lost = history.Check(ReadBack()).Lost.Select(l => l.Attempt.Seq).ToList();
        Assert.Equal([1L, 3L], lost);
    }

    [Fact]
    public void Values_never_written_to_the_key_are_phantoms_and_duplicates_of_a_written_value_are_not()
    {
        var history = HistoryOf(Put(1, PutOutcome.Acked), new PutAttempt(1, "w1/k0", 2, [], TimeSpan.Zero, TimeSpan.FromSeconds(1), PutOutcome.Acked));
        var finalValues = new Dictionary<string, IReadOnlyCollection<string>>
        {
            [K] = [FaultHistory.ValueOf(K, 1), FaultHistory.ValueOf(K, 1), FaultHistory.ValueOf(K, 7), FaultHistory.ValueOf("w1/k0", 2), "garbage"],
            ["w1/k0"] = [FaultHistory.ValueOf("w1/k0", 2)],
        };
        var check = history.Check(finalValues);
        Assert.Equal(3, check.Phantoms.Count);
        Assert.Empty(check.Lost);
        Assert.Equal(1, check.ExtraSiblings);
    }

    [Fact]
    public void An_acknowledged_key_without_a_final_read_is_reported_and_a_never_acknowledged_one_is_not()
    {
        var history = HistoryOf(Put(1, PutOutcome.Acked), new PutAttempt(1, "w1/k0", 2, [], TimeSpan.Zero, TimeSpan.FromSeconds(1), PutOutcome.Unknown));
        var check = history.Check(new Dictionary<string, IReadOnlyCollection<string>>());
        Assert.Equal([K], check.Unread);
        Assert.False(check.Ok);
    }

    [Fact]
    public void Covers_must_point_to_earlier_puts_of_the_same_key()
    {
        var history = HistoryOf(Put(1, PutOutcome.Acked, 2), Put(2, PutOutcome.Acked));
        Assert.Throws<ArgumentException>(() => history.Check(ReadBack(2)));
        Assert.Throws<ArgumentException>(() => HistoryOf(Put(1, PutOutcome.Acked, 9)).Check(ReadBack(1)));
    }

    [Fact]
    public void Timeouts_and_silence_are_unknown_and_other_refusals_are_failures()
    {
        Assert.Equal(PutOutcome.Unknown, FaultHistory.Classify(new KvRequestException("timed out after 5000 ms with 1 of W=2 durable acks", 1, 2)));
        Assert.Equal(PutOutcome.Unknown, FaultHistory.Classify(new KvUnavailableException("no AkkaKv node answered")));
        Assert.Equal(PutOutcome.Failed, FaultHistory.Classify(new KvRequestException("only 1 of W=2 acks", 1, 2)));
        Assert.Throws<ArgumentException>(() => FaultHistory.Classify(new InvalidOperationException("bug")));
    }

    [Fact]
    public void Window_first_fast_and_last_slow_puts_are_measured_from_start_times()
    {
        static PutAttempt At(long seq, double start, double latency, PutOutcome outcome) =>
            new(0, K, seq, ImmutableSortedSet<long>.Empty, TimeSpan.FromSeconds(start), TimeSpan.FromSeconds(start + latency), outcome);
        var history = HistoryOf(At(1, 4.0, 0.1, PutOutcome.Acked), At(2, 5.5, 2.2, PutOutcome.Acked), At(3, 6.0, 7.0, PutOutcome.Unknown),
            At(4, 9.0, 2.1, PutOutcome.Acked), At(5, 9.5, 0.2, PutOutcome.Acked), At(6, 12.0, 0.1, PutOutcome.Failed));
        history.Mark("kill", TimeSpan.FromSeconds(5));
        var window = history.Window(history.MarkOf("kill"), TimeSpan.FromSeconds(15));
        Assert.Equal((5, 3, 1, 1), (window.Attempted, window.Acked, window.Failed, window.Unknown));
        Assert.Equal(0.6, window.Availability, 3);
        Assert.Equal(5, history.FirstFast(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), _ => true)?.Seq);
        Assert.Null(history.FirstFast(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), a => a.Seq != 5));
        Assert.Equal(4, history.LastSlow(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(2), _ => true)?.Seq);
        Assert.Equal(1.0, history.Window(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(30)).Availability);
    }

    [Fact]
    public void Values_round_trip_through_their_text_form()
    {
        Assert.Equal(("w3/k07", 42L), FaultHistory.Parse(FaultHistory.ValueOf("w3/k07", 42)));
        Assert.Null(FaultHistory.Parse("w3/k07"));
        Assert.Null(FaultHistory.Parse("w3/k07#-1"));
        Assert.Null(FaultHistory.Parse("#5"));
    }
}
