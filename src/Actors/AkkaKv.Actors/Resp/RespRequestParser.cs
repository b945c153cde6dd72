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
/// not <c>*</c>. Pure and incremental: a command split across any number of reads parses the same
/// as one that arrives whole. Every length prefix is checked against <see cref="RespLimits"/> before
/// a byte is allocated or waited for, so a client can't make the node buffer more than the limits.
/// </summary>
internal static class RespRequestParser
{
    /// <summary>Longest count or length line accepted ("*" or "$" plus digits): a 64-bit number fits in 20.</summary>
    private const int MaxNumberLine = 24;

    public static RespParseStatus TryParse(ref ReadOnlySequence<byte> buffer, RespLimits limits, out Bytes[] args, out string error)
    {
        args = [];
        error = "";
        if (!new SequenceReader<byte>(buffer).TryPeek(out var first)) return RespParseStatus.Incomplete;
        return first == (byte)'*'
            ? ParseMultiBulk(ref buffer, limits, out args, out error)
            : ParseInline(ref buffer, limits, out args, out error);
    }

    private static RespParseStatus ParseMultiBulk(ref ReadOnlySequence<byte> buffer, RespLimits limits, out Bytes[] args, out string error)
    {
        // First pass validates and finds the end without allocating; the second copies the arguments.
        var status = Scan(buffer, limits, null, out var end, out error);
        if (status != RespParseStatus.Command) { args = []; return status; }
        var list = new List<Bytes>();
        Scan(buffer, limits, list, out end, out _);
        args = list.ToArray();
        buffer = buffer.Slice(end);
        return RespParseStatus.Command;
    }

    private static RespParseStatus Scan(ReadOnlySequence<byte> buffer, RespLimits limits, List<Bytes>? into, out SequencePosition end, out string error)
    {
        var reader = new SequenceReader<byte>(buffer);
        end = buffer.Start;
        reader.Advance(1);
        var status = ReadNumberLine(ref reader, out var count, "too big mbulk count string", "invalid multibulk length", out error);
        if (status != RespParseStatus.Command) return status;
        if (count > limits.MaxArguments)
        {
            error = $"Protocol error: invalid multibulk length ({count} arguments, the limit is {limits.MaxArguments})";
            return RespParseStatus.ProtocolError;
        }
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryPeek(out var type)) return RespParseStatus.Incomplete;
            if (type != (byte)'$')
            {
                error = $"Protocol error: expected '$', got '{Printable(type)}'";
                return RespParseStatus.ProtocolError;
            }
            reader.Advance(1);
            status = ReadNumberLine(ref reader, out var length, "too big bulk count string", "invalid bulk length", out error);
            if (status != RespParseStatus.Command) return status;
            if (length < 0 || length > limits.MaxBulkBytes)
            {
                error = $"Protocol error: invalid bulk length ({length} bytes, the limit is {limits.MaxBulkBytes})";
                return RespParseStatus.ProtocolError;
            }
            total += length;
            if (total > limits.MaxCommandBytes)
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
            into?.Add(Bytes.Wrap(data.ToArray()));
        }
        end = reader.Position;
        return RespParseStatus.Command;
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

    private static RespParseStatus ParseInline(ref ReadOnlySequence<byte> buffer, RespLimits limits, out Bytes[] args, out string error)
    {
        args = [];
        error = "";
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (buffer.Length <= limits.MaxInlineBytes) return RespParseStatus.Incomplete;
            error = "Protocol error: too big inline request";
            return RespParseStatus.ProtocolError;
        }
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
        buffer = buffer.Slice(reader.Position);
        return RespParseStatus.Command;
    }

    private static string Printable(byte b) => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}";
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
