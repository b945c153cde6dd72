using System.Buffers.Text;
using System.Text;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// One reply as a client sees it. <see cref="Raw"/> is its exact bytes (one char per byte), so a
/// test can assert the wire form; the other fields are the decoded value.
/// </summary>
/// <param name="Type">The type byte: + - : $ * % or _ .</param>
/// <param name="Text">For + and -: the line.</param>
/// <param name="Bulk">For $: the bytes, or null for the null bulk string $-1.</param>
/// <param name="Items">For * and %: the items (a map's keys and values alternate), or null for *-1.</param>
internal sealed record RespReply(char Type, string Raw, string? Text = null, long Integer = 0, byte[]? Bulk = null, IReadOnlyList<RespReply>? Items = null)
{
    public bool IsNull => Type == '_' || (Type == '$' && Bulk is null) || (Type == '*' && Items is null);
    public string BulkText => Encoding.UTF8.GetString(Bulk ?? throw new InvalidOperationException($"not a bulk string: {Raw}"));
    public override string ToString() => Raw;
}

/// <summary>A strict reader of server replies (RESP2 and the RESP3 types the gateway sends), for tests.</summary>
internal static class RespReplyReader
{
    /// <summary>Reads one reply from the start of <paramref name="data"/>: false if it is incomplete; throws <see cref="FormatException"/> if it is malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out RespReply reply, out int consumed)
    {
        var position = 0;
        var ok = TryReadAt(data, ref position, out var read);
        reply = read!;
        consumed = ok ? position : 0;
        return ok;
    }

    /// <summary>All replies in <paramref name="data"/>, which must end exactly after the last one.</summary>
    public static List<RespReply> ReadAll(ReadOnlySpan<byte> data)
    {
        var replies = new List<RespReply>();
        while (data.Length > 0)
        {
            if (!TryRead(data, out var reply, out var consumed)) throw new FormatException($"incomplete reply: {RespTestSupport.Latin1(data)}");
            replies.Add(reply);
            data = data[consumed..];
        }
        return replies;
    }

    private static bool TryReadAt(ReadOnlySpan<byte> data, ref int position, out RespReply? reply)
    {
        reply = null;
        var start = position;
        if (!TryLine(data, ref position, out var line)) return false;
        if (line.Length == 0) throw new FormatException("empty reply line");
        var type = (char)line[0];
        var rest = line[1..];
        switch (type)
        {
            case '+':
            case '-':
                reply = new RespReply(type, Raw(data, start, position), Text: Encoding.UTF8.GetString(rest));
                return true;
            case ':':
                reply = new RespReply(type, Raw(data, start, position), Integer: Number(rest));
                return true;
            case '_':
                if (rest.Length != 0) throw new FormatException("junk after _");
                reply = new RespReply(type, Raw(data, start, position));
                return true;
            case '$':
            {
                var length = Number(rest);
                if (length == -1)
                {
                    reply = new RespReply(type, Raw(data, start, position));
                    return true;
                }
                if (length < 0) throw new FormatException($"bulk length {length}");
                if (data.Length - position < length + 2) return false;
                var bytes = data.Slice(position, (int)length).ToArray();
                position += (int)length;
                if (data[position] != '\r' || data[position + 1] != '\n') throw new FormatException("bulk string not terminated by CRLF");
                position += 2;
                reply = new RespReply(type, Raw(data, start, position), Bulk: bytes);
                return true;
            }
            case '*':
            case '%':
            {
                var count = Number(rest);
                if (type == '*' && count == -1)
                {
                    reply = new RespReply(type, Raw(data, start, position));
                    return true;
                }
                if (count < 0) throw new FormatException($"aggregate count {count}");
                var items = new List<RespReply>();
                for (var i = 0; i < (type == '%' ? 2 * count : count); i++)
                {
                    if (!TryReadAt(data, ref position, out var item)) return false;
                    items.Add(item!);
                }
                reply = new RespReply(type, Raw(data, start, position), Integer: count, Items: items);
                return true;
            }
            default:
                throw new FormatException($"unexpected reply type byte 0x{(byte)type:x2}");
        }
    }

    private static bool TryLine(ReadOnlySpan<byte> data, ref int position, out ReadOnlySpan<byte> line)
    {
        line = default;
        var end = data[position..].IndexOf("\r\n"u8);
        if (end < 0) return false;
        line = data.Slice(position, end);
        position += end + 2;
        return true;
    }

    private static long Number(ReadOnlySpan<byte> digits) =>
        Utf8Parser.TryParse(digits, out long n, out var used) && used == digits.Length && digits.Length > 0
            ? n : throw new FormatException($"not a number: {RespTestSupport.Latin1(digits)}");

    private static string Raw(ReadOnlySpan<byte> data, int start, int end) => RespTestSupport.Latin1(data[start..end]);
}
