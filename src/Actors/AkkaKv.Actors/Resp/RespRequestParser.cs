using AkkaKv.Configuration;
using System.Buffers;
using System.Buffers.Text;

namespace AkkaKv.Resp;

/// <summary>Bounds on what one client command may declare, checked before anything is allocated for it.</summary>
/// <param name="MaxBulkBytes">Largest single argument (a bulk string's length prefix).</param>
/// <param name="MaxArguments">Most arguments in one command (a multibulk's count prefix).</param>
/// <param name="MaxInlineBytes">Longest inline (telnet-style) command line.</param>
/// <param name="MaxCommandBytes">Largest sum of argument lengths in one command.</param>
internal sealed record RespLimits(int MaxBulkBytes, int MaxArguments, int MaxInlineBytes, long MaxCommandBytes)
{
    /// <summary>What one RESP client command may declare (<c>akka-kv.resp.*</c>), checked before allocating.</summary>
    public static RespLimits Of(KvSettings settings) =>
        new(settings.RespMaxBulkBytes, settings.RespMaxArguments, settings.RespMaxInlineBytes, settings.RespMaxCommandBytes);
}

internal enum RespParseStatus
{
    /// <summary>One command was read and removed from the buffer (it may have no arguments: skip it).</summary>
    Command,
    /// <summary>The buffer holds only the start of a command; nothing was consumed.</summary>
    Incomplete,
    /// <summary>The bytes are not a valid command; the connection must be answered with the error and closed.</summary>
    ProtocolError,
}

/// <summary>
/// Reads client commands as Redis does: a multibulk array of bulk strings
/// (<c>*2\r\n$3\r\nGET\r\n$1\r\nk\r\n</c>), or an inline line (<c>GET k\r\n</c>) when the first byte is
/// not <c>*</c>. Incremental: a command split across any number of reads parses the same as one that
/// arrives whole. Every length prefix is checked against <see cref="RespLimits"/> before a byte is
/// allocated or waited for, so a client can't make the node buffer more than the limits.
/// </summary>
/// <remarks>
/// One reader per connection keeps its place in a command that has not fully arrived: the
/// arguments read so far and where they end. <see cref="TryParse"/> consumes nothing from the
/// buffer until a whole command is there (the caller keeps the bytes, as a <c>PipeReader</c> does
/// after <c>AdvanceTo(buffer.Start, buffer.End)</c>) and must be given the buffer from that same
/// start on the next call; it resumes where it stopped, so every byte is examined about once
/// however the command is split (<see cref="BytesExamined"/>), not once per read.
/// </remarks>
internal sealed class RespCommandReader(RespLimits limits)
{
    /// <summary>Longest count or length line accepted ("*" or "$" plus digits): a 64-bit number fits in 20.</summary>
    private const int MaxNumberLine = 24;

    // The command in progress at the start of the buffer: bytes already read into the state, the
    // declared argument count (-1: not read yet), the arguments and their total length so far.
    private long _offset;
    private long _count = -1;
    private long _total;
    private readonly List<Bytes> _args = [];
    // An inline command in progress: bytes already searched for its end of line.
    private long _inlineScanned;

    /// <summary>Bytes this reader has stepped over, over its lifetime: at most a few more than it was given, however they were split.</summary>
    public long BytesExamined { get; private set; }

    public RespParseStatus TryParse(ref ReadOnlySequence<byte> buffer, out Bytes[] args, out string error)
    {
        args = [];
        error = "";
        if (!new SequenceReader<byte>(buffer).TryPeek(out var first)) return RespParseStatus.Incomplete;
        var status = first == (byte)'*' ? ParseMultiBulk(ref buffer, out args, out error) : ParseInline(ref buffer, out args, out error);
        if (status != RespParseStatus.Incomplete) Reset();
        return status;
    }

    private void Reset()
    {
        _offset = 0;
        _count = -1;
        _total = 0;
        _args.Clear();
        _inlineScanned = 0;
    }

