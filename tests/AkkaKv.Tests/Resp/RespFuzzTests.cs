using System.Globalization;
using System.Text;
using AkkaKv.Resp;
using CsCheck;
using Xunit;
using Xunit.Abstractions;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// Bounded randomized tests of <see cref="RespCommandReader"/>: what a hostile or broken client can
/// send must never make it throw, hold bytes it did not parse, or invent bytes, and valid commands
/// must come back exactly however the network cuts them. The seed is printed; set
/// <c>AKKAKV_FUZZ_SEED</c> to replay a run.
/// </summary>
public sealed class RespFuzzTests(ITestOutputHelper output)
{
    private const int Frames = 20_000;
    private const string SeedVariable = "AKKAKV_FUZZ_SEED";

    /// <summary>MaxBulkBytes 64, MaxArguments 8, MaxInlineBytes 128, MaxCommandBytes 256: small, so mutations cross them.</summary>
    private static readonly RespLimits L = ParserLimits;

    private static readonly byte[] RespAlphabet = Latin1("*$:+-_%\r\n\r\n0123456789 \t\"'\\xaZ\0\xff");

    private static readonly string[] OddLengths =
    [
        "9223372036854775807", "-9223372036854775808", "99999999999999999999", "2147483648", "4294967297",
        "-1", "-2", "0", "65", "9", "257", "", "abc", "1 ", " 1", "+1", "1\r", "12345678901234567890123456789",
    ];

