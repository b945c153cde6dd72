using System.Buffers;
using AkkaKv.Resp;
using CsCheck;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

public sealed class RespWriterTests(ITestOutputHelper output)
{
    private static string Wire(RespValue value, int protocol) => Latin1(RespWriter.ToBytes(value, protocol));

    private static void AssertWire(RespValue value, string resp2, string resp3)
    {
        Assert.Equal(resp2, Wire(value, 2));
        Assert.Equal(resp3, Wire(value, 3));
    }

    [Fact]
    public void Simple_strings_errors_and_integers_encode_the_same_in_both_protocols()
    {
        AssertWire(RespValue.Ok, "+OK\r\n", "+OK\r\n");
        AssertWire(new RespSimple("PONG"), "+PONG\r\n", "+PONG\r\n");
        AssertWire(new RespSimple(""), "+\r\n", "+\r\n");
        AssertWire(RespValue.Error("ERR unknown command"), "-ERR unknown command\r\n", "-ERR unknown command\r\n");
        AssertWire(RespValue.Integer(0), ":0\r\n", ":0\r\n");
        AssertWire(RespValue.Integer(-42), ":-42\r\n", ":-42\r\n");
        AssertWire(RespValue.Integer(long.MaxValue), ":9223372036854775807\r\n", ":9223372036854775807\r\n");
        AssertWire(RespValue.Integer(long.MinValue), ":-9223372036854775808\r\n", ":-9223372036854775808\r\n");
    }

    [Fact]
    public void Error_and_status_text_is_UTF8()
    {
        Assert.Equal("-ERR caf\xc3\xa9 \xe2\x82\xac\r\n", Wire(RespValue.Error("ERR café €"), 2));
    }

    [Fact]
    public void CR_and_LF_in_one_line_replies_become_spaces_so_the_frame_cannot_end_early()
    {
        AssertWire(RespValue.Error("ERR a\r\nb\nc\rd"), "-ERR a  b c d\r\n", "-ERR a  b c d\r\n");
        AssertWire(new RespSimple("x\r\n+OK"), "+x  +OK\r\n", "+x  +OK\r\n");
    }

    [Fact]
    public void Bulk_strings_are_length_prefixed_and_binary_safe()
    {
        AssertWire(RespValue.Bulk("hello"), "$5\r\nhello\r\n", "$5\r\nhello\r\n");
        AssertWire(RespValue.Bulk(""), "$0\r\n\r\n", "$0\r\n\r\n");
        var binary = Bytes.From([0x00, (byte)'\r', (byte)'\n', 0xff, 0xc3, 0x28]);
        AssertWire(RespValue.Bulk(binary), "$6\r\n\0\r\n\xff\xc3(\r\n", "$6\r\n\0\r\n\xff\xc3(\r\n");
    }

    [Fact]
    public void A_large_bulk_string_is_written_whole()
    {
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        var bytes = RespWriter.ToBytes(RespValue.Bulk(Bytes.From(data)));

        Assert.Equal("$300000\r\n", Latin1(bytes.AsSpan(0, 9)));
        Assert.Equal(data, bytes[9..^2]);
        Assert.Equal("\r\n", Latin1(bytes.AsSpan(bytes.Length - 2)));
    }

    [Fact]
    public void Null_is_a_null_bulk_string_in_RESP2_and_underscore_in_RESP3()
    {
        AssertWire(RespValue.Null, "$-1\r\n", "_\r\n");
        AssertWire(RespValue.Bulk((Bytes?)null), "$-1\r\n", "_\r\n");
    }

    [Fact]
    public void Arrays_nest_and_carry_the_protocol_down_to_their_items()
    {
        var value = RespValue.Array(
            RespValue.Integer(1),
            RespValue.Array(RespValue.Bulk("a"), RespValue.Null),
            RespValue.Array(),
            RespValue.Ok);

        AssertWire(value,
            "*4\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n*0\r\n+OK\r\n",
            "*4\r\n:1\r\n*2\r\n$1\r\na\r\n_\r\n*0\r\n+OK\r\n");
    }

