using AkkaKv.Codec;
using AkkaKv.Replica;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Core.CoreTestSupport;

namespace AkkaKv.Tests.Core;

/// <summary>The page of a repair fetch a replica answers with (<see cref="FetchPage"/>), without an ActorSystem.</summary>
public sealed class FetchPageTests(ITestOutputHelper output)
{
    private static Sibling Version(string actor, long counter, Bytes? value, VersionVector? past = null, long timestampMs = 1_000) =>
        new(new Dot(actor, counter), past ?? VersionVector.Empty, value, timestampMs);

    private static KeyValuePair<Bytes, SiblingSet> Entry(string key, int valueBytes) =>
        KeyValuePair.Create(B(key), SiblingSet.Of([Version("n1/0.1", 1, Bytes.Wrap(new byte[valueBytes]))]));

    private static long Size(KeyValuePair<Bytes, SiblingSet> e) => FetchPage.SizeOf(e.Key, e.Value);

    /// <summary>What KvSerializer writes for one entry of a <c>ReplicaFetched</c>.</summary>
    private static long Written(KeyValuePair<Bytes, SiblingSet> e)
    {
        var w = new KvWriter();
        w.WriteBytes(e.Key);
        w.WriteSiblings(e.Value);
        return w.ToArray().LongLength;
    }

    [Fact]
    public void The_first_key_goes_alone_when_it_is_over_the_budget_so_every_fetch_makes_progress()
    {
        var entries = new[] { Entry("a", 1000), Entry("b", 10) };
        Assert.Equal([entries[0]], FetchPage.Of(entries, budget: 100));
        Assert.Equal([entries[0]], FetchPage.Of(entries, budget: 1));
    }

    [Fact]
    public void Keys_follow_in_request_order_while_the_page_stays_within_the_budget()
    {
        var entries = new[] { Entry("c", 100), Entry("a", 100), Entry("b", 100), Entry("d", 100) };
        var two = Size(entries[0]) + Size(entries[1]);
        Assert.Equal(entries[..2], FetchPage.Of(entries, two));
        Assert.Equal(entries[..1], FetchPage.Of(entries, two - 1));
        Assert.Equal(entries, FetchPage.Of(entries, long.MaxValue));
    }

    [Fact]
    public void A_key_left_out_ends_the_page_even_when_a_later_smaller_one_would_fit()
    {
        // A page is a prefix of the request: the exchange repairs only what both sides sent, and
        // both send a prefix of the same order.
        var entries = new[] { Entry("a", 100), Entry("big", 10_000), Entry("c", 1) };
        Assert.Equal(entries[..1], FetchPage.Of(entries, Size(entries[0]) + Size(entries[2])));
    }

    [Fact]
    public void An_empty_request_gets_an_empty_page_and_a_missing_key_costs_only_its_name()
    {
        Assert.Empty(FetchPage.Of([], 100));
        var missing = KeyValuePair.Create(B("absent"), SiblingSet.Empty);
        Assert.InRange(Size(missing), 6, 6 + 20);
    }

    [Fact]
    public void The_entries_after_the_first_left_out_are_not_read()
    {
        var read = 0;
        IEnumerable<KeyValuePair<Bytes, SiblingSet>> Lazily()
        {
            for (var i = 0; i < 1000; i++)
            {
                read++;
                yield return Entry($"k{i}", 100);
            }
        }
        var page = FetchPage.Of(Lazily(), 3 * Size(Entry("k0", 100)));
        Assert.Equal(3, page.Count);
        Assert.Equal(4, read);
    }

    [Fact]
    public void Forty_full_size_values_take_pages_of_at_most_the_default_budget()
    {
        var settings = DefaultSettings();
        var entries = Enumerable.Range(0, 40).Select(i => Entry($"big{i:D2}", settings.MaxValueBytes)).ToList();
        var pages = 0;
        for (var rest = entries; rest.Count > 0; pages++)
        {
            var page = FetchPage.Of(rest, settings.MaxRepairReplyBytes);
            Assert.True(page.Sum(Written) <= settings.MaxRepairReplyBytes);
            rest = rest.Skip(page.Count).ToList();
        }
        Assert.Equal(14, pages); // 3 values of 1 MiB and their clocks fit in 4 MiB, not 4
    }

    private static readonly Gen<string> GenActor =
        Gen.OneOf(Gen.Const("n1/0.00000001"), Gen.Const("ñødé-ü/2.ffffffff"), Gen.String[Gen.Char.AlphaNumeric, 1, 40]);

