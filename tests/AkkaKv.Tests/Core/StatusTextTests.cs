using AkkaKv.AntiEntropy;
using AkkaKv.HintedHandoff;
using AkkaKv.Protocol;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary>What <c>akkakv status</c> and <c>KV.STATUS</c> print for hints and anti-entropy: the lines an operator reads.</summary>
public sealed class StatusTextTests
{
    private static NodeStatus Status(ValueList<HintStats>? hints, ValueList<AntiEntropyStats>? antiEntropy) => new("n1",
        ValueList.From([new MemberInfo("n1", "akka.tcp://akkakv@127.0.0.1:4001", "Up", true), new MemberInfo("n3", "akka.tcp://akkakv@127.0.0.1:4003", "Up", false)]),
        256, 3, 128, ValueList.From([KeyValuePair.Create("n1", 256), KeyValuePair.Create("n3", 256)]), 0, 0, 0, null, 256, hints, antiEntropy);

    [Fact]
    public void Anti_entropy_shows_per_node_rounds_partitions_in_sync_repairs_and_bytes_and_a_round_in_progress()
    {
        var lastExchange = new DateTimeOffset(2026, 11, 29, 9, 30, 5, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var text = StatusText.Render(Status(null, ValueList.From([
            new AntiEntropyStats("n1", 3, lastExchange, lastExchange, 700, 2, 256, 250, 200, 195, 1234, 98765, 17, 12, 13)])));

        Assert.Contains("anti-entropy (per node", text);
        Assert.Contains("  n1       3 round(s), last round: 195 of 200 partitions in sync (250 of 256 replica pairs); 700 exchanges (2 abandoned), 0 slot catch-up(s) (0 in progress), " +
            "1234 key(s) repaired, 98765 bytes exchanged; read repair: 12 key(s), 13 replica(s); last exchange 09:30:05 UTC; round in progress, 17 pair(s) left", text);
        // A member whose anti-entropy did not answer (here: unreachable) says so rather than showing zeros.
        Assert.Contains("  n3       not reported", text);
    }

    [Fact]
    public void Slots_still_recovering_or_catching_up_are_counted_per_node_and_in_total()
    {
        var text = StatusText.Render(Status(null, ValueList.From([
            new AntiEntropyStats("n1", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SlotCatchUps: 200, SlotsCatchingUp: 56),
            new AntiEntropyStats("n3", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SlotCatchUps: 256, SlotsCatchingUp: 3)])));

        Assert.Contains("slots catching up: 59 (recovering their journal or exchanging with their peers after a start)", text);
        Assert.Contains("200 slot catch-up(s) (56 in progress)", text);

        // A catch-up that served before every peer answered is counted, not logged as a warning per slot.
        var incomplete = StatusText.Render(Status(null, ValueList.From([
            new AntiEntropyStats("n1", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SlotCatchUps: 256, SlotsCatchingUp: 0, SlotCatchUpsIncomplete: 150)])));
        Assert.Contains("256 slot catch-up(s) (0 in progress, 150 served before every peer answered)", incomplete);
    }

    [Fact]
    public void Tombstone_gc_shows_what_was_purged_what_awaits_confirmation_and_why_a_pass_was_skipped()
    {
        var text = StatusText.Render(Status(null, ValueList.From([
            new AntiEntropyStats("n1", 3, 1, 1, 700, 2, 256, 250, 200, 195, 1234, 98765, 0, 12, 13, TombstonesPurged: 40, TombstonesPending: 7,
                LastGcSkipped: "n2 holds 3 hint(s)")])));

        Assert.Contains("           tombstone GC: 40 purged, 7 listed awaiting confirmation by the next round; last pass skipped: n2 holds 3 hint(s)", text);
    }

    [Fact]
    public void A_node_that_has_not_finished_a_round_says_so()
    {
        var text = StatusText.Render(Status(null, ValueList.From([new AntiEntropyStats("n1", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)])));
        Assert.Contains("  n1       0 round(s), no round completed; 0 exchanges (0 abandoned), 0 slot catch-up(s) (0 in progress), 0 key(s) repaired, 0 bytes exchanged; read repair: 0 key(s), 0 replica(s); no exchange yet", text);
    }

    [Fact]
    public void Hints_show_what_each_node_holds_for_whom_and_writes_it_could_not_hold()
    {
        var text = StatusText.Render(Status(ValueList.From([
            new HintStats("n1", ValueList.From([new HintTargetStats("n3", 5, 40, 2)]))]), null));

        Assert.Contains("  n1       reachable, holds 5 hint(s): for n3 5 held, 40 replayed, 2 NOT HELD (bound full: n3 needs repair)", text);
        Assert.Contains("  n3       UNREACHABLE, hints not reported", text);
        Assert.DoesNotContain("anti-entropy", text);
    }

    [Fact]
    public void Status_json_carries_the_same_facts_as_the_text_under_stable_camel_case_names()
    {
        var st = Status(ValueList.From([new HintStats("n1", ValueList.From([new HintTargetStats("n3", 5, 40, 2)]))]),
            ValueList.From([new AntiEntropyStats("n1", 3, 0, 0, 700, 2, 256, 250, 200, 195, 1234, 98765, 17, SlotsCatchingUp: 4)]));
        using var doc = System.Text.Json.JsonDocument.Parse(StatusJson.Render(st));
        var root = doc.RootElement;
        Assert.Equal("n1", root.GetProperty("node").GetString());
        Assert.Equal(256, root.GetProperty("ring").GetProperty("partitions").GetInt32());
        Assert.Equal(3, root.GetProperty("ring").GetProperty("replicationFactor").GetInt32());
        Assert.Equal(128, root.GetProperty("ring").GetProperty("virtualNodes").GetInt32());
        var members = root.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(["n1", "n3"], members.Select(m => m.GetProperty("node").GetString()));
        Assert.Equal([true, false], members.Select(m => m.GetProperty("reachable").GetBoolean()));
        Assert.Equal("Up", members[1].GetProperty("status").GetString());
        Assert.Equal("akka.tcp://akkakv@127.0.0.1:4003", members[1].GetProperty("address").GetString());
        Assert.Equal(256, root.GetProperty("slotsPerNode").GetProperty("n3").GetInt32());
        Assert.Equal(256, root.GetProperty("partitionsHeld").GetInt32());
        Assert.Equal(0, root.GetProperty("misplacedSlots").GetInt32());
        Assert.Equal(0, root.GetProperty("unallocatedSlots").GetInt32());
        Assert.Equal(4, root.GetProperty("slotsCatchingUp").GetInt32());
        var hints = Assert.Single(root.GetProperty("hints").EnumerateArray().ToList());
        Assert.Equal(5, hints.GetProperty("held").GetInt32());
        var target = Assert.Single(hints.GetProperty("targets").EnumerateArray().ToList());
        Assert.Equal(("n3", 5, 40L, 2L), (target.GetProperty("target").GetString(), target.GetProperty("held").GetInt32(),
            target.GetProperty("replayed").GetInt64(), target.GetProperty("overflowed").GetInt64()));
        var ae = Assert.Single(root.GetProperty("antiEntropy").EnumerateArray().ToList());
        Assert.Equal(1234, ae.GetProperty("keysRepaired").GetInt64());
        Assert.Equal(195, ae.GetProperty("partitionsInSync").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("warning").ValueKind);

        // Parts the node did not collect are null, not empty.
        using var bare = System.Text.Json.JsonDocument.Parse(StatusJson.Render(Status(null, null)));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, bare.RootElement.GetProperty("hints").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, bare.RootElement.GetProperty("slotsCatchingUp").ValueKind);
    }

