using AkkaKv.Coordination;
using AkkaKv.Serialization;
using AkkaKv.Sharding;
using AkkaKv.Versioning;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class CausalContextTests(ITestOutputHelper output)
{
    [Fact]
    public void A_context_decodes_to_the_vector_it_was_encoded_from()
    {
        VersionVectorTests.GenVector.Sample(v =>
        {
            var text = CausalContext.Encode(v);
            Assert.True(CausalContext.TryDecode(text, out var back));
            Assert.Equal(v, back);
        }, iter: 1000, writeLine: output.WriteLine);
    }

    [Fact]
    public void Contexts_of_real_sibling_sets_roundtrip_and_are_url_safe_text()
    {
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            foreach (var set in h.Observed)
            {
                var text = CausalContext.Encode(set.Context);
                Assert.DoesNotContain('+', text);
                Assert.DoesNotContain('/', text);
                Assert.DoesNotContain('=', text);
                Assert.True(CausalContext.TryDecode(text, out var back));
                Assert.Equal(set.Context, back);
            }
        }, iter: 200, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void The_empty_string_is_the_empty_context()
    {
        Assert.True(CausalContext.TryDecode("", out var v));
        Assert.Equal(VersionVector.Empty, v);
        Assert.True(CausalContext.TryDecode(CausalContext.Encode(VersionVector.Empty), out var w));
        Assert.Equal(VersionVector.Empty, w);
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("A")]
    [InlineData("not a context")]
    [InlineData("AQ")]          // claims one entry, then ends
    [InlineData("_____w")]      // a varint that runs off the end
    [InlineData("AAAA")]        // the empty vector followed by extra bytes
    public void Malformed_text_is_not_a_context(string text)
    {
        Assert.False(CausalContext.TryDecode(text, out _));
    }

    [Fact]
    public void A_context_with_a_negative_counter_is_not_a_context()
    {
        var w = new KvWriter();
        w.WriteVarULong(1);
        w.WriteString("n1/0.00000001");
        w.WriteVarLong(-3);
        var text = Convert.ToBase64String(w.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.False(CausalContext.TryDecode(text, out _));
    }

    [Fact]
    public void Every_truncation_of_a_non_empty_context_is_refused()
    {
        VersionVectorTests.GenVector.Where(v => !v.IsEmpty).Sample(v =>
        {
            var text = CausalContext.Encode(v);
            for (var len = 1; len < text.Length; len++)
                Assert.False(CausalContext.TryDecode(text[..len], out _), $"prefix '{text[..len]}' of '{text}' decoded");
            Assert.False(CausalContext.TryDecode(text + "AA", out _));
        }, iter: 300, writeLine: output.WriteLine);
    }
}

public sealed class KvCodecTests(ITestOutputHelper output)
{
    private static SiblingSet ReadSiblings(byte[] data)
    {
        var r = new KvReader(data);
        var set = r.ReadSiblings();
        Assert.True(r.AtEnd);
        return set;
    }

    private static byte[] Write(Action<KvWriter> write)
    {
        var w = new KvWriter();
        write(w);
        return w.ToArray();
    }

    [Fact]
    public void Sibling_sets_roundtrip_through_the_binary_format()
    {
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            foreach (var set in h.Observed.Concat(h.Replicas.Select(r => r.Get(DvvHistory.Key))))
            {
                var back = ReadSiblings(Write(w => w.WriteSiblings(set)));
                Assert.Equal(set, back);
                Assert.Equal(set.Siblings.Select(s => s.TimestampMs), back.Siblings.Select(s => s.TimestampMs));
                Assert.Equal(set.Siblings.Select(s => s.IsTombstone), back.Siblings.Select(s => s.IsTombstone));
            }
        }, iter: 200, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Binary_values_with_NUL_bytes_and_invalid_UTF8_roundtrip_exactly()
    {
        Gen.Byte.Array[0, 300].Sample(data =>
        {
            var value = Bytes.From(data);
            var set = SiblingSet.Empty.Put(new Dot("n1/0.0000002a", 7), VersionVector.Empty, value, -1);
            var back = ReadSiblings(Write(w => w.WriteSiblings(set)));
            Assert.Equal(data, back.Values.Single().ToArray());
        }, iter: 500, writeLine: output.WriteLine);
    }

    [Fact]
    public void Every_truncation_of_an_encoded_sibling_set_throws_FormatException()
    {
        DvvHistory.GenOps.Sample(ops =>
        {
            var h = DvvHistory.Run(ops);
            var set = h.Replicas.Select(r => r.Get(DvvHistory.Key)).Aggregate(SiblingSet.Empty, (a, b) => a.Merge(b));
            var data = Write(w => w.WriteSiblings(set));
            for (var len = 0; len < data.Length; len++)
            {
                var prefix = data[..len];
                Assert.Throws<FormatException>(() => new KvReader(prefix).ReadSiblings());
            }
        }, iter: 100, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void Varints_roundtrip_at_the_edges()
    {
        long[] longs = [0, 1, -1, 63, -64, 64, 127, 128, long.MaxValue, long.MinValue, int.MaxValue, int.MinValue];
        var data = Write(w => { foreach (var v in longs) w.WriteVarLong(v); w.WriteVarULong(ulong.MaxValue); w.WriteFixedLong(long.MinValue); });
        var r = new KvReader(data);
        foreach (var v in longs) Assert.Equal(v, r.ReadVarLong());
        Assert.Equal(ulong.MaxValue, r.ReadVarULong());
        Assert.Equal(long.MinValue, r.ReadFixedLong());
        Assert.True(r.AtEnd);
    }

    [Fact]
    public void Strings_bytes_slots_and_options_roundtrip()
    {
        RequestOptions[] options =
        [
            RequestOptions.Default,
            new(R: 1, W: 3, Timeout: TimeSpan.FromMilliseconds(1234.5), Sloppy: false),
            new(Sloppy: true),
            new(Timeout: TimeSpan.Zero),
        ];
        var data = Write(w =>
        {
            w.WriteString("héllo ✓");
            w.WriteNullableString(null);
            w.WriteNullableString("");
            w.WriteBytes(Bytes.From([0, 0xFF]));
            w.WriteNullableBytes(null);
            w.WriteSlot(new SlotId(255, 2));
            foreach (var o in options) w.WriteOptions(o);
            w.WriteBool(true);
        });
        var r = new KvReader(data);
        Assert.Equal("héllo ✓", r.ReadString());
        Assert.Null(r.ReadNullableString());
        Assert.Equal("", r.ReadNullableString());
        Assert.Equal(Bytes.From([0, 0xFF]), r.ReadBytes());
        Assert.Null(r.ReadNullableBytes());
        Assert.Equal(new SlotId(255, 2), r.ReadSlot());
        foreach (var o in options) Assert.Equal(o, r.ReadOptions());
        Assert.True(r.ReadBool());
        Assert.True(r.AtEnd);
    }

    [Fact]
    public void A_length_beyond_the_end_of_the_frame_throws_FormatException()
    {
        var data = Write(w => w.WriteVarULong(1_000_000));
        Assert.Throws<FormatException>(() => new KvReader(data).ReadString());
        Assert.Throws<FormatException>(() => new KvReader(Write(w => w.WriteVarULong(ulong.MaxValue))).ReadBytes());
    }

    [Fact]
    public void An_overlong_varint_throws_FormatException()
    {
        var data = Enumerable.Repeat((byte)0xFF, 11).ToArray();
        Assert.Throws<FormatException>(() => new KvReader(data).ReadVarULong());
    }
}

public sealed class KvReaderContractTests
{
    // KvReader promises FormatException on malformed input; these are malformed inputs that are not truncations.

    [Fact]
    public void A_varint_too_large_for_an_int_throws_FormatException()
    {
        var w = new KvWriter();
        w.WriteVarLong((long)int.MaxValue + 1);
        Assert.Throws<FormatException>(() => new KvReader(w.ToArray()).ReadInt());
    }

    [Fact]
    public void A_version_vector_with_a_negative_counter_throws_FormatException()
    {
        var w = new KvWriter();
        w.WriteVarULong(1);
        w.WriteString("a");
        w.WriteVarLong(-1);
        Assert.Throws<FormatException>(() => new KvReader(w.ToArray()).ReadVector());
    }
}
