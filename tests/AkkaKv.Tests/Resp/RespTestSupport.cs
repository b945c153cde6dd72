using System.Buffers;
using System.Text;
using AkkaKv.Configuration;
using AkkaKv.Resp;
using AkkaKv.Tests.Core;

namespace AkkaKv.Tests.Resp;

/// <summary>Frames, buffers and settings shared by the RESP tests.</summary>
internal static class RespTestSupport
{
    /// <summary>
    /// Small limits, so the tests can cross every one of them cheaply. They satisfy
    /// <see cref="KvSettings.Validate"/>: max-bulk-bytes is above both key and value limits.
    /// </summary>
    public const string SmallLimitsHocon = """
        akka-kv.resp.max-connections = 4
        akka-kv.limits.max-key-bytes = 16
        akka-kv.limits.max-value-bytes = 64
        akka-kv.resp.max-bulk-bytes = 256
        akka-kv.resp.max-arguments = 16
        akka-kv.resp.max-inline-bytes = 128
        akka-kv.resp.max-command-bytes = 1024
        akka-kv.resp.max-pipelined = 8
        """;

    public static KvSettings SmallLimitsSettings(string? extraHocon = null) =>
        KvSettings.FromConfig(CoreTestSupport.DefaultNodeConfig(SmallLimitsHocon + "\n" + (extraHocon ?? "")));

    /// <summary>Parser limits for the pure parser tests: small enough to cross, big enough for real commands.</summary>
    public static readonly RespLimits ParserLimits = new(MaxBulkBytes: 64, MaxArguments: 8, MaxInlineBytes: 128, MaxCommandBytes: 256);

    /// <summary>Text to bytes one char per byte, so "\xff" in a test string is the byte 0xff.</summary>
    public static byte[] Latin1(string text) => Encoding.Latin1.GetBytes(text);

    public static string Latin1(ReadOnlySpan<byte> data) => Encoding.Latin1.GetString(data);

    /// <summary>A client command as a multibulk array of bulk strings.</summary>
    public static byte[] Command(params string[] args) => Command(args.Select(Latin1).ToArray());

    public static byte[] Command(params byte[][] args)
    {
        var frame = new List<byte>();
        frame.AddRange(Latin1($"*{args.Length}\r\n"));
        foreach (var arg in args)
        {
            frame.AddRange(Latin1($"${arg.Length}\r\n"));
            frame.AddRange(arg);
            frame.AddRange("\r\n"u8.ToArray());
        }
        return frame.ToArray();
    }

    /// <summary>
    /// <paramref name="data"/> as a sequence of separately allocated segments cut at
    /// <paramref name="cuts"/> (positions in (0, length), any order): what a pipe holds after
    /// several socket reads. With <paramref name="keepEmpty"/>, cuts at 0 or the end and repeated
    /// cuts give empty segments, which a <see cref="ReadOnlySequence{T}"/> may legally contain.
    /// </summary>
    public static ReadOnlySequence<byte> Chunked(byte[] data, IEnumerable<int> cuts, bool keepEmpty = false)
    {
        var bounds = keepEmpty
            ? cuts.Where(c => c >= 0 && c <= data.Length).Order().ToList()
            : cuts.Where(c => c > 0 && c < data.Length).Order().Distinct().ToList();
        bounds.Insert(0, 0);
        bounds.Add(data.Length);
        Segment? first = null, last = null;
        for (var i = 0; i + 1 < bounds.Count; i++)
        {
            var chunk = data[bounds[i]..bounds[i + 1]];
            last = new Segment(chunk, last);
            first ??= last;
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    /// <summary>Every byte in its own segment.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] data) => Chunked(data, Enumerable.Range(1, Math.Max(0, data.Length - 1)));

    /// <summary>
    /// One call of the parser, reporting how many bytes it consumed and checking it consumed a
    /// prefix. <paramref name="reader"/>: a connection's reader, carrying its place in a command
    /// across calls; null: a fresh one.
    /// </summary>
    public static ParseResult ParseOnce(ReadOnlySequence<byte> input, RespLimits limits, RespCommandReader? reader = null)
    {
        var buffer = input;
        var status = (reader ?? new RespCommandReader(limits)).TryParse(ref buffer, out var args, out var error);
        var consumed = input.Length - buffer.Length;
        if (!buffer.End.Equals(input.End))
            throw new InvalidOperationException("the parser moved the end of the buffer");
        return new ParseResult(status, args.Select(a => a.ToArray()).ToArray(), error, consumed, buffer);
    }

    public static ParseResult ParseOnce(byte[] input, RespLimits limits) => ParseOnce(new ReadOnlySequence<byte>(input), limits);

    /// <summary>Parses commands until the parser needs more bytes or reports an error, as a connection's read loop does.</summary>
    public static (List<byte[][]> Commands, ParseResult Last) ParseAll(ReadOnlySequence<byte> input, RespLimits limits)
    {
        var commands = new List<byte[][]>();
        var buffer = input;
        while (true)
        {
            var result = ParseOnce(buffer, limits);
            if (result.Status != RespParseStatus.Command) return (commands, result);
            if (result.Consumed == 0) throw new InvalidOperationException("a parsed command consumed no bytes: the read loop would spin");
            commands.Add(result.Args);
            buffer = result.Rest;
        }
    }

    public static string Show(byte[][] args) => "[" + string.Join(", ", args.Select(a => Convert.ToHexString(a))) + "]";

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, Segment? previous)
        {
            Memory = data;
            if (previous is null) return;
            RunningIndex = previous.RunningIndex + previous.Memory.Length;
            previous.Next = this;
        }
    }
}

internal sealed record ParseResult(RespParseStatus Status, byte[][] Args, string Error, long Consumed, ReadOnlySequence<byte> Rest);