    [Fact]
    public void Json_status_adds_the_owner_of_every_slot_and_the_slots_moving_and_leaves_them_null_when_not_collected()
    {
        var st = Status(null, null) with
        {
            SlotOwners = ValueList.From<string?>(["n1", "n3", null, "n3"]),
            SlotsMoving = ValueList.From([new SlotMove(new SlotId(1, 0), "n3", "n1")]),
        };
        using var doc = System.Text.Json.JsonDocument.Parse(StatusJson.Render(st));
        var owners = doc.RootElement.GetProperty("slotOwners").EnumerateArray().Select(o => o.ValueKind == System.Text.Json.JsonValueKind.Null ? null : o.GetString());
        Assert.Equal(["n1", "n3", null, "n3"], owners);
        var move = Assert.Single(doc.RootElement.GetProperty("slotsMoving").EnumerateArray().ToList());
        Assert.Equal(("1/0", "n3", "n1"), (move.GetProperty("slot").GetString(), move.GetProperty("from").GetString(), move.GetProperty("to").GetString()));

        using var bare = System.Text.Json.JsonDocument.Parse(StatusJson.Render(Status(null, null)));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, bare.RootElement.GetProperty("slotOwners").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, bare.RootElement.GetProperty("slotsMoving").ValueKind);
    }

    [Fact]
    public void Ready_means_up_every_slot_placed_and_none_of_this_node_s_slots_catching_up_and_each_gap_is_named()
    {
        AntiEntropyStats Ae(string node, int catchingUp) => new(node, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SlotsCatchingUp: catchingUp);
        var ready = Status(null, ValueList.From([Ae("n1", 0), Ae("n3", 2)])) with
        {
            Members = ValueList.From([new MemberInfo("n1", "akka.tcp://akkakv@127.0.0.1:4001", "Up", true), new MemberInfo("n3", "akka.tcp://akkakv@127.0.0.1:4003", "Up", true)]),
        };
        // Another node's slots catching up do not make this one unready.
        Assert.Empty(StatusReadiness.Reasons(ready));

        Assert.Equal(["n1 is Joining, not Up"], StatusReadiness.Reasons(ready with
        {
            Members = ValueList.From([new MemberInfo("n1", "akka.tcp://akkakv@127.0.0.1:4001", "Joining", true)]),
        }));
        Assert.Equal(["n1 is not a member of the cluster yet"], StatusReadiness.Reasons(ready with { Members = ValueList<MemberInfo>.Empty }));
        Assert.Equal(["12 replica slot(s) are not allocated to a node yet", "3 replica slot(s) wait to move to their ring position"],
            StatusReadiness.Reasons(ready with { UnallocatedSlots = 12, MisplacedSlots = 3 }));
        Assert.Equal(["5 replica slot(s) on n1 are still recovering or catching up"],
            StatusReadiness.Reasons(ready with { AntiEntropy = ValueList.From([Ae("n1", 5)]) }));
        Assert.Equal(["n1's anti-entropy did not report whether its slots are caught up"], StatusReadiness.Reasons(ready with { AntiEntropy = null }));
        Assert.Contains("sharding stats did not arrive in time; slot counts are missing",
            StatusReadiness.Reasons(ready with { Warning = "sharding stats did not arrive in time; slot counts are missing" }));
    }
}
