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
    private static readonly Bytes Key = Bytes.FromUtf8("user:42");
    private static readonly CausalContext Signer = new([new ContextKey("k1", Enumerable.Range(1, 32).Select(i => (byte)i).ToArray())]);

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var b64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '='));
    }

    [Fact]
    public void A_context_decodes_to_the_vector_it_was_encoded_from()
    {
        VersionVectorTests.GenVector.Sample(v =>
        {
            var text = Signer.Encode(Key, v);
            Assert.True(Signer.TryDecode(text, Key, out var back, out var error), error);
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
                var text = Signer.Encode(Key, set.Context);
                Assert.DoesNotContain('+', text);
                Assert.DoesNotContain('/', text);
                Assert.DoesNotContain('=', text);
                Assert.True(Signer.TryDecode(text, Key, out var back, out _));
                Assert.Equal(set.Context, back);
            }
        }, iter: 200, print: DvvHistory.Print, writeLine: output.WriteLine);
    }

    [Fact]
    public void The_empty_string_is_the_empty_context()
    {
        Assert.True(Signer.TryDecode("", Key, out var v, out _));
        Assert.Equal(VersionVector.Empty, v);
        Assert.True(Signer.TryDecode(Signer.Encode(Key, VersionVector.Empty), Key, out var w, out _));
        Assert.Equal(VersionVector.Empty, w);
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("A")]
    [InlineData("not a context")]
    [InlineData("AQ")]
    [InlineData("_____w")]
    [InlineData("AAAA")]
    public void Malformed_text_is_not_a_context(string text)
    {
        Assert.False(Signer.TryDecode(text, Key, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void A_signed_context_with_a_negative_counter_or_trailing_bytes_is_malformed()
    {
        var w = new KvWriter();
        w.WriteVarULong(1);
        w.WriteString("n1/0.00000001");
        w.WriteVarLong(-3);
        Assert.False(Signer.TryDecode(Signer.Sign(Key, w.ToArray()), Key, out _, out var error));
        Assert.StartsWith("the causal context is malformed", error);
        var e = new KvWriter();
        e.WriteVector(VersionVector.Empty);
        Assert.False(Signer.TryDecode(Signer.Sign(Key, [.. e.ToArray(), 0]), Key, out _, out error));
        Assert.StartsWith("the causal context is malformed", error);
    }

    [Fact]
    public void Every_truncation_and_every_single_byte_change_of_a_context_is_refused()
    {
        VersionVectorTests.GenVector.Sample(v =>
        {
            var text = Signer.Encode(Key, v);
            for (var len = 1; len < text.Length; len++)
                Assert.False(Signer.TryDecode(text[..len], Key, out _, out _), $"prefix '{text[..len]}' of '{text}' decoded");
            Assert.False(Signer.TryDecode(text + "AA", Key, out _, out _));
            var token = FromBase64Url(text);
            for (var i = 0; i < token.Length; i++)
            {
                var altered = (byte[])token.Clone();
                altered[i] ^= 0x01;
                Assert.False(Signer.TryDecode(Base64Url(altered), Key, out _, out _), $"'{text}' with byte {i} changed decoded");
            }
        }, iter: 200, writeLine: output.WriteLine);
    }

    [Fact]
    public void A_forged_context_with_every_counter_raised_is_refused_as_not_issued_by_the_cluster()
    {
        // The attack of issue 13: read a context, raise its counters to the maximum, write with it.
        var issued = VersionVector.Of([KeyValuePair.Create("n1/0.0000000a", 3L), KeyValuePair.Create("n2/1.0000000b", 5L)]);
        var token = FromBase64Url(Signer.Encode(Key, issued));
        var idLength = token[1];
        var raised = VersionVector.Of(issued.Entries.Select(e => KeyValuePair.Create(e.Key, long.MaxValue)));
        var w = new KvWriter();
        w.WriteVector(raised);
        // Same header (format, key id), the raised vector, the old tag: what a client can build without the secret.
        var forged = Base64Url([.. token.AsSpan(0, 2 + idLength), .. w.ToArray(), .. token.AsSpan(token.Length - 16)]);
        Assert.False(Signer.TryDecode(forged, Key, out var vector, out var error));
        Assert.Equal(VersionVector.Empty, vector);
        Assert.Equal("the causal context was not issued by this cluster for this key, or was altered: pass back the context string of a get of the same key unchanged", error);
        // Signed with the public development key instead: refused by a cluster with its own keys.
        Assert.False(Signer.TryDecode(CausalContext.Development.Encode(Key, raised), Key, out _, out error));
        Assert.Contains("signed with key 'dev', which this node does not hold", error);
    }

    [Fact]
    public void A_context_is_bound_to_the_key_it_was_issued_for()
    {
        var text = Signer.Encode(Key, VersionVector.Of([KeyValuePair.Create("n1/0.0000000a", 3L)]));
        Assert.False(Signer.TryDecode(text, Bytes.FromUtf8("user:43"), out _, out var error));
        Assert.Contains("not issued by this cluster for this key", error);
    }

    [Fact]
    public void Rotation_add_the_new_key_second_then_first_then_drop_the_old_one_refuses_no_context_a_client_holds_meanwhile()
    {
        var k1 = new ContextKey("k1", Enumerable.Repeat((byte)1, 32).ToArray());
        var k2 = new ContextKey("k2", Enumerable.Repeat((byte)2, 32).ToArray());
        var v = VersionVector.Of([KeyValuePair.Create("n1/0.0000000a", 7L)]);
        var before = new CausalContext([k1]);
        var added = new CausalContext([k1, k2]);   // step 1, on every node: k2 accepted, k1 still signs
        var promoted = new CausalContext([k2, k1]); // step 2: k2 signs, k1 still accepted
        var dropped = new CausalContext([k2]);     // step 3: k1 gone
        var held = before.Encode(Key, v);
        // During steps 1 and 2, nodes at either step accept what nodes at the other issue.
        foreach (var node in new[] { before, added, promoted })
            Assert.True(node.TryDecode(held, Key, out _, out _));
        Assert.True(added.TryDecode(promoted.Encode(Key, v), Key, out _, out _));
        Assert.True(promoted.TryDecode(added.Encode(Key, v), Key, out _, out _));
        Assert.True(dropped.TryDecode(promoted.Encode(Key, v), Key, out var back, out _));
        Assert.Equal(v, back);
        // After step 3 a context signed with k1 is refused, naming the retired key.
        Assert.False(dropped.TryDecode(held, Key, out _, out var error));
        Assert.Contains("'k1'", error);
        Assert.Equal("k2", promoted.SigningKeyId);
    }

    [Fact]
    public void A_context_over_the_length_limit_is_refused_before_it_is_decoded()
    {
        Assert.False(Signer.TryDecode(new string('A', CausalContext.MaxTextLength + 1), Key, out _, out var error));
        Assert.Contains($"over the limit of {CausalContext.MaxTextLength}", error);
    }

    [Fact]
    public void Keys_need_a_valid_distinct_id_and_a_secret_of_at_least_16_bytes()
    {
        Assert.Throws<ArgumentException>(() => new CausalContext([]));
        Assert.Throws<ArgumentException>(() => new CausalContext([new ContextKey("k1", new byte[15])]));
        Assert.Throws<ArgumentException>(() => new CausalContext([new ContextKey("bad id", new byte[32])]));
        Assert.Throws<ArgumentException>(() => new CausalContext([new ContextKey("k1", new byte[32]), new ContextKey("k1", new byte[32])]));
        Assert.True(CausalContext.Development.IsDevelopment);
        Assert.False(Signer.IsDevelopment);
    }
}

public sealed class ContextKeysFileTests
{
    [Fact]
    public void A_keys_file_lists_id_and_base64_secret_per_line_with_comments_and_the_first_signs()
    {
        var k2 = ContextKeysFile.NewLine("k2");
        var k1 = ContextKeysFile.NewLine("k1");
        var keys = ContextKeysFile.Parse($"# rotated 2026-12-02\n\n{k2}\n  {k1}  \r\n", "keys");
        Assert.Equal(["k2", "k1"], keys.Select(k => k.Id));
        Assert.All(keys, k => Assert.Equal(32, k.Secret.Length));
        Assert.NotEqual(keys[0].Secret, keys[1].Secret);
        Assert.Equal("k2", new CausalContext(keys).SigningKeyId);
    }

    [Fact]
    public void A_secret_of_16_bytes_is_the_shortest_accepted() =>
        Assert.Equal(16, Assert.Single(ContextKeysFile.Parse("k1 AAAAAAAAAAAAAAAAAAAAAA==\n", "keys")).Secret.Length);

    [Theory]
    [InlineData("", "keys holds no context key")]
    [InlineData("# only a comment\n", "keys holds no context key")]
    [InlineData("k1\n", "keys line 1: expected '<id> <secret in base64>'")]
    [InlineData("k1 AAAA extra\n", "keys line 1: expected")]
    [InlineData("k1 not-base64!\n", "keys line 1: the secret of key 'k1' is not base64")]
    [InlineData("k1 AAAAAAAA\n", "keys line 1: the secret of key 'k1' is 6 bytes; at least 16 are needed")]
    [InlineData("b@d AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "keys line 1: the key id must be")]
    [InlineData("k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n#\nk1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "keys line 3: key id 'k1' appears twice")]
    public void A_bad_keys_file_is_refused_naming_the_line(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ContextKeysFile.Parse(text, "keys"));
        Assert.Contains(expected, e.Message);
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
