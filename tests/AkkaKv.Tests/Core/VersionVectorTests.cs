using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class VersionVectorTests(ITestOutputHelper output)
{
    private static readonly string[] Actors = ["a", "b", "c", "d"];

    internal static readonly Gen<VersionVector> GenVector =
        Gen.Select(Gen.Int[0, Actors.Length - 1], Gen.Long[0, 5])
            .Array[0, 6]
            .Select(entries => VersionVector.Of(entries.Select(e => KeyValuePair.Create(Actors[e.Item1], e.Item2))));

    private static readonly Gen<Dot> GenDot = Gen.Select(Gen.Int[0, Actors.Length - 1], Gen.Long[1, 6], (a, c) => new Dot(Actors[a], c));

    private static VersionVector V(params (string Actor, long Counter)[] entries) =>
        VersionVector.Of(entries.Select(e => KeyValuePair.Create(e.Actor, e.Counter)));

    [Fact]
    public void Merge_is_commutative_associative_and_idempotent()
    {
        Gen.Select(GenVector, GenVector, GenVector).Sample((a, b, c) =>
        {
            Assert.Equal(a.Merge(b), b.Merge(a));
            Assert.Equal(a.Merge(b).Merge(c), a.Merge(b.Merge(c)));
            Assert.Equal(a, a.Merge(a));
            Assert.Equal(a, a.Merge(VersionVector.Empty));
            Assert.Equal(a, VersionVector.Empty.Merge(a));
        }, iter: 1000, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_merge_descends_both_inputs_and_is_the_least_vector_that_does()
    {
        Gen.Select(GenVector, GenVector, GenVector).Sample((a, b, c) =>
        {
            var m = a.Merge(b);
            Assert.True(m.Descends(a));
            Assert.True(m.Descends(b));
            if (c.Descends(a) && c.Descends(b)) Assert.True(c.Descends(m));
            foreach (var actor in Actors) Assert.Equal(Math.Max(a[actor], b[actor]), m[actor]);
        }, iter: 1000, writeLine: output.WriteLine);
    }

    [Fact]
    public void Descends_is_a_partial_order_with_the_empty_vector_at_the_bottom()
    {
        Gen.Select(GenVector, GenVector, GenVector).Sample((a, b, c) =>
        {
            Assert.True(a.Descends(a));
            Assert.True(a.Descends(VersionVector.Empty));
            if (a.Descends(b) && b.Descends(a)) Assert.Equal(a, b);
            if (a.Descends(b) && b.Descends(c)) Assert.True(a.Descends(c));
            Assert.Equal(Actors.All(x => a[x] >= b[x]), a.Descends(b));
        }, iter: 1000, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_vector_covers_exactly_the_dots_at_or_below_its_counter_for_that_actor()
    {
        Gen.Select(GenVector, GenDot).Sample((v, dot) =>
        {
            Assert.Equal(v[dot.Actor] >= dot.Counter, v.Covers(dot));
            var with = v.With(dot);
            Assert.True(with.Covers(dot));
            Assert.True(with.Descends(v));
            Assert.Equal(Math.Max(v[dot.Actor], dot.Counter), with[dot.Actor]);
        }, iter: 1000, writeLine: output.WriteLine);
    }

    [Fact]
    public void Equal_vectors_have_equal_hash_codes()
    {
        Gen.Select(GenVector, GenVector).Sample((a, b) =>
        {
            var rebuilt = VersionVector.Of(a.Entries.Reverse());
            Assert.Equal(a, rebuilt);
            Assert.Equal(a.GetHashCode(), rebuilt.GetHashCode());
            if (a.Equals(b)) Assert.Equal(a.GetHashCode(), b.GetHashCode());
        }, iter: 500, writeLine: output.WriteLine);
    }

    [Fact]
    public void Concurrent_vectors_descend_neither_way()
    {
        var a = V(("a", 2), ("b", 1));
        var b = V(("a", 1), ("b", 2));
        Assert.False(a.Descends(b));
        Assert.False(b.Descends(a));
        Assert.Equal(V(("a", 2), ("b", 2)), a.Merge(b));
    }

    [Fact]
    public void Zero_counters_are_dropped_and_repeated_actors_keep_their_highest_counter()
    {
        Assert.Equal(VersionVector.Empty, V(("a", 0)));
        Assert.True(V(("a", 0)).IsEmpty);
        Assert.Equal(V(("a", 5)), V(("a", 3), ("a", 5), ("a", 4)));
        Assert.Equal(0, VersionVector.Empty["nobody"]);
        Assert.False(VersionVector.Empty.Covers(new Dot("a", 1)));
    }

    [Fact]
    public void A_negative_counter_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => V(("a", -1)));
    }

    [Fact]
    public void Actors_are_compared_as_ordinal_strings()
    {
        var v = V(("B", 1), ("a", 1), ("b", 2));
        Assert.Equal(["B", "a", "b"], v.Entries.Select(e => e.Key).ToArray());
        Assert.Equal(1, v["B"]);
        Assert.Equal(2, v["b"]);
    }
}
