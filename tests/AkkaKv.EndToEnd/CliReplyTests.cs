using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>The redis-cli output parser the RESP tests rely on, on output captured from redis-cli 7.0.15 --no-raw.</summary>
public sealed class CliReplyTests
{
    [Fact]
    public void Nested_arrays_with_two_digit_indexes_and_every_scalar_kind_parse()
    {
        // A canned server reply: [[a..k, [7, nil, []]], "l\0\xff\"", [[-ERR x, +OK]], ""].
        const string printed = """
            1)  1) "a"
                2) "b"
                3) "c"
                4) "d"
                5) "e"
                6) "f"
                7) "g"
                8) "h"
                9) "i"
               10) "j"
               11) "k"
               12) 1) (integer) 7
                   2) (nil)
                   3) (empty array)
            2) "l\x00\xff\""
            3) 1) 1) (error) ERR x
                  2) OK
            4) ""

            """;
        var expected = new CliArray([
            new CliArray([.. "abcdefghijk".Select(c => (CliReply)new CliBulk(c.ToString())), new CliArray([new CliInteger(7), new CliNil(), new CliArray([])])]),
            new CliBulk("l\0\uFFFD\""),
            new CliArray([new CliArray([new CliError("ERR x"), new CliStatus("OK")])]),
            new CliBulk(""),
        ]);
        Assert.Equal(expected, CliReply.Parse(printed));
    }

    [Fact]
    public void A_kv_get_reply_reads_as_siblings_context_and_replicas()
    {
        const string printed = """
            1) "siblings"
            2) 1) "a"
               2) "b"
            3) "context"
            4) "AQ14MS8wLjI2OTI3N2YyBA"
            5) "replicas"
            6) 1) 1) "n1"
                  2) "current"
               2) 1) "n2"
                  2) "pending"

            """;
        var reply = KvGetReply.From(CliReply.Parse(printed));
        Assert.Equal(["a", "b"], reply.Siblings);
        Assert.Equal("AQ14MS8wLjI2OTI3N2YyBA", reply.Context);
        Assert.Equal([("n1", "current"), ("n2", "pending")], reply.Replicas);
    }

    [Theory]
    [InlineData("OK\n", "OK")]
    [InlineData("\"h\\xc3\\xa9llo \\\"w\\\"\\n\\\\\"\n", "héllo \"w\"\n\\")]
    public void Strings_are_unquoted_and_unescaped(string printed, string text) => Assert.Equal(text, CliReply.Parse(printed).AsText());
}
