using System.Collections.Immutable;
using Akka.Persistence;
using AkkaKv.Hosting;
using Xunit;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// <see cref="GroupCommit"/> without an actor system: what a group holds, and how the outcome of
/// its one combined write reaches each write in it.
/// </summary>
public sealed class GroupCommitTests
{
    private static AtomicWrite Write(string persistenceId, long seqNr, int events = 1) =>
        new(Enumerable.Range(0, events)
            .Select(i => (IPersistentRepresentation)new Persistent($"{persistenceId}:{seqNr + i}", seqNr + i, persistenceId))
            .ToImmutableList());

    [Fact]
    public void A_group_combines_the_writes_in_the_order_they_came_and_is_empty_after_it_is_taken()
    {
        var group = new GroupCommit(100);
        Assert.True(group.IsEmpty);
        group.Add([Write("a", 1)]);
        group.Add([Write("b", 1), Write("b", 2)]);
        group.Add([Write("a", 2)]);
        Assert.True(group.Holds("b"));
        Assert.False(group.Holds("c"));

        var batch = group.Take();

        Assert.Equal(["a", "b", "b", "a"], batch.Writes.Select(w => w.PersistenceId));
        Assert.Equal([1L, 1, 2, 2], batch.Writes.Select(w => w.LowestSequenceNr));
        Assert.Equal(new HashSet<string> { "a", "b" }, batch.PersistenceIds.ToHashSet());
        Assert.True(group.IsEmpty);
        Assert.False(group.Holds("a"));
        Assert.Empty(group.Take().Writes);
    }

    [Fact]
    public void A_group_is_full_once_it_holds_max_rows_events_counted_across_atomic_writes()
    {
        var group = new GroupCommit(5);
        group.Add([Write("a", 1, events: 3)]);
        Assert.False(group.Full);
        group.Add([Write("b", 1)]);
        Assert.False(group.Full);
        group.Add([Write("c", 1)]);
        Assert.True(group.Full);
        group.Take();
        Assert.False(group.Full);
    }

    [Fact]
    public void A_group_needs_at_least_one_row()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommit(0));
    }

    [Fact]
    public async Task A_written_group_acknowledges_every_write_in_it()
    {
        var group = new GroupCommit(100);
        var first = group.Add([Write("a", 1)]);
        var second = group.Add([Write("b", 1), Write("b", 2)]);
        var batch = group.Take();
        Assert.False(first.IsCompleted);

        // Akka.Persistence's "every write went in": null, to each of them.
        batch.Complete(Task.FromResult<IImmutableList<Exception>>(null!));

        Assert.Null(await first);
        Assert.Null(await second);
    }

    [Fact]
    public async Task Each_write_gets_its_own_rejections_from_the_combined_answer()
    {
        var group = new GroupCommit(100);
        var first = group.Add([Write("a", 1)]);
        var second = group.Add([Write("b", 1), Write("b", 2)]);
        var third = group.Add([Write("c", 1)]);
        var batch = group.Take();
        var rejected = new InvalidOperationException("b:2 could not be serialized");

        batch.Complete(Task.FromResult<IImmutableList<Exception>>(ImmutableList.Create<Exception>(null!, null!, rejected, null!)));

        Assert.Equal(new Exception?[] { null }, await first);
        Assert.Equal(new Exception?[] { null, rejected }, await second);
        Assert.Equal(new Exception?[] { null }, await third);
    }

    [Fact]
    public async Task A_failed_combined_write_fails_every_write_in_it()
    {
        var group = new GroupCommit(100);
        var first = group.Add([Write("a", 1)]);
        var second = group.Add([Write("b", 1)]);
        var batch = group.Take();
        var failure = new IOException("disk I/O error");

        batch.Complete(Task.FromException<IImmutableList<Exception>>(failure));

        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => first));
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => second));
    }

    [Fact]
    public async Task An_answer_that_does_not_match_the_writes_fails_them_instead_of_misattributing_it()
    {
        var group = new GroupCommit(100);
        var first = group.Add([Write("a", 1)]);
        var batch = group.Take();

        batch.Complete(Task.FromResult<IImmutableList<Exception>>(ImmutableList.Create<Exception>(null!, null!)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Contains("2 results for 1 atomic writes", error.Message);
    }
}
