using System.Buffers;
using AkkaKv.Resp;
using Xunit;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

public sealed class RespParserTests
{
    /// <summary>MaxBulkBytes 64, MaxArguments 8, MaxInlineBytes 128, MaxCommandBytes 256.</summary>
    private static readonly RespLimits L = ParserLimits;

    private static void AssertCommand(ParseResult result, params string[] expected)
    {
        Assert.True(result.Status == RespParseStatus.Command, $"expected a command, got {result.Status} '{result.Error}'");
        Assert.Equal(expected.Select(Latin1).ToArray(), result.Args);
    }

    private static void AssertIncomplete(ParseResult result, ReadOnlySequence<byte> input)
    {
        Assert.True(result.Status == RespParseStatus.Incomplete, $"expected Incomplete, got {result.Status} '{result.Error}' {Show(result.Args)}");
        Assert.Equal(0, result.Consumed);
        Assert.Equal(input.Start, result.Rest.Start);
        Assert.Empty(result.Args);
    }

    private static void AssertProtocolError(ParseResult result, string expectedStart)
    {
        Assert.True(result.Status == RespParseStatus.ProtocolError, $"expected a protocol error, got {result.Status} {Show(result.Args)}");
        Assert.StartsWith(expectedStart, result.Error);
        Assert.Empty(result.Args);
    }

    // ---- multibulk ------------------------------------------------------------------------------

    [Fact]
    public void A_multibulk_command_parses_to_its_arguments_and_consumes_exactly_its_own_bytes()
    {
        var frame = Command("SET", "key", "value");
        var input = frame.Concat(Latin1("*1\r\n$4\r\nPI")).ToArray();

        var result = ParseOnce(input, L);

        AssertCommand(result, "SET", "key", "value");
        Assert.Equal(frame.Length, result.Consumed);
        Assert.Equal("*1\r\n$4\r\nPI", Latin1(result.Rest.ToArray()));
    }

    [Fact]
    public void An_empty_buffer_is_incomplete()
    {
        AssertIncomplete(ParseOnce(ReadOnlySequence<byte>.Empty, L), ReadOnlySequence<byte>.Empty);
    }

    public static TheoryData<string, string[]> FramesToSplit => new()
    {
        { "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", ["SET", "k", "hello"] },
        { "*2\r\n$4\r\nECHO\r\n$6\r\n\r\n\0\xff\r\n\r\n", ["ECHO", "\r\n\0\xff\r\n"] },
        { "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", ["ECHO", ""] },
        { "*1\r\n$64\r\n" + new string('x', 64) + "\r\n", [new string('x', 64)] },
        { "SET \"a b\" 'c d' \"\\x00\\xffz\"\r\n", ["SET", "a b", "c d", "\0\xffz"] },
        { "PING\n", ["PING"] },
    };

    [Theory]
    [MemberData(nameof(FramesToSplit))]
    public void A_command_split_at_any_byte_parses_exactly_as_when_it_arrives_whole(string frameText, string[] expected)
    {
        var frame = Latin1(frameText);
        AssertCommand(ParseOnce(frame, L), expected);

        for (var cut = 0; cut < frame.Length; cut++)
        {
            // Only the first `cut` bytes have arrived: wait, and take nothing.
            var prefix = Chunked(frame[..cut], []);
            AssertIncomplete(ParseOnce(prefix, L), prefix);

            // Everything has arrived, in two reads cut at `cut`.
            var whole = Chunked(frame, [cut]);
            var result = ParseOnce(whole, L);
            AssertCommand(result, expected);
            Assert.Equal(frame.Length, result.Consumed);
            Assert.True(result.Rest.IsEmpty);
        }

        var bytewise = ParseOnce(OneBytePerSegment(frame), L);
        AssertCommand(bytewise, expected);
        Assert.Equal(frame.Length, bytewise.Consumed);
    }

