using System.Collections.Immutable;
using AkkaKv.Listing;
using AkkaKv.Ring;
using AkkaKv.Versioning;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Core;

/// <summary>
/// SCAN over replicas that disagree, pure: walks of the whole ring in pages, with replicas that
/// miss keys, hold tombstones, or do not answer a page, keep Redis's promise (a key every live
/// replica holds is returned at least once), never return a key no replica holds live, and end.
/// </summary>
public sealed class KeyScanTests(ITestOutputHelper output)
{
    private const int N = 3;
    private static readonly Partitioner Ring = new(8);
    /// <summary>The clock of every scan here: 2026-01-01 (no value in these tests has a deadline unless it says so).</summary>
    private const long NowMs = 1_767_225_600_000;

    private static SiblingSet Live(string replica) => SiblingSet.Empty.Put(new Dot(replica, 1), VersionVector.Empty, B("v"), 1);

    private static SiblingSet Deleted(string replica)
    {
        var live = Live(replica);
        return live.Put(new Dot(replica, 2), live.Context, null, 2);
    }

    /// <summary>Replica i of partition p: its keys (sorted by bytes, as a replica holds them).</summary>
    private sealed record Store(ImmutableSortedDictionary<Bytes, SiblingSet>[,] Slots);

    private static List<Bytes> Walk(Store store, Random random, Func<int> count, bool everyReplicaAnswers, string? match = null)
    {
        var keys = new List<Bytes>();
        long cursor = 0;
        var pages = 0;
        do
        {
            Assert.True(++pages < 100_000, "the walk did not end");
            var partition = KeyScan.PartitionOf(cursor, Ring);
            var asked = count();
            var answering = Enumerable.Range(0, N).Where(_ => everyReplicaAnswers || random.Next(3) > 0).ToList();
            if (answering.Count == 0) answering.Add(random.Next(N));
            var slices = answering.Select(i => KeyScan.Slice(store.Slots[partition, i], cursor, asked,
                k => match is null || KeyPattern.Matches(B(match).Span, k.Span))).ToList();
            var page = KeyScan.Combine(partition, slices, Ring, NowMs);
            foreach (var k in page.Keys) Assert.Equal(partition, Ring.PartitionOf(k));
            keys.AddRange(page.Keys);
            Assert.True(page.NextCursor == 0 || page.NextCursor > cursor, $"cursor went from {cursor} to {page.NextCursor}");
            cursor = page.NextCursor;
        } while (cursor != 0);
        return keys;
    }

    /// <param name="everywhereLive">Keys every replica holds, live.</param>
    /// <param name="liveSomewhere">Keys some replica holds live (one that has not seen the delete lists them when the others do not answer).</param>
    /// <param name="liveMerged">Keys live once every replica's versions are merged: some replica holds them live and none deleted.</param>
    private static Store RandomStore(Random random, int keyCount, out HashSet<Bytes> everywhereLive, out HashSet<Bytes> liveSomewhere, out HashSet<Bytes> liveMerged)
    {
        var slots = new ImmutableSortedDictionary<Bytes, SiblingSet>[Ring.PartitionCount, N];
        for (var p = 0; p < Ring.PartitionCount; p++)
            for (var i = 0; i < N; i++) slots[p, i] = ImmutableSortedDictionary<Bytes, SiblingSet>.Empty;
        everywhereLive = [];
        liveSomewhere = [];
        liveMerged = [];
        for (var k = 0; k < keyCount; k++)
        {
            var key = B($"key:{k}");
            var p = Ring.PartitionOf(key);
            // Each replica: absent, live, or deleted (the tombstone supersedes the live version everywhere it meets it).
            var states = Enumerable.Range(0, N).Select(_ => random.Next(10) switch { 0 => 0, 1 => 2, _ => 1 }).ToArray();
            for (var i = 0; i < N; i++)
                if (states[i] != 0) slots[p, i] = slots[p, i].Add(key, states[i] == 1 ? Live("w") : Deleted("w"));
            if (states.All(s => s == 1)) everywhereLive.Add(key);
            if (states.Contains(1)) liveSomewhere.Add(key);
            if (states.Contains(1) && !states.Contains(2)) liveMerged.Add(key);
        }
        return new Store(slots);
    }