    [Fact]
    public void A_map_is_a_flat_array_of_fields_and_values_in_RESP2_and_a_map_in_RESP3()
    {
        var map = new RespMap([
            KeyValuePair.Create("siblings", RespValue.Array(RespValue.Bulk("v"))),
            KeyValuePair.Create("proto", RespValue.Integer(3)),
            KeyValuePair.Create("missing", RespValue.Null),
        ]);

        AssertWire(map,
            "*6\r\n$8\r\nsiblings\r\n*1\r\n$1\r\nv\r\n$5\r\nproto\r\n:3\r\n$7\r\nmissing\r\n$-1\r\n",
            "%3\r\n$8\r\nsiblings\r\n*1\r\n$1\r\nv\r\n$5\r\nproto\r\n:3\r\n$7\r\nmissing\r\n_\r\n");
        AssertWire(new RespMap([]), "*0\r\n", "%0\r\n");
    }

    [Fact]
    public void Writing_appends_to_what_the_buffer_already_holds()
    {
        var buffer = new ArrayBufferWriter<byte>();
        RespWriter.Write(buffer, RespValue.Ok, 2);
        RespWriter.Write(buffer, RespValue.Null, 3);
        RespWriter.Write(buffer, RespValue.Integer(7), 2);

        Assert.Equal("+OK\r\n_\r\n:7\r\n", Latin1(buffer.WrittenSpan));
    }

    /// <summary>Random reply trees: leaves of every kind, arrays and maps up to depth 3.</summary>
    private static readonly Gen<RespValue> GenValue = GenTree(3);

    private static Gen<RespValue> GenTree(int depth)
    {
        var leaf = Gen.OneOf(
            Gen.String[Gen.Char.AlphaNumeric, 0, 12].Select(s => (RespValue)new RespSimple(s)),
            Gen.String[Gen.Char.AlphaNumeric, 0, 12].Select(s => RespValue.Error("ERR " + s)),
            Gen.Long.Select(RespValue.Integer),
            Gen.Byte.Array[0, 40].Select(b => RespValue.Bulk(Bytes.From(b))),
            Gen.Const(RespValue.Null));
        if (depth == 0) return leaf;
        var inner = GenTree(depth - 1);
        return Gen.Frequency(
            (4, leaf),
            (1, inner.Array[0, 4].Select(RespValue.Array)),
            (1, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 8], inner).Array[0, 3]
                .Select(fields => (RespValue)new RespMap(fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)).ToArray()))));
    }

    [Fact]
    public void Any_reply_reads_back_as_the_same_value_in_both_protocols()
    {
        Gen.Select(GenValue, Gen.Int[2, 3]).Sample((value, protocol) =>
        {
            var bytes = RespWriter.ToBytes(value, protocol);
            var replies = RespReplyReader.ReadAll(bytes);
            Assert.Single(replies);
            AssertSame(value, replies[0], protocol);
        }, iter: 2000, print: t => $"protocol {t.Item2}: {Latin1(RespWriter.ToBytes(t.Item1, t.Item2))}", writeLine: output.WriteLine);
    }

    private static void AssertSame(RespValue expected, RespReply actual, int protocol)
    {
        switch (expected)
        {
            case RespSimple s: Assert.Equal('+', actual.Type); Assert.Equal(s.Text, actual.Text); break;
            case RespError e: Assert.Equal('-', actual.Type); Assert.Equal(e.Message, actual.Text); break;
            case RespInteger i: Assert.Equal(':', actual.Type); Assert.Equal(i.Value, actual.Integer); break;
            case RespBulk b: Assert.Equal('$', actual.Type); Assert.Equal(b.Value.ToArray(), actual.Bulk); break;
            case RespNull: Assert.Equal(protocol == 3 ? '_' : '$', actual.Type); Assert.True(actual.IsNull); break;
            case RespArray a:
                Assert.Equal('*', actual.Type);
                Assert.Equal(a.Items.Count, actual.Items!.Count);
                for (var k = 0; k < a.Items.Count; k++) AssertSame(a.Items[k], actual.Items[k], protocol);
                break;
            case RespMap m:
                Assert.Equal(protocol == 3 ? '%' : '*', actual.Type);
                Assert.Equal(2 * m.Fields.Count, actual.Items!.Count);
                for (var k = 0; k < m.Fields.Count; k++)
                {
                    Assert.Equal(m.Fields[k].Key, actual.Items[2 * k].BulkText);
                    AssertSame(m.Fields[k].Value, actual.Items[2 * k + 1], protocol);
                }
                break;
            default: throw new ArgumentException(expected.GetType().Name);
        }
    }
}