    [Fact]
    public void Pipelined_commands_in_one_buffer_parse_one_at_a_time_in_order()
    {
        var input = Command("SET", "k", "v")
            .Concat(Command("GET", "k"))
            .Concat(Latin1("PING\r\n*0\r\n\r\nECHO hi\r\n"))
            .Concat(Command("DEL", "k"))
            .Concat(Latin1("*2\r\n$3\r\nGET"))
            .ToArray();

        var (commands, last) = ParseAll(new ReadOnlySequence<byte>(input), L);

        Assert.Equal(
            new[] { "SET k v", "GET k", "PING", "", "", "ECHO hi", "DEL k" },
            commands.Select(c => string.Join(" ", c.Select(a => Latin1(a)))).ToArray());
        Assert.Equal(RespParseStatus.Incomplete, last.Status);
        Assert.Equal("*2\r\n$3\r\nGET", Latin1(last.Rest.ToArray()));
    }

    [Theory]
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData(" \t \r\n")]
    public void An_empty_multibulk_or_a_blank_line_is_a_command_without_arguments_that_the_server_skips(string text)
    {
        var result = ParseOnce(Latin1(text + "PING\r\n"), L);

        Assert.Equal(RespParseStatus.Command, result.Status);
        Assert.Empty(result.Args);
        Assert.Equal(text.Length, result.Consumed);
    }

    [Fact]
    public void Arguments_are_binary_safe_and_come_back_byte_for_byte()
    {
        var every = Enumerable.Range(0, 64).Select(i => (byte)(i * 4 + 3)).ToArray();
        byte[][] args =
        [
            "KV.PUT"u8.ToArray(),
            [0x00, 0xff, 0xfe, 0x00],
            [0xc3, 0x28, 0x80, 0xed, 0xa0, 0x80], // invalid UTF-8: a bad continuation, a lone continuation, a surrogate
            "\r\n$3\r\n*1\r\n"u8.ToArray(),
            [],
            every,
        ];

        var result = ParseOnce(OneBytePerSegment(Command(args)), L);

        Assert.Equal(RespParseStatus.Command, result.Status);
        Assert.Equal(args, result.Args);
    }

    [Fact]
    public void The_exact_limits_are_allowed()
    {
        var eight = Enumerable.Repeat("a", 8).ToArray();
        AssertCommand(ParseOnce(Command(eight), L), eight);
        AssertCommand(ParseOnce(Command(new string('b', 64)), L), new string('b', 64));
        var exactly256 = new[] { new string('c', 64), new string('d', 64), new string('e', 64), new string('f', 64) };
        AssertCommand(ParseOnce(Command(exactly256), L), exactly256);
        var inline = new string('g', 126) + "\r\n"; // 127 bytes before the LF, 128 with it
        AssertCommand(ParseOnce(Latin1(inline), L), new string('g', 126));
        AssertCommand(ParseOnce(Latin1(new string('h', 128) + "\n"), L), new string('h', 128));
    }

    // ---- protocol errors ------------------------------------------------------------------------

    [Theory]
    [InlineData("*1\r\n:5\r\n", "Protocol error: expected '$', got ':'")]
    [InlineData("*2\r\n$1\r\na\r\n+OK\r\n", "Protocol error: expected '$', got '+'")]
    [InlineData("*1\r\n\0", "Protocol error: expected '$', got '\\x00'")]
    [InlineData("*1\r\n*1\r\n$1\r\na\r\n", "Protocol error: expected '$', got '*'")]
    public void A_multibulk_item_that_is_not_a_bulk_string_is_a_protocol_error(string text, string error)
    {
        var result = ParseOnce(Latin1(text), L);
        AssertProtocolError(result, error);
        Assert.Equal(error, result.Error);
    }

    [Theory]
    [InlineData("*1\r\n$-1\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$-5\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$65\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$2147483648\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$9223372036854775807\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*9\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*2147483648\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*9223372036854775807\r\n", "Protocol error: invalid multibulk length")]
    public void A_length_prefix_beyond_the_limits_is_refused_from_the_header_alone(string header, string error)
    {
        // Only the header is in the buffer: the parser must refuse it now rather than wait for
        // (and buffer) data the limits forbid.
        AssertProtocolError(ParseOnce(Latin1(header), L), error);
        AssertProtocolError(ParseOnce(OneBytePerSegment(Latin1(header)), L), error);
    }

    [Fact]
    public void Arguments_summing_over_the_command_limit_are_refused_at_the_header_that_crosses_it()
    {
        // Four 60-byte arguments (240 bytes) are within MaxCommandBytes 256; the fifth header
        // announces 60 more. Its data has not arrived.
        var header = "*5\r\n" + string.Concat(Enumerable.Repeat("$60\r\n" + new string('v', 60) + "\r\n", 4)) + "$60\r\n";

        var result = ParseOnce(Latin1(header), L);

        AssertProtocolError(result, "Protocol error: command too large");
        Assert.Contains("256", result.Error);
    }

    [Theory]
    [InlineData("*x\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1 \r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*0x1\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*99999999999999999999\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$3x\r\nabc\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$ 3\r\nabc\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\n$3\r\nabc\r\n", "Protocol error: invalid multibulk length")]
    public void A_length_that_is_not_a_number_is_a_protocol_error(string text, string error)
    {
        AssertProtocolError(ParseOnce(Latin1(text), L), error);
    }

    [Theory]
    [InlineData("*1\r\n$3\r\nabcXY")]
    [InlineData("*1\r\n$3\r\nabc\rX")]
    [InlineData("*1\r\n$3\r\nabc\n\r")]
    [InlineData("*2\r\n$1\r\na\r\n$1\r\nbc\r\n")]
    public void A_bulk_string_not_followed_by_CRLF_is_a_protocol_error(string text)
    {
        AssertProtocolError(ParseOnce(Latin1(text), L), "Protocol error: bulk string not terminated by CRLF");
    }

    [Fact]
    public void A_bulk_string_whose_CRLF_has_not_arrived_is_incomplete()
    {
        var input = new ReadOnlySequence<byte>(Latin1("*1\r\n$3\r\nabc\r"));
        AssertIncomplete(ParseOnce(input, L), input);
    }

    [Fact]
    public void A_count_or_length_line_without_CRLF_is_refused_once_it_is_longer_than_any_number()
    {
        var count = new ReadOnlySequence<byte>(Latin1("*" + new string('1', 24)));
        AssertIncomplete(ParseOnce(count, L), count);
        AssertProtocolError(ParseOnce(Latin1("*" + new string('1', 26)), L), "Protocol error: too big mbulk count string");
        AssertProtocolError(ParseOnce(Latin1("*" + new string('1', 4000)), L), "Protocol error: too big mbulk count string");

        var length = new ReadOnlySequence<byte>(Latin1("*1\r\n$" + new string('2', 24)));
        AssertIncomplete(ParseOnce(length, L), length);
        AssertProtocolError(ParseOnce(Latin1("*1\r\n$" + new string('2', 26)), L), "Protocol error: too big bulk count string");

        // With a CRLF, but longer than any number.
        AssertProtocolError(ParseOnce(Latin1("*" + new string('0', 30) + "1\r\n"), L), "Protocol error: too big mbulk count string");
    }

    [Theory]
    [InlineData("*000000000000000000000001\r\n$1\r\na\r\n", 26, "a")]
    [InlineData("*1\r\n$000000000000000000000003\r\nabc\r\n", 30, "abc")]
    public void A_length_line_of_the_longest_accepted_size_waits_for_its_LF_instead_of_failing(string frameText, int upToItsCr, string arg)
    {
        // A count or length line may be up to 24 bytes (the parser accepts
        // "000000000000000000000003" as 3). When such a line has arrived up to its CR and the LF
        // is still in flight, the parser must wait, as for any other split: the same bytes parse
        // once the LF is there.
        var frame = Latin1(frameText);
        AssertCommand(ParseOnce(frame, L), arg);
        Assert.Equal((byte)'\r', frame[upToItsCr - 1]);

        var prefix = new ReadOnlySequence<byte>(frame[..upToItsCr]);
        AssertIncomplete(ParseOnce(prefix, L), prefix);
    }

    [Fact]
    public void An_inline_line_without_a_newline_is_refused_once_longer_than_the_inline_limit()
    {
        var atLimit = new ReadOnlySequence<byte>(Latin1(new string('a', 128)));
        AssertIncomplete(ParseOnce(atLimit, L), atLimit);
        AssertProtocolError(ParseOnce(Latin1(new string('a', 129)), L), "Protocol error: too big inline request");
        AssertProtocolError(ParseOnce(OneBytePerSegment(Latin1(new string('a', 129))), L), "Protocol error: too big inline request");
        AssertProtocolError(ParseOnce(Latin1(new string('a', 129) + "\r\n"), L), "Protocol error: too big inline request");
    }

    // ---- inline ---------------------------------------------------------------------------------

    public static TheoryData<string, string[]> InlineCommands => new()
    {
        { "PING\r\n", ["PING"] },
        { "PING\n", ["PING"] },
        { "  SET   k \t v  \r\n", ["SET", "k", "v"] },
        { "SET \"a b\" 'c d'\r\n", ["SET", "a b", "c d"] },
        { "ECHO \"\\x00\\xff\\x41\\x7a\"\r\n", ["ECHO", "\0\xff" + "Az"] },
        { "ECHO \"\\xZZ\"\r\n", ["ECHO", "xZZ"] },
        { "ECHO \"a\\\"b\\n\"\r\n", ["ECHO", "a\"b\n"] },
        { "ECHO \"\\t\\r\\b\\a\\\\\"\r\n", ["ECHO", "\t\r\b\a\\"] },
        { "ECHO 'it\\'s'\r\n", ["ECHO", "it's"] },
        { "ECHO 'a\\nb'\r\n", ["ECHO", "a\\nb"] },
        { "ECHO \"\" ''\r\n", ["ECHO", "", ""] },
        { "ECHO a\"b c\" d\r\n", ["ECHO", "ab c", "d"] },
        { "ECHO \"x y\"\r\n", ["ECHO", "x y"] },
        { "a b c d e f g h\r\n", ["a", "b", "c", "d", "e", "f", "g", "h"] },
    };

    [Theory]
    [MemberData(nameof(InlineCommands))]
    public void An_inline_command_splits_like_redis_cli(string line, string[] expected)
    {
        var result = ParseOnce(Latin1(line), L);

        AssertCommand(result, expected);
        Assert.Equal(line.Length, result.Consumed);
    }

    [Theory]
    [InlineData("ECHO \"unclosed\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("ECHO 'unclosed\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("ECHO \"a\"b\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("ECHO 'a'b\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("ECHO \"ends in a backslash\\\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("a b c d e f g h i\r\n", "Protocol error: too many arguments (the limit is 8)")]
    public void A_malformed_inline_command_is_a_protocol_error(string line, string error)
    {
        var result = ParseOnce(Latin1(line), L);
        AssertProtocolError(result, error);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void InlineArguments_splits_a_line_without_its_terminator()
    {
        Assert.True(InlineArguments.TrySplit("GET \"a\\x20b\""u8, 8, out var args, out var error), error);
        Assert.Equal(new[] { "GET", "a b" }, args.Select(a => a.ToUtf8()).ToArray());
        Assert.True(InlineArguments.TrySplit(""u8, 8, out args, out _));
        Assert.Empty(args);
    }

    [Fact]
    public void A_buffer_whose_first_segment_is_empty_parses_like_any_other()
    {
        // ReadOnlySequence allows empty segments anywhere, including first.
        var frame = Command("PING");
        var result = ParseOnce(Chunked(frame, [0, 0, 3, 3, frame.Length], keepEmpty: true), L);

        AssertCommand(result, "PING");
        Assert.Equal(frame.Length, result.Consumed);
    }
}
