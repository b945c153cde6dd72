using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using AkkaKv.Hosting;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// The node's journal with group commit (<see cref="GroupCommitJournal"/>) on a real SQLite file:
/// writes of many persistent actors that arrive within the linger go to the database in one
/// transaction, each is acknowledged, and every one of them is there when the actors recover.
/// </summary>
public sealed class GroupCommitJournalSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _dir;

    public GroupCommitJournalSpec(ITestOutputHelper output) : this(SqliteJournal.NewDataDir("group-commit"), output) { }

    // A linger longer than any test: a lone write goes at once, and a group goes at max-rows (19
    // rows) or when a recovering actor needs it, never by the clock.
    private GroupCommitJournalSpec(string dir, ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = INFO").WithFallback(SqliteJournal.Config(dir, linger: "60s", maxRows: 19)), "group-commit-spec", output) => _dir = dir;

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteJournal.DeleteDataDir(_dir);
    }

    /// <summary>
    /// A persistent actor that persists each string it gets (as UTF-8 bytes: Akka's own serializer)
    /// and answers it once it is written; "state" answers what it holds.
    /// </summary>
    private sealed class Writer(string persistenceId) : UntypedPersistentActor
    {
        private readonly List<string> _events = [];
        private IActorRef? _deleteReplyTo;

        public override string PersistenceId => persistenceId;

        protected override void OnCommand(object message)
        {
            if (message is "state") Sender.Tell(_events.ToImmutableList());
            else if (message is "seq") Sender.Tell(LastSequenceNr);
            else if (message is long upTo) { _deleteReplyTo = Sender; DeleteMessages(upTo); }
            else if (message is DeleteMessagesSuccess or DeleteMessagesFailure) _deleteReplyTo?.Tell(message);
            else if (message is string evt) PersistAsync(Encoding.UTF8.GetBytes(evt), e => { _events.Add(evt); Sender.Tell($"written {evt}"); });
        }

        protected override void OnRecover(object message)
        {
            if (message is byte[] e) _events.Add(Encoding.UTF8.GetString(e));
        }
    }

    private IActorRef StartWriter(string persistenceId) => Sys.ActorOf(Props.Create(() => new Writer(persistenceId)));

    private (long Rows, long Transactions) JournalRows()
    {
        // The plugin stamps every row of one call, so one transaction, with the same `created` time.
        using var connection = new SqliteConnection(AkkaKvHosting.SqliteConnectionString(_dir));
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*), count(DISTINCT created) FROM journal WHERE persistence_id LIKE 'gc-%'";
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// Holds SQLite's write lock (as another writer would) until <see cref="IDisposable.Dispose"/>:
    /// the journal's transactions wait for it (the driver retries a busy database), readers do not.
    /// </summary>
    private IDisposable HoldWriteLock()
    {
        // Its own connection, not the pool's: the journal must never be handed this one.
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder(AkkaKvHosting.SqliteConnectionString(_dir)) { Pooling = false }.ToString());
        connection.Open();
        Run(connection, "BEGIN IMMEDIATE");
        return new Unlock(connection);
    }

    private static void Run(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private sealed class Unlock(SqliteConnection connection) : IDisposable
    {
        public void Dispose()
        {
            Run(connection, "ROLLBACK");
            connection.Dispose();
        }
    }

    /// <summary>
    /// Returns once the journal actor has handled every message sent to it before this call:
    /// Akka answers Identify in mailbox order, without the database.
    /// </summary>
    private void JournalBarrier()
    {
        var journal = Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null);
        journal.Tell(new Identify("barrier"), TestActor);
        ExpectMsg<ActorIdentity>(i => "barrier".Equals(i.MessageId), Wait);
    }

    [Fact]
    public void Writes_that_arrive_while_a_group_is_written_commit_together_and_all_recover()
    {
        const int actors = 20;
        var writers = Enumerable.Range(0, actors).Select(i => StartWriter($"gc-{i}")).ToList();
        // Each one recovered (from nothing) before any writes.
        foreach (var w in writers)
        {
            w.Tell("state", TestActor);
            Assert.Empty(ExpectMsg<ImmutableList<string>>(Wait));
        }

        using (HoldWriteLock())
        {
            // Nothing is being written: the first write goes to the database at once (and waits
            // for the lock there). The other 19 come while it is written: they wait in one group,
            // which goes (and waits for the lock) when it holds max-rows.
            writers[0].Tell("event-0", TestActor);
            for (var i = 1; i < actors; i++)
            {
                writers[i].Tell($"event-{i}", TestActor);
                // Handled after the write it follows, so that write has gone to the journal.
                writers[i].Tell("state", TestActor);
                ExpectMsg<ImmutableList<string>>(Wait);
            }
            JournalBarrier();
            ExpectNoMsg(TimeSpan.Zero); // no write acknowledged while the database was locked
        }

        var acks = ReceiveN(actors, Wait).Cast<string>().ToHashSet();
        Assert.Equal(Enumerable.Range(0, actors).Select(i => $"written event-{i}").ToHashSet(), acks);
        Assert.Equal((actors, 2L), JournalRows());

        // New incarnations recover their event from the file.
        foreach (var w in writers)
        {
            Watch(w);
            w.Tell(PoisonPill.Instance);
            ExpectTerminated(w, Wait);
        }
        for (var i = 0; i < actors; i++)
        {
            var again = StartWriter($"gc-{i}");
            again.Tell("state", TestActor);
            Assert.Equal([$"event-{i}"], ExpectMsg<ImmutableList<string>>(Wait));
        }
    }

    [Fact]
    public void A_new_incarnation_recovers_the_write_its_predecessor_left_waiting_for_its_group()
    {
        var blocker = StartWriter("gc-blocker");
        var first = StartWriter("gc-restart");
        foreach (var w in new[] { blocker, first })
        {
            w.Tell("state", TestActor);
            Assert.Empty(ExpectMsg<ImmutableList<string>>(Wait));
        }
        IImmutableList<string> recovered;
        using (HoldWriteLock())
        {
            // The blocker's write is being written (waiting for the lock), so the next one waits
            // in the group; its actor stops before it is written. The blocker's write must reach
            // the journal first (two actors' writes arrive in any order; had the other come first,
            // it would be the one written and the blocker's would wait in the group for the 60 s
            // linger): the blocker answers "state" after it has sent its write, and the barrier
            // returns once the journal has taken it.
            blocker.Tell("blocking", TestActor);
            blocker.Tell("state", TestActor);
            ExpectMsg<ImmutableList<string>>(Wait);
            JournalBarrier();
            Watch(first);
            first.Tell("before-restart", TestActor);
            first.Tell(PoisonPill.Instance);
            ExpectTerminated(first, Wait);
            JournalBarrier();

            // The next incarnation's recovery waits for that write: it must not finish while the
            // write cannot be committed (it would not see its own last event).
            var second = StartWriter("gc-restart");
            second.Tell("state", TestActor);
            ExpectNoMsg(TimeSpan.FromSeconds(1));
            first = second;
        }
        // The blocker's write and the group holding the stopped actor's write both went to the
        // database before the lock was released; either may commit first, so the blocker's ack and
        // the new incarnation's state come in either order.
        var answers = ReceiveN(2, Wait);
        Assert.Contains("written blocking", answers.OfType<string>());
        recovered = Assert.Single(answers.OfType<ImmutableList<string>>());
        Assert.Equal(["before-restart"], recovered);
        // And it goes on from there: its next write takes the next sequence number.
        first.Tell("after-restart", TestActor);
        ExpectMsg("written after-restart", Wait);
        Assert.Equal(2L, SqliteJournal.Scalar(_dir, "SELECT count(*) FROM journal WHERE persistence_id = $pid", "gc-restart"));
    }

    /// <summary>(sequence number, deleted) of every row of <paramref name="persistenceId"/>, in order.</summary>
    private List<(long Seq, bool Deleted)> Rows(string persistenceId)
    {
        using var connection = new SqliteConnection(AkkaKvHosting.SqliteConnectionString(_dir));
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT sequence_number, deleted FROM journal WHERE persistence_id = $pid ORDER BY sequence_number";
        cmd.Parameters.AddWithValue("$pid", persistenceId);
        using var reader = cmd.ExecuteReader();
        var rows = new List<(long, bool)>();
        while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetBoolean(1)));
        return rows;
    }

    [Fact]
    public void A_delete_after_a_snapshot_removes_the_covered_events_and_keeps_the_highest_sequence_number()
    {
        var other = StartWriter("gc-del-other");
        var writer = StartWriter("gc-del");
        for (var i = 1; i <= 10; i++)
        {
            writer.Tell($"e{i}", TestActor);
            ExpectMsg($"written e{i}", Wait);
            other.Tell($"o{i}", TestActor);
            ExpectMsg($"written o{i}", Wait);
        }

        writer.Tell(6L, TestActor);
        ExpectMsg<DeleteMessagesSuccess>(Wait);
        // Events 1-5 are gone; 6 stays, marked deleted (it carries the highest deleted sequence
        // number); 7-10 are untouched, and so is the other actor's journal.
        Assert.Equal([(6, true), (7, false), (8, false), (9, false), (10, false)], Rows("gc-del"));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => ((long)i, false)).ToList(), Rows("gc-del-other"));

        // Everything deleted: the last row stays, so a new incarnation replays nothing and still
        // continues from sequence number 10 (the plugin reads the highest from the rows).
        writer.Tell(10L, TestActor);
        ExpectMsg<DeleteMessagesSuccess>(Wait);
        Assert.Equal([(10, true)], Rows("gc-del"));
        Watch(writer);
        writer.Tell(PoisonPill.Instance);
        ExpectTerminated(writer, Wait);
        var again = StartWriter("gc-del");
        again.Tell("state", TestActor);
        Assert.Empty(ExpectMsg<ImmutableList<string>>(Wait));
        again.Tell("seq", TestActor);
        ExpectMsg(10L, Wait);
        again.Tell("e11", TestActor);
        ExpectMsg("written e11", Wait);
        Assert.Equal([(10, true), (11, false)], Rows("gc-del"));

        // A delete of everything (long.MaxValue) removes up to the last event and keeps it; a
        // delete with nothing left to remove changes nothing.
        again.Tell(long.MaxValue, TestActor);
        ExpectMsg<DeleteMessagesSuccess>(Wait);
        Assert.Equal([(11, true)], Rows("gc-del"));
        again.Tell(3L, TestActor);
        ExpectMsg<DeleteMessagesSuccess>(Wait);
        Assert.Equal([(11, true)], Rows("gc-del"));
    }
}