    private static readonly Gen<Sibling> GenSibling =
        Gen.Select(GenActor, Gen.Long[1, long.MaxValue], Gen.Int[-1, 5000], Gen.Long,
                   Gen.Select(GenActor, Gen.Long[1, long.MaxValue]).Array[0, 4])
            .Select((actor, counter, valueBytes, timestamp, past) => Version(actor, counter,
                valueBytes < 0 ? null : Bytes.Wrap(new byte[valueBytes]),
                VersionVector.Of(past.DistinctBy(p => p.Item1).Select(p => KeyValuePair.Create(p.Item1, p.Item2))), timestamp));

    private static readonly Gen<KeyValuePair<Bytes, SiblingSet>> GenEntry =
        Gen.Select(Gen.Byte.Array[1, 300], GenSibling.Array[0, 5])
            .Select((key, siblings) => KeyValuePair.Create(Bytes.Wrap(key), SiblingSet.Of(siblings)));

    [Fact]
    public void A_key_s_size_is_never_less_than_what_the_serializer_writes_for_it()
    {
        GenEntry.Sample(e => Written(e) <= Size(e), iter: 2000,
            print: e => $"key of {e.Key.Length} bytes, {e.Value.Count} siblings: written {Written(e)}, size {Size(e)}", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_page_is_the_longest_prefix_within_the_budget_and_never_empty()
    {
        Gen.Select(GenEntry.List[0, 30], Gen.Long[1, 40_000]).Sample((entries, budget) =>
        {
            var reply = FetchPage.Page(entries, budget);
            var page = reply.Entries;
            Assert.Equal(entries.Count > 0, page.Count > 0);
            var used = page.Sum(Size);
            if (reply.Truncated is { } dots)
            {
                // The first key alone was over the budget: part of its versions, within the budget
                // or one sibling, and the dots of all of them.
                var (key, part) = Assert.Single(page);
                Assert.Equal(entries[0].Key, key);
                Assert.True(Size(entries[0]) > budget);
                Assert.True(part.Count >= 1 && part.Count < entries[0].Value.Count);
                Assert.All(part.Siblings, s => Assert.Contains(s, entries[0].Value.Siblings));
                Assert.True(used <= budget || part.Count == 1, $"part of {part.Count} siblings, {used} bytes, budget {budget}");
                Assert.Equal(entries[0].Value.Siblings.Select(s => s.Dot), dots);
                return;
            }
            Assert.Equal(entries.Take(page.Count), page);
            // Within the budget, or the first key alone (one sibling at most); and the next key would not have fit.
            Assert.True(used <= budget || (page.Count == 1 && page[0].Value.Count <= 1), $"{page.Count} keys, {used} bytes, budget {budget}");
            if (page.Count < entries.Count) Assert.True(used + Size(entries[page.Count]) > budget);
        }, iter: 500, print: t => $"{t.Item1.Count} entries, budget {t.Item2}", writeLine: output.WriteLine);
    }

    [Fact]
    public void A_key_over_the_budget_comes_in_pages_of_its_siblings_that_add_up_to_the_whole_set()
    {
        // As an exchange asks: each time without the dots it already has, until a page is whole.
        Gen.Select(GenEntry, Gen.Long[1, 4_000]).Sample((entry, budget) =>
        {
            var have = new HashSet<Dot>();
            var received = SiblingSet.Empty;
            for (var pages = 0; ; pages++)
            {
                Assert.True(pages <= entry.Value.Count, $"{pages} pages for {entry.Value.Count} siblings");
                var reply = FetchPage.Page([entry], budget, have);
                var (key, part) = Assert.Single(reply.Entries);
                Assert.Equal(entry.Key, key);
                Assert.True(Size(reply.Entries[0]) <= Math.Max(budget, Size(KeyValuePair.Create(key, part))) && (part.Count <= 1 || Size(reply.Entries[0]) <= budget));
                Assert.DoesNotContain(part.Siblings, s => have.Contains(s.Dot));
                received = received.Merge(part);
                have.UnionWith(part.Siblings.Select(s => s.Dot));
                if (reply.Truncated is null) break;
                Assert.NotEqual(0, part.Count);
            }
            Assert.Equal(entry.Value, received);
        }, iter: 500, print: t => $"{t.Item1.Value.Count} siblings of {Size(t.Item1)} bytes, budget {t.Item2}", writeLine: output.WriteLine);
    }
}