    [Fact]
    public void Walks_with_replicas_missing_keys_holding_tombstones_or_not_answering_keep_Redis_promise()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var round = 0; round < 40; round++)
        {
            var store = RandomStore(random, random.Next(0, 3000), out var everywhere, out var somewhere, out _);
            var keys = Walk(store, random, () => random.Next(1, 1200), everyReplicaAnswers: false);
            var returned = keys.ToHashSet();
            Assert.True(everywhere.IsSubsetOf(returned), $"round {round}: {everywhere.Except(returned).Count()} key(s) every replica holds were not returned");
            Assert.True(returned.IsSubsetOf(somewhere), $"round {round}: returned a key no replica holds live: {returned.Except(somewhere).FirstOrDefault()}");
        }
    }

    [Fact]
    public void With_every_replica_answering_a_walk_returns_each_live_key_exactly_once()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var round = 0; round < 20; round++)
        {
            var store = RandomStore(random, random.Next(0, 4000), out _, out _, out var merged);
            var keys = Walk(store, random, () => random.Next(1, 1200), everyReplicaAnswers: true);
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.Equal(merged.OrderBy(k => k).ToList(), keys.OrderBy(k => k).ToList());
        }
    }

    [Fact]
    public void A_match_pattern_lists_only_matching_keys_and_all_of_them()
    {
        var random = new Random(7);
        var store = RandomStore(random, 2000, out _, out _, out var merged);
        var keys = Walk(store, random, () => 10, everyReplicaAnswers: true, match: "key:1*");
        Assert.Equal(merged.Where(k => k.ToUtf8().StartsWith("key:1", StringComparison.Ordinal)).OrderBy(k => k).ToList(), keys.OrderBy(k => k).ToList());
    }

    [Fact]
    public void An_empty_store_is_walked_in_one_page_per_partition_and_the_cursor_comes_back_to_0()
    {
        var store = RandomStore(new Random(1), 0, out _, out _, out _);
        var cursors = new List<long>();
        long cursor = 0;
        do
        {
            var partition = KeyScan.PartitionOf(cursor, Ring);
            var page = KeyScan.Combine(partition, [KeyScan.Slice(store.Slots[partition, 0], cursor, 10, _ => true)], Ring, NowMs);
            Assert.Empty(page.Keys);
            cursor = page.NextCursor;
            cursors.Add(cursor);
        } while (cursor != 0);
        Assert.Equal(Ring.PartitionCount, cursors.Count);
        Assert.All(cursors, c => Assert.True(c >= 0));
    }

    [Fact]
    public void A_replica_slice_takes_the_lowest_positions_from_the_cursor_and_bounds_the_page_by_the_last()
    {
        var keys = Enumerable.Range(0, 50).Select(i => B($"k{i}")).ToList();
        var slot = keys.ToImmutableSortedDictionary(k => k, _ => Live("r"));
        var byPosition = keys.OrderBy(KeyScan.PositionOf).ToList();
        var from = KeyScan.PositionOf(byPosition[10]);
        var slice = KeyScan.Slice(slot, from, 5, _ => true);
        Assert.Equal(byPosition.Skip(10).Take(5), slice.Entries.Select(e => e.Key));
        Assert.Equal(KeyScan.PositionOf(byPosition[14]), slice.Bound);
        Assert.All(slice.Entries, e => Assert.All(e.Value.Siblings, s => Assert.Equal(0, s.Value!.Length)));
        var rest = KeyScan.Slice(slot, from, 100, _ => true);
        Assert.Null(rest.Bound);
        Assert.Equal(40, rest.Entries.Count);
    }
}
