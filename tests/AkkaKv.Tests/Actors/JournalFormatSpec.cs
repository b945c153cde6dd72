using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using AkkaKv.HintedHandoff;
using AkkaKv.Hosting;
using LinqToDB.Data;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// A data dir written by an earlier build still recovers: node n1's SQLite file from a real
/// 3-node cluster at commit 90c834e (one AkkaKv.dll, before the core, protocol and node were
/// split into assemblies; <c>Fixtures/journal-90c834e/EXPECTED.md</c> says how it was made and
/// what it holds). It holds every common event and snapshot manifest (I, M, TP, S2, HA, HX, HN)
/// under serializer id 4711. Each replica slot recovers from it with the keys, values, siblings
/// and tombstones its node served, and the hint actor with the hints it held.
/// </summary>
public sealed class JournalFormatSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly string _dir;
    private readonly KvSettings _settings = DefaultSettings() with { PartitionCount = 8 };

    public JournalFormatSpec(ITestOutputHelper output) : this(CopyFixture(), output) { }

    private JournalFormatSpec(string dir, ITestOutputHelper output) : base(SystemConfig(dir), "journal-format", output) => _dir = dir;

    /// <summary>The node opens its file read-write (and turns WAL on): a copy in a fresh temp dir.</summary>
    private static string CopyFixture()
    {
        var dir = Path.Combine(Path.GetTempPath(), "akkakv-journal-format-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "journal-90c834e", "akkakv.db"), Path.Combine(dir, "akkakv.db"));
        AkkaKvHosting.PrepareSqlite(dir);
        return dir;
    }

    private static Config SystemConfig(string dir) => SqliteJournal.OneNodeClusterConfig(dir, "n1");

    protected override void AfterAll()
    {
        base.AfterAll();
        SqliteJournal.DeleteDataDir(_dir);
    }

    /// <summary>Partition → the slot index n1 held for it, as the journal names them (replica-{p}-{i}).</summary>
    private static readonly (int Partition, int Index)[] Slots = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 1), (5, 0), (6, 0), (7, 1)];

    private SiblingSet Read(IActorRef replica, string key)
    {
        replica.Tell(new ReplicaRead(1, B(key)));
        return ExpectMsg<ReplicaReadResult>(Wait).Siblings;
    }

    [Fact]
    public void Every_replica_slot_recovers_the_keys_values_siblings_and_tombstones_its_node_served()
    {
        var partitioner = new Partitioner(_settings.PartitionCount);
        var replicas = Slots.ToDictionary(s => s.Partition,
            s => Sys.ActorOf(ReplicaActor.PropsFor(_settings, new SlotId(s.Partition, s.Index).ToString(), TimeProvider.System)));
        SiblingSet At(string key) => Read(replicas[partitioner.PartitionOf(B(key))], key);

        for (var i = 0; i <= 27; i++)
            Assert.Equal([$"value-{i:00}"], At($"fx:{i:00}").ValuesOldestFirst.Select(v => v.ToUtf8()));
        for (var i = 0; i <= 14; i++)
            Assert.Equal([$"hinted-{i:00}"], At($"fx:h{i:00}").ValuesOldestFirst.Select(v => v.ToUtf8()));
        Assert.Equal(["apple", "pear"], At("fx:sib1").ValuesOldestFirst.Select(v => v.ToUtf8()));
        Assert.Equal(["red", "green", "blue"], At("fx:sib2").ValuesOldestFirst.Select(v => v.ToUtf8()));
        // Deleted while a replica was away: the tombstone is still held (reads as not found).
        foreach (var key in new[] { "fx:28", "fx:29" })
        {
            var set = At(key);
            Assert.True(set.IsDeleted && !set.IsEmpty, $"{key} should hold its tombstone, holds {set}");
        }
        // Deleted and purged by tombstone GC: gone from every slot.
        for (var i = 30; i <= 39; i++) Assert.True(At($"fx:{i}").IsEmpty, $"fx:{i} was purged");

        // The recovered replicas mint under a new incarnation of their slot, never under an id of the
        // fixture's journal, and a write with the read's context supersedes the recovered versions.
        var sib1 = At("fx:sib1");
        Assert.All(sib1.Siblings, s => Assert.StartsWith("n1/0.", s.Dot.Actor));
        replicas[partitioner.PartitionOf(B("fx:sib1"))].Tell(new ReplicaPut(2, B("fx:sib1"), B("fruit salad"), sib1.Context));
        var done = ExpectMsg<ReplicaPutDone>(Wait);
        Assert.Equal(["fruit salad"], done.Siblings.ValuesOldestFirst.Select(v => v.ToUtf8()));
        var minted = done.Siblings.Siblings[0].Dot;
        Assert.StartsWith("n1/0.", minted.Actor);
        Assert.DoesNotContain(minted.Actor, sib1.Context.Entries.Select(e => e.Key));
    }

    [Fact]
    public void The_hint_actor_recovers_the_hints_it_held_and_replays_them()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == Akka.Cluster.MemberStatus.Up, Wait);
        var region = CreateTestProbe();
        var hints = Sys.ActorOf(HintedHandoffActor.PropsFor(_settings with { HintsReplayInterval = TimeSpan.FromMinutes(5) }, () => region.Ref, TimeProvider.System));
        hints.Tell(GetHintStats.Instance);
        var stats = ExpectMsg<HintStats>(Wait);
        Assert.Equal("n1", stats.Node);
        Assert.Equal([new HintTargetStats("n3", Held: 7, Replayed: 10, Overflowed: 0)], stats.Targets.ToList());
        // n3 is no member of this one-node cluster, so its hints go to its slots' homes through the region.
        var replayed = Enumerable.Range(0, 7).Select(_ => region.ExpectMsg<SlotEnvelope>(Wait)).ToList();
        var byKey = replayed.ToDictionary(e => ((ReplicaMerge)e.Command).Key.ToUtf8(), e => (e.Slot, ((ReplicaMerge)e.Command).Siblings));
        Assert.Equal(["fx:28", "fx:29", "fx:h10", "fx:h11", "fx:h12", "fx:h13", "fx:h14"], byKey.Keys.Order());
        Assert.Equal(new SlotId(3, 2), byKey["fx:h10"].Slot);
        Assert.Equal(["hinted-14"], byKey["fx:h14"].Siblings.Values.Select(v => v.ToUtf8()));
        Assert.True(byKey["fx:29"].Siblings.IsDeleted);
    }
}

