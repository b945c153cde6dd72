using System.Buffers;
using System.Text;
using AkkaKv.Resp;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Resp;

/// <summary>A connection's command reader resumes a command across reads: the work is linear in the bytes received, however they are cut.</summary>
public sealed class RespCommandReaderTests(ITestOutputHelper output)
{
    private static readonly RespLimits Limits = new(MaxBulkBytes: 1 << 20, MaxArguments: 1 << 20, MaxInlineBytes: 64 * 1024, MaxCommandBytes: 64L << 20);

    /// <summary>Delivers <paramref name="command"/> <paramref name="chunk"/> bytes per read, as a PipeReader does (bytes not consumed stay at the front).</summary>
    private static (Bytes[] Args, long Examined, int Reads) Deliver(RespCommandReader reader, byte[] command, int chunk)
    {
        var reads = 0;
        for (var received = Math.Min(chunk, command.Length); ; received = Math.Min(received + chunk, command.Length))
        {
            reads++;
            var buffer = new ReadOnlySequence<byte>(command, 0, received);
            var status = reader.TryParse(ref buffer, out var args, out var error);
            Assert.NotEqual(RespParseStatus.ProtocolError, status);
            if (status == RespParseStatus.Command)
            {
                Assert.Equal(command.Length, received);
                Assert.Equal(0, buffer.Length);
                return (args, reader.BytesExamined, reads);
            }
            Assert.True(received < command.Length, $"incomplete after all {command.Length} bytes: {error}");
        }
    }

    private static byte[] MultiBulk(int arguments, int size)
    {
        var text = new StringBuilder($"*{arguments}\r\n");
        for (var i = 0; i < arguments; i++) text.Append($"${size}\r\n").Append((char)('a' + i % 26), size).Append("\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Theory]
    [InlineData(2_000, 8, 7)]      // many small arguments, trickled in 7-byte reads
    [InlineData(4, 200_000, 1024)] // a few large ones in 1 KiB reads
    public void A_command_cut_into_many_reads_is_examined_about_once_and_parses_as_if_whole(int arguments, int size, int chunk)
    {
        var command = MultiBulk(arguments, size);
        var whole = Deliver(new RespCommandReader(Limits), command, command.Length);
        var cut = Deliver(new RespCommandReader(Limits), command, chunk);
        Assert.Equal(whole.Args.Select(a => a.ToUtf8()), cut.Args.Select(a => a.ToUtf8()));
        Assert.Equal(arguments, cut.Args.Length);

        // Each read re-examines at most the start of one argument ("$" and its length line).
        Assert.Equal(command.Length, whole.Examined);
        Assert.InRange(cut.Examined, command.Length, command.Length + cut.Reads * 30L);

        // A parser without state (what a connection used before) starts over at every read.
        long restarted = 0;
        for (var received = chunk; received < command.Length; received += chunk)
        {
            var prefix = new ReadOnlySequence<byte>(command, 0, received);
            var fresh = new RespCommandReader(Limits);
            Assert.Equal(RespParseStatus.Incomplete, fresh.TryParse(ref prefix, out _, out _));
            restarted += fresh.BytesExamined;
        }
        output.WriteLine($"{command.Length} bytes in {cut.Reads} reads of {chunk}: {cut.Examined} bytes examined resuming, {restarted} starting over at every read");
        Assert.True(restarted > 10 * cut.Examined);
    }

    [Fact]
    public void An_inline_command_trickled_a_byte_at_a_time_is_searched_once()
    {
        var line = Encoding.ASCII.GetBytes("SET " + new string('k', 30_000) + " v\r\n");
        var cut = Deliver(new RespCommandReader(Limits), line, 1);
        Assert.Equal(["SET", new string('k', 30_000), "v"], cut.Args.Select(a => a.ToUtf8()));
        Assert.InRange(cut.Examined, line.Length - 1, line.Length);
    }

    [Fact]
    public void After_a_command_the_reader_starts_the_next_one_fresh()
    {
        var reader = new RespCommandReader(Limits);
        var first = MultiBulk(3, 5);
        var second = Encoding.ASCII.GetBytes("PING\r\n");
        Assert.Equal(3, Deliver(reader, first, 4).Args.Length);
        Assert.Equal(["PING"], Deliver(reader, second, 2).Args.Select(a => a.ToUtf8()));
        Assert.Equal(3, Deliver(reader, first, first.Length).Args.Length);
    }
}
