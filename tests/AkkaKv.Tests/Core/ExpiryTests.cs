using AkkaKv.Codec;
using AkkaKv.Expiry;
using AkkaKv.Listing;
using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Versioning;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary>Expiry in the pure core: the TTL rules, the storage format of a deadline, what reads and listings see, and the GC of expired values.</summary>
public sealed class ExpiryTests
{
    private const string Actor = "n1/0.0000000a";
    private const long T0 = 1_800_000_000_000;
    private static Bytes B(string s) => Bytes.FromUtf8(s);

    [Fact]
    public void A_TTL_becomes_a_deadline_from_the_clock_that_took_the_write_and_a_bad_one_is_refused()
    {
        Assert.Null(TimeToLive.DeadlineOf(1500, T0, out var deadline));
        Assert.Equal(T0 + 1500, deadline);
        Assert.Null(TimeToLive.DeadlineOf(0, T0, out deadline));
        Assert.Equal(0, deadline);
        Assert.Contains("positive", TimeToLive.DeadlineOf(-1, T0, out _));
        Assert.Contains("overflow", TimeToLive.DeadlineOf(long.MaxValue, T0, out _));
    }

    [Theory]
    [InlineData(0L, -1L, -1L)]
    [InlineData(T0 + 10_000, 10_000L, 10L)]
    [InlineData(T0 + 1_499, 1_499L, 1L)]
    [InlineData(T0 + 1_500, 1_500L, 2L)]
    [InlineData(T0 - 5, 0L, 0L)]
    public void TTL_and_PTTL_answer_as_Redis_does(long deadline, long pttl, long ttl)
    {
        Assert.Equal(pttl, TimeToLive.RemainingMs(deadline, T0));
        Assert.Equal(ttl, TimeToLive.RemainingSeconds(deadline, T0));
    }

    private static byte[] Encode(SiblingSet set)
    {
        var w = new KvWriter();
        w.WriteSiblings(set);
        return w.ToArray();
    }

    private static SiblingSet Decode(byte[] bytes) => new KvReader(bytes).ReadSiblings();

    [Fact]
    public void Versions_without_a_deadline_keep_the_first_storage_format_byte_for_byte()
    {
        var set = SiblingSet.Of([new Sibling(new Dot(Actor, 3), VersionVector.Empty, B("v"), 42), new Sibling(new Dot(Actor, 4), VersionVector.Empty, null, 43)]);
        var w = new KvWriter();
        // The layout every journal written before expiry holds: count, then actor, counter, past, presence + value, timestamp.
        w.WriteVarULong(2);
        w.WriteString(Actor); w.WriteVarLong(3); w.WriteVarULong(0); w.WriteBool(true); w.WriteBytes(B("v")); w.WriteVarLong(42);
        w.WriteString(Actor); w.WriteVarLong(4); w.WriteVarULong(0); w.WriteBool(false); w.WriteVarLong(43);
        Assert.Equal(w.ToArray(), Encode(set));
        Assert.Equal(set, Decode(w.ToArray()));
    }

    [Fact]
    public void A_deadline_survives_the_storage_format_and_unknown_fields_are_refused_not_misread()
    {
        var set = SiblingSet.Of([new Sibling(new Dot(Actor, 3), VersionVector.Empty, B("v"), 42, ExpiresAtMs: T0)]);
        var bytes = Encode(set);
        Assert.Equal(set, Decode(bytes));
        Assert.Equal(T0, Decode(bytes).Siblings[0].ExpiresAtMs);

        // A version with a field mask bit this node does not know (a later node's field).
        var w = new KvWriter();
        w.WriteVarULong(1);
        w.WriteString(Actor); w.WriteVarLong(3); w.WriteVarULong(0); w.WriteByte(2); w.WriteBytes(B("v")); w.WriteVarLong(42);
        w.WriteVarULong(0b1001); w.WriteVarLong(T0); w.WriteVarLong(7);
        Assert.Contains("does not know", Assert.Throws<FormatException>(() => Decode(w.ToArray())).Message);
        // A value marker this node does not know.
        w = new KvWriter();
        w.WriteVarULong(1);
        w.WriteString(Actor); w.WriteVarLong(3); w.WriteVarULong(0); w.WriteByte(4); w.WriteBytes(B("v")); w.WriteVarLong(42);
        Assert.Contains("value marker is 4", Assert.Throws<FormatException>(() => Decode(w.ToArray())).Message);
    }

    private static ReplicaState WithExpiring(long deadline)
    {
        var state = ReplicaState.Empty.Apply(new ReplicaIncarnated(Actor));
        state = state.Apply(state.PutEvent(B("session"), new Dot(Actor, 1), B("v"), null, T0, deadline));
        return state.Apply(state.PutEvent(B("kept"), new Dot(Actor, 2), B("v"), null, T0));
    }

    [Fact]
    public void An_expired_value_is_a_GC_candidate_only_after_its_deadline_and_its_purge_replays_the_same_at_any_time()
    {
        var state = WithExpiring(T0 + 1000);
        Assert.Empty(state.Tombstones(100, T0 + 999));
        var listed = Assert.Single(state.Tombstones(100, T0 + 1000));
        Assert.Equal(B("session"), listed.Key);
        Assert.False(state.IsPurgeable(listed, T0 + 999));
        Assert.True(state.IsPurgeable(listed, T0 + 1000));

        // The replica persists the purge of what was dead at its clock; applying (or replaying) it
        // removes the key by its digest, whatever the time of the replay.
        var purged = state.Apply(new TombstonesPurged(1, ValueList.From([listed])));
        Assert.False(purged.Keys.ContainsKey(B("session")));
        Assert.Equal(state.Get(B("kept")), purged.Get(B("kept")));

        // A value without a deadline is never purged, even when named with its digest.
        var live = new MerkleEntry(B("kept"), EntryDigest.Of(B("kept"), state.Get(B("kept"))));
        Assert.False(state.IsPurgeable(live, long.MaxValue));
        Assert.Equal(state.Get(B("kept")), state.Apply(new TombstonesPurged(1, ValueList.From([live]))).Get(B("kept")));
    }