    private int Seed()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(SeedVariable);
        var seed = int.TryParse(fromEnvironment, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay with {SeedVariable}={seed})");
        return seed;
    }

    [Fact]
    public void Random_and_mutated_frames_in_random_chunks_never_break_the_parser()
    {
        var seed = Seed();
        var random = new Random(seed);
        var counts = new int[Enum.GetValues<RespParseStatus>().Length];
        for (var frame = 0; frame < Frames; frame++)
        {
            var (input, expected) = NextInput(random);
            var cuts = RandomCuts(random, input.Length);
            try
            {
                var whole = Stream(input, [], expected);
                var chunked = Stream(input, cuts, expected);
                // Cutting the bytes differently never changes what they mean.
                Assert.Equal(whole.Commands.Select(Show), chunked.Commands.Select(Show));
                Assert.Equal(whole.End, chunked.End);
                counts[(int)whole.End]++;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(
                    $"seed {seed} ({SeedVariable}={seed}), frame {frame}: input {Convert.ToHexString(input)} '{Latin1(input)}' cut at [{string.Join(",", cuts)}]: {e.Message}", e);
            }
        }
        output.WriteLine($"{Frames} inputs: ended waiting {counts[(int)RespParseStatus.Incomplete]}, ended in a protocol error {counts[(int)RespParseStatus.ProtocolError]}");
        // A fuzzer that never reaches both outcomes tests little.
        Assert.True(counts[(int)RespParseStatus.ProtocolError] > Frames / 20, "too few inputs reached a protocol error");
        Assert.True(counts[(int)RespParseStatus.Incomplete] > Frames / 20, "too few inputs parsed cleanly or waited");
    }

    /// <summary>
    /// Feeds <paramref name="input"/> as a connection would receive it, in reads cut at
    /// <paramref name="cuts"/>, calling the parser after every read until it waits or fails, and
    /// checks every call. With <paramref name="expected"/> (an unmutated input) the commands must be exactly those.
    /// </summary>
    private static (List<byte[][]> Commands, RespParseStatus End) Stream(byte[] input, int[] cuts, byte[][][]? expected)
    {
        var reads = cuts.Where(c => c > 0 && c < input.Length).Append(input.Length).Distinct().Order().ToArray();
        var commands = new List<byte[][]>();
        // One reader for the stream, as a connection has: it resumes a command across reads.
        var reader = new RespCommandReader(L);
        long consumed = 0, argBytes = 0;
        var end = RespParseStatus.Incomplete;
        foreach (var received in reads)
        {
            while (end == RespParseStatus.Incomplete)
            {
                var pending = input[(int)consumed..received];
                var sequence = Chunked(pending, cuts.Select(c => c - (int)consumed));
                var result = ParseOnce(sequence, L, reader);
                Assert.True(Enum.IsDefined(result.Status), $"undefined status {(int)result.Status}");
                if (result.Status == RespParseStatus.Incomplete)
                {
                    Assert.Equal(0, result.Consumed);
                    Assert.Equal(sequence.Start, result.Rest.Start);
                    Assert.Empty(result.Args);
                    break;
                }
                if (result.Status == RespParseStatus.ProtocolError)
                {
                    Assert.StartsWith("Protocol error: ", result.Error);
                    Assert.Empty(result.Args);
                    end = RespParseStatus.ProtocolError;
                    break;
                }
                // A command always makes progress (the read loop would spin otherwise) and never
                // yields more argument bytes than it took from the buffer.
                Assert.True(result.Consumed > 0, "a command consumed nothing");
                var bytes = result.Args.Sum(a => (long)a.Length);
                Assert.True(bytes <= result.Consumed, $"{bytes} bytes of arguments from {result.Consumed} bytes of input");
                Assert.True(result.Args.Length <= L.MaxArguments, $"{result.Args.Length} arguments");
                Assert.All(result.Args, a => Assert.True(a.Length <= Math.Max(L.MaxBulkBytes, L.MaxInlineBytes)));
                Assert.True(bytes <= Math.Max(L.MaxCommandBytes, L.MaxInlineBytes));
                argBytes += bytes;
                consumed += result.Consumed;
                if (result.Args.Length > 0) commands.Add(result.Args);
            }
        }
        Assert.True(argBytes <= input.Length);
        if (expected is not null)
        {
            Assert.Equal(RespParseStatus.Incomplete, end);
            Assert.Equal(input.Length, consumed);
            Assert.Equal(expected.Select(Show), commands.Select(Show));
        }
        return (commands, end);
    }

    private static int[] RandomCuts(Random random, int length) => random.Next(4) switch
    {
        0 => [],
        1 => Enumerable.Range(1, Math.Max(0, length - 1)).ToArray(), // one byte per read
        _ => Enumerable.Range(0, random.Next(1, 8)).Select(_ => random.Next(0, length + 1)).ToArray(),
    };

    /// <summary>An input and, if it is made of valid commands only, the commands it holds.</summary>
    private static (byte[] Input, byte[][][]? Expected) NextInput(Random random)
    {
        switch (random.Next(10))
        {
            case < 3:
            {
                var commands = Enumerable.Range(0, random.Next(1, 4)).Select(_ => ValidCommand(random)).ToArray();
                return (commands.SelectMany(c => c.Frame).ToArray(), commands.Where(c => c.Args.Length > 0).Select(c => c.Args).ToArray());
            }
            case < 5:
                return (RandomBytes(random, random.Next(0, 200)), null);
            default:
            {
                var frame = ValidCommand(random).Frame;
                for (var m = random.Next(1, 4); m > 0; m--) frame = Mutate(random, frame);
                return (frame, null);
            }
        }
    }

    private static (byte[] Frame, byte[][] Args) ValidCommand(Random random)
    {
        if (random.Next(4) == 0) return ValidInline(random);
        var args = new byte[random.Next(0, L.MaxArguments + 1)][];
        for (var i = 0; i < args.Length; i++)
            args[i] = RandomBytes(random, random.Next(8) == 0 ? random.Next(0, 31) : random.Next(0, 6));
        return (Command(args), args);
    }

    /// <summary>An inline command: plain words and double-quoted arguments of any bytes written as \xHH.</summary>
    private static (byte[] Frame, byte[][] Args) ValidInline(Random random)
    {
        var args = new byte[random.Next(1, 5)][];
        var line = new StringBuilder();
        for (var i = 0; i < args.Length; i++)
        {
            if (i > 0) line.Append(random.Next(2) == 0 ? " " : " \t ");
            if (random.Next(2) == 0)
            {
                var word = new string(Enumerable.Range(0, random.Next(1, 9)).Select(_ => (char)('a' + random.Next(26))).ToArray());
                args[i] = Latin1(word);
                line.Append(word);
            }
            else
            {
                args[i] = RandomBytes(random, random.Next(0, 7));
                line.Append('"').Append(string.Concat(args[i].Select(b => $"\\x{b:x2}"))).Append('"');
            }
        }
        line.Append(random.Next(3) == 0 ? "\n" : "\r\n");
        return (Latin1(line.ToString()), args);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
            bytes[i] = random.Next(3) == 0 ? (byte)random.Next(256) : RespAlphabet[random.Next(RespAlphabet.Length)];
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] frame)
    {
        var list = frame.ToList();
        var at = random.Next(list.Count + 1);
        switch (random.Next(7))
        {
            case 0 when list.Count > 0:
                list[Math.Min(at, list.Count - 1)] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                list.Insert(at, random.Next(2) == 0 ? RespAlphabet[random.Next(RespAlphabet.Length)] : (byte)random.Next(256));
                break;
            case 2 when list.Count > 0:
                list.RemoveAt(Math.Min(at, list.Count - 1));
                break;
            case 3:
                list.RemoveRange(at, list.Count - at);
                break;
            case 4:
            {
                // Replace the digits after some '*' or '$' with an odd or huge length.
                var prefixes = Enumerable.Range(0, list.Count).Where(i => list[i] is (byte)'*' or (byte)'$').ToArray();
                if (prefixes.Length == 0) goto case 1;
                var start = prefixes[random.Next(prefixes.Length)] + 1;
                var end = start;
                while (end < list.Count && list[end] is >= (byte)'0' and <= (byte)'9' or (byte)'-') end++;
                list.RemoveRange(start, end - start);
                list.InsertRange(start, Latin1(OddLengths[random.Next(OddLengths.Length)]));
                break;
            }
            case 5 when list.Count > 0:
            {
                var from = random.Next(list.Count);
                var slice = list.GetRange(from, random.Next(0, list.Count - from + 1));
                list.InsertRange(at, slice);
                break;
            }
            default:
                list.InsertRange(at, Latin1(random.Next(2) == 0 ? "\r\n" : "*1\r\n"));
                break;
        }
        return list.ToArray();
    }

    // ---- properties -----------------------------------------------------------------------------

    private static readonly Gen<byte[][]> GenArgs =
        Gen.Byte.Array[0, 40].Array[1, 8].Where(a => a.Sum(x => x.Length) <= 256);

    [Fact]
    public void Any_arguments_framed_as_a_multibulk_parse_back_exactly_however_the_frame_is_cut()
    {
        Gen.Select(GenArgs, Gen.Int[0, 400].Array[0, 6]).Sample((args, cuts) =>
        {
            var frame = Command(args);
            var result = ParseOnce(Chunked(frame, cuts), L);
            Assert.Equal(RespParseStatus.Command, result.Status);
            Assert.Equal(args, result.Args);
            Assert.Equal(frame.Length, result.Consumed);
        }, iter: 2000, print: t => $"args {Show(t.Item1)} cuts [{string.Join(",", t.Item2)}]", writeLine: output.WriteLine);
    }

    [Fact]
    public void Any_strict_prefix_of_a_command_waits_and_consumes_nothing()
    {
        Gen.Select(GenArgs, Gen.Int[0, 10_000]).Sample((args, pick) =>
        {
            var frame = Command(args);
            var prefix = Chunked(frame[..(pick % frame.Length)], [pick % 7, pick % 13]);
            var result = ParseOnce(prefix, L);
            Assert.Equal(RespParseStatus.Incomplete, result.Status);
            Assert.Equal(0, result.Consumed);
        }, iter: 2000, print: t => $"args {Show(t.Item1)} pick {t.Item2}", writeLine: output.WriteLine);
    }
}