    private RespParseStatus ParseMultiBulk(ref ReadOnlySequence<byte> buffer, out Bytes[] args, out string error)
    {
        args = [];
        error = "";
        var reader = new SequenceReader<byte>(buffer);
        var resumed = _offset;
        reader.Advance(resumed);
        try
        {
            if (_count < 0)
            {
                reader.Advance(1);
                var status = ReadNumberLine(ref reader, out var count, "too big mbulk count string", "invalid multibulk length", out error);
                if (status != RespParseStatus.Command) return status;
                if (count > limits.MaxArguments)
                {
                    error = $"Protocol error: invalid multibulk length ({count} arguments, the limit is {limits.MaxArguments})";
                    return RespParseStatus.ProtocolError;
                }
                _count = count;
                _offset = reader.Consumed;
            }
            while (_args.Count < _count)
            {
                if (!reader.TryPeek(out var type)) return RespParseStatus.Incomplete;
                if (type != (byte)'$')
                {
                    error = $"Protocol error: expected '$', got '{Printable(type)}'";
                    return RespParseStatus.ProtocolError;
                }
                reader.Advance(1);
                var status = ReadNumberLine(ref reader, out var length, "too big bulk count string", "invalid bulk length", out error);
                if (status != RespParseStatus.Command) return status;
                if (length < 0 || length > limits.MaxBulkBytes)
                {
                    error = $"Protocol error: invalid bulk length ({length} bytes, the limit is {limits.MaxBulkBytes})";
                    return RespParseStatus.ProtocolError;
                }
                if (_total + length > limits.MaxCommandBytes)
                {
                    error = $"Protocol error: command too large (over {limits.MaxCommandBytes} bytes of arguments)";
                    return RespParseStatus.ProtocolError;
                }
                if (reader.Remaining < length + 2) return RespParseStatus.Incomplete;
                var data = reader.UnreadSequence.Slice(0, length);
                reader.Advance(length);
                if (!reader.IsNext("\r\n"u8, advancePast: true))
                {
                    error = "Protocol error: bulk string not terminated by CRLF";
                    return RespParseStatus.ProtocolError;
                }
                _args.Add(Bytes.Wrap(data.ToArray()));
                _total += length;
                _offset = reader.Consumed;
            }
            args = _args.ToArray();
            buffer = buffer.Slice(reader.Position);
            return RespParseStatus.Command;
        }
        finally
        {
            // What this call stepped over beyond where it resumed (an incomplete length line is
            // looked at again next time: at most MaxNumberLine bytes).
            BytesExamined += reader.Consumed - resumed;
        }
    }

    private static RespParseStatus ReadNumberLine(ref SequenceReader<byte> reader, out long number, string tooLong, string invalid, out string error)
    {
        number = 0;
        error = "";
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: true))
        {
            // Room for the longest accepted line and its CR, with the LF still to come.
            if (reader.Remaining <= MaxNumberLine + 1) return RespParseStatus.Incomplete;
            error = "Protocol error: " + tooLong;
            return RespParseStatus.ProtocolError;
        }
        Span<byte> digits = stackalloc byte[MaxNumberLine];
        if (line.Length > MaxNumberLine)
        {
            error = "Protocol error: " + tooLong;
            return RespParseStatus.ProtocolError;
        }
        line.CopyTo(digits);
        var text = digits[..(int)line.Length];
        if (text.Length == 0 || !Utf8Parser.TryParse(text, out number, out var consumed) || consumed != text.Length)
        {
            error = "Protocol error: " + invalid;
            return RespParseStatus.ProtocolError;
        }
        return RespParseStatus.Command;
    }

    private RespParseStatus ParseInline(ref ReadOnlySequence<byte> buffer, out Bytes[] args, out string error)
    {
        args = [];
        error = "";
        // Only the bytes not searched before: a line that arrives a byte at a time is searched once.
        var unsearched = buffer.Slice(_inlineScanned);
        var newline = unsearched.PositionOf((byte)'\n');
        BytesExamined += newline is { } at ? unsearched.Slice(0, at).Length + 1 : unsearched.Length;
        if (newline is null)
        {
            if (buffer.Length <= limits.MaxInlineBytes)
            {
                _inlineScanned = buffer.Length;
                return RespParseStatus.Incomplete;
            }
            error = "Protocol error: too big inline request";
            return RespParseStatus.ProtocolError;
        }
        var line = buffer.Slice(buffer.Start, newline.Value);
        if (line.Length > limits.MaxInlineBytes)
        {
            error = "Protocol error: too big inline request";
            return RespParseStatus.ProtocolError;
        }
        var bytes = line.ToArray().AsSpan();
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r') bytes = bytes[..^1];
        if (!InlineArguments.TrySplit(bytes, limits.MaxArguments, out var list, out error))
        {
            error = "Protocol error: " + error;
            return RespParseStatus.ProtocolError;
        }
        args = list.ToArray();
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return RespParseStatus.Command;
    }

    private static string Printable(byte b) => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}";
}