    [Fact]
    public void A_key_rewritten_after_its_expired_version_was_listed_is_not_purged()
    {
        var state = WithExpiring(T0 + 1000);
        var listed = state.Tombstones(100, T0 + 5000);
        var rewritten = state.Apply(state.PutEvent(B("session"), new Dot(Actor, 3), B("new"), null, T0 + 5000));
        var after = rewritten.Apply(new TombstonesPurged(1, ValueList.From(listed)));
        Assert.Equal([B("new")], after.Get(B("session")).Values);
    }

    [Fact]
    public void A_listing_leaves_out_keys_expired_at_its_moment_on_every_replica()
    {
        var ring = new Partitioner(2);
        var state = WithExpiring(T0 + 1000);
        List<Bytes> ListAt(long now) => Enumerable.Range(0, 2)
            .SelectMany(p => KeyScan.Combine(p, [KeyScan.Slice(state.Keys.Where(kv => ring.PartitionOf(kv.Key) == p), KeyScan.StartOf(p, ring), 100, _ => true)], ring, now).Keys)
            .OrderBy(k => k.ToUtf8()).ToList();
        Assert.Equal([B("kept"), B("session")], ListAt(T0 + 999));
        Assert.Equal([B("kept")], ListAt(T0 + 1000));
    }

    [Fact]
    public void One_version_in_two_forms_merges_to_the_one_with_the_deadline_from_either_side()
    {
        // Only a node from before expiry makes this: it stored the version without its deadline.
        var withDeadline = new Sibling(new Dot(Actor, 3), VersionVector.Empty, B("v"), 42, ExpiresAtMs: T0);
        var without = withDeadline with { ExpiresAtMs = 0 };
        SiblingSet a = SiblingSet.Of([without]), b = SiblingSet.Of([withDeadline]);
        Assert.Equal(b, a.Merge(b));
        Assert.Equal(b, b.Merge(a));
        Assert.Equal(b, a.Merge(b).Merge(a));
    }

    [Fact]
    public void A_tombstone_or_a_negative_deadline_is_stored_as_no_deadline()
    {
        var tombstone = new Sibling(new Dot(Actor, 3), VersionVector.Empty, null, 42, ExpiresAtMs: T0);
        var negative = new Sibling(new Dot(Actor, 4), VersionVector.Empty, B("v"), 42, ExpiresAtMs: -5);
        Assert.False(tombstone.HasDeadline);
        Assert.False(negative.HasDeadline);
        Assert.True(negative.IsLiveAt(long.MaxValue));
        var back = Decode(Encode(SiblingSet.Of([tombstone, negative]))).Siblings;
        Assert.All(back, s => Assert.Equal(0, s.ExpiresAtMs));
    }

    [Theory]
    [InlineData(new[] { "NX" }, null)]
    [InlineData(new[] { "xx", "gt" }, null)]
    [InlineData(new[] { "XX", "LT" }, null)]
    [InlineData(new[] { "NX", "XX" }, "ERR NX and XX, GT or LT options at the same time are not compatible")]
    [InlineData(new[] { "NX", "GT" }, "ERR NX and XX, GT or LT options at the same time are not compatible")]
    [InlineData(new[] { "GT", "LT" }, "ERR GT and LT options at the same time are not compatible")]
    [InlineData(new[] { "NX", "XX", "Bogus" }, "ERR Unsupported option Bogus")]
    public void EXPIRE_options_combine_and_conflict_as_in_Redis_7(string[] options, string? error)
    {
        var reply = AkkaKv.Resp.RespCommands.ParseExpireCondition(options, out _);
        Assert.Equal(error, (reply as AkkaKv.Resp.RespError)?.Message);
    }

    [Fact]
    public void EXPIRE_conditions_treat_no_deadline_as_infinite()
    {
        AkkaKv.Resp.RespCommands.ParseExpireCondition(["XX", "GT"], out var xxGt);
        Assert.False(AkkaKv.Expiry.ExpireConditions.Holds(xxGt, 0, T0));
        Assert.True(AkkaKv.Expiry.ExpireConditions.Holds(xxGt, T0, T0 + 1));
        Assert.False(AkkaKv.Expiry.ExpireConditions.Holds(xxGt, T0, T0 - 1));
        AkkaKv.Resp.RespCommands.ParseExpireCondition(["LT"], out var lt);
        Assert.True(AkkaKv.Expiry.ExpireConditions.Holds(lt, 0, T0));
        Assert.False(AkkaKv.Expiry.ExpireConditions.Holds(lt, T0, T0 + 1));
        AkkaKv.Resp.RespCommands.ParseExpireCondition(["NX"], out var nx);
        Assert.True(AkkaKv.Expiry.ExpireConditions.Holds(nx, 0, T0));
        Assert.False(AkkaKv.Expiry.ExpireConditions.Holds(nx, T0, T0));
    }
}