/// <summary>
/// The journal's connections get the SQLite sync mode that gives the configured durability, and
/// wait for the write lock inside SQLite (busy timeout) rather than in Microsoft.Data.Sqlite's
/// 150 ms sleeps.
/// </summary>
public sealed class StorageDurabilityTests
{
    [Theory]
    [InlineData(StorageDurability.ProcessCrash, 1L)] // NORMAL: in the WAL (OS cache) before the ack; fsync at checkpoints
    [InlineData(StorageDurability.PowerLoss, 2L)]    // FULL: fsync of every commit before the ack
    public void A_journal_connection_syncs_as_the_durability_setting_says(StorageDurability durability, long synchronous)
    {
        var dir = SqliteJournal.NewDataDir("durability");
        try
        {
            using var db = new DataConnection(AkkaKvHosting.SqliteDataOptions(dir, durability));
            Assert.Equal(synchronous, db.Execute<long>("PRAGMA synchronous;"));
            Assert.Equal("wal", db.Execute<string>("PRAGMA journal_mode;"));
            Assert.Equal(AkkaKvHosting.SqliteBusyTimeoutMs, db.Execute<long>("PRAGMA busy_timeout;"));
        }
        finally
        {
            SqliteJournal.DeleteDataDir(dir);
        }
    }
}
