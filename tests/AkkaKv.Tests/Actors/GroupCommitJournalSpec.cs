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

    // A long linger, so that every write the test sends at once falls in the first group however
    // slow the machine is; max-rows above the writes sent, so only the linger ends the group.
    private GroupCommitJournalSpec(string dir, ITestOutputHelper output)
        : base(ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = INFO").WithFallback(SqliteJournal.Config(dir, linger: "500ms", maxRows: 1000)), "group-commit-spec", output) => _dir = dir;

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

        public override string PersistenceId => persistenceId;

        protected override void OnCommand(object message)
        {
            if (message is "state") Sender.Tell(_events.ToImmutableList());
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

    [Fact]
    public void Writes_of_many_actors_within_the_linger_commit_in_one_transaction_and_all_recover()
    {
        const int actors = 20;
        var writers = Enumerable.Range(0, actors).Select(i => StartWriter($"gc-{i}")).ToList();
        // Each one recovered (from nothing) before any writes, so that all writes come at once.
        foreach (var w in writers)
        {
            w.Tell("state", TestActor);
            Assert.Empty(ExpectMsg<ImmutableList<string>>(Wait));
        }
        for (var i = 0; i < actors; i++) writers[i].Tell($"event-{i}", TestActor);
        var acks = ReceiveN(actors, Wait).Cast<string>().ToHashSet();
        Assert.Equal(Enumerable.Range(0, actors).Select(i => $"written event-{i}").ToHashSet(), acks);
        Assert.Equal((actors, 1L), JournalRows());

        // A second round: each actor's next event, again one group.
        for (var i = 0; i < actors; i++) writers[i].Tell($"second-{i}", TestActor);
        ReceiveN(actors, Wait);
        Assert.Equal((2L * actors, 2L), JournalRows());

        // New incarnations recover both events of their own, in order, from the file.
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
            Assert.Equal([$"event-{i}", $"second-{i}"], ExpectMsg<ImmutableList<string>>(Wait));
        }
    }

    [Fact]
    public void A_new_incarnation_recovers_the_write_its_predecessor_left_waiting_for_its_group()
    {
        var first = StartWriter("gc-restart");
        first.Tell("state", TestActor);
        Assert.Empty(ExpectMsg<ImmutableList<string>>(Wait));
        // Stopped right after its write reached the journal, inside the 500 ms linger: the write
        // waits in the group when the next incarnation asks for its highest sequence number.
        Watch(first);
        first.Tell("before-restart", TestActor);
        first.Tell(PoisonPill.Instance);
        ExpectTerminated(first, Wait);

        var second = StartWriter("gc-restart");
        second.Tell("state", TestActor);
        Assert.Equal(["before-restart"], ExpectMsg<ImmutableList<string>>(Wait));
        // And it goes on from there: its next write takes the next sequence number.
        second.Tell("after-restart", TestActor);
        ExpectMsg("written after-restart", Wait);
        Assert.Equal((2L, 2L), JournalRows());
    }
}