/// <summary>One-shot parsing with a fresh <see cref="RespCommandReader"/> (no state carried between calls).</summary>
internal static class RespRequestParser
{
    public static RespParseStatus TryParse(ref ReadOnlySequence<byte> buffer, RespLimits limits, out Bytes[] args, out string error) =>
        new RespCommandReader(limits).TryParse(ref buffer, out args, out error);
}

/// <summary>
/// Splits an inline command line like redis-cli and Redis's <c>sdssplitargs</c>: whitespace separates
/// arguments; "double quotes" allow escapes (\n \r \t \b \a \\ \" \xHH); 'single quotes' allow \'.
/// A closing quote must be followed by whitespace or the end of the line.
/// </summary>
internal static class InlineArguments
{
    public static bool TrySplit(ReadOnlySpan<byte> line, int maxArguments, out List<Bytes> args, out string error)
    {
        args = new List<Bytes>();
        error = "";
        var i = 0;
        var current = new List<byte>();
        while (true)
        {
            while (i < line.Length && IsSpace(line[i])) i++;
            if (i >= line.Length) return true;
            current.Clear();
            var inDouble = false;
            var inSingle = false;
            var done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (i >= line.Length) { error = "unbalanced quotes in request"; return false; }
                    var c = line[i];
                    if (c == '\\' && i + 3 < line.Length && line[i + 1] == 'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        current.Add((byte)(Hex(line[i + 2]) * 16 + Hex(line[i + 3])));
                        i += 3;
                    }
                    else if (c == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        current.Add(line[i] switch { (byte)'n' => (byte)'\n', (byte)'r' => (byte)'\r', (byte)'t' => (byte)'\t', (byte)'b' => 8, (byte)'a' => 7, var x => x });
                    }
                    else if (c == '"')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1])) { error = "unbalanced quotes in request"; return false; }
                        done = true;
                    }
                    else current.Add(c);
                }
                else if (inSingle)
                {
                    if (i >= line.Length) { error = "unbalanced quotes in request"; return false; }
                    var c = line[i];
                    if (c == '\\' && i + 1 < line.Length && line[i + 1] == '\'') { i++; current.Add((byte)'\''); }
                    else if (c == '\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1])) { error = "unbalanced quotes in request"; return false; }
                        done = true;
                    }
                    else current.Add(c);
                }
                else
                {
                    if (i >= line.Length) { done = true; continue; }
                    var c = line[i];
                    if (IsSpace(c)) done = true;
                    else if (c == '"') inDouble = true;
                    else if (c == '\'') inSingle = true;
                    else current.Add(c);
                }
                if (i < line.Length) i++;
            }
            if (args.Count == maxArguments) { error = $"too many arguments (the limit is {maxArguments})"; return false; }
            args.Add(Bytes.Wrap(current.ToArray()));
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0x0b or 0x0c;
    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';
    private static int Hex(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
