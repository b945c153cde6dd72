using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace AkkaKv.Resp;

/// <summary>
/// Encodes replies for protocol version 2 (RESP2, the default) or 3 (after <c>HELLO 3</c>).
/// Writes straight into the connection's output buffer; nothing here blocks or flushes.
/// </summary>
internal static class RespWriter
{
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    public static void Write(IBufferWriter<byte> output, RespValue value, int protocol)
    {
        switch (value)
        {
            case RespSimple s: WriteLine(output, (byte)'+', s.Text); break;
            case RespError e: WriteLine(output, (byte)'-', e.Message); break;
            case RespInteger i: WriteHeader(output, (byte)':', i.Value); break;
            case RespBulk b:
                WriteHeader(output, (byte)'$', b.Value.Length);
                output.Write(b.Value.Span);
                output.Write(Crlf);
                break;
            case RespNull:
                output.Write(protocol >= 3 ? "_\r\n"u8 : "$-1\r\n"u8);
                break;
            case RespArray a:
                WriteHeader(output, (byte)'*', a.Items.Count);
                foreach (var item in a.Items) Write(output, item, protocol);
                break;
            case RespMap m:
                if (protocol >= 3) WriteHeader(output, (byte)'%', m.Fields.Count);
                else WriteHeader(output, (byte)'*', 2L * m.Fields.Count);
                foreach (var (field, v) in m.Fields)
                {
                    Write(output, RespValue.Bulk(field), protocol);
                    Write(output, v, protocol);
                }
                break;
            case RespPairs p:
                if (protocol >= 3) WriteHeader(output, (byte)'%', p.Pairs.Count);
                else WriteHeader(output, (byte)'*', 2L * p.Pairs.Count);
                foreach (var (field, v) in p.Pairs)
                {
                    Write(output, new RespBulk(field), protocol);
                    Write(output, v, protocol);
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(value), value.GetType().Name, "unknown RESP value");
        }
    }

    /// <summary>Most bytes a header line takes: the type byte, a 64-bit number in decimal with its sign, CR LF.</summary>
    private const int HeaderBytes = 23;

    /// <summary>
    /// How many bytes <see cref="Write"/> puts out for <paramref name="value"/>, from above (headers
    /// and single lines are counted at their longest): what the connection holds for it until sent.
    /// </summary>
    public static long SizeOf(RespValue value) => value switch
    {
        RespSimple s => 3 + 3L * s.Text.Length,
        RespError e => 3 + 3L * e.Message.Length,
        RespBulk b => HeaderBytes + b.Value.Length + 2,
        RespArray a => HeaderBytes + a.Items.Sum(SizeOf),
        RespMap m => HeaderBytes + m.Fields.Sum(f => HeaderBytes + 3L * f.Key.Length + 2 + SizeOf(f.Value)),
        RespPairs p => HeaderBytes + p.Pairs.Sum(f => HeaderBytes + f.Key.Length + 2 + SizeOf(f.Value)),
        _ => HeaderBytes,
    };

    public static byte[] ToBytes(RespValue value, int protocol = 2)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, value, protocol);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte type, long number)
    {
        var span = output.GetSpan(24);
        span[0] = type;
        Utf8Formatter.TryFormat(number, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(written + 3);
    }

    /// <summary>Simple strings and errors are one line: CR and LF in the text would end the frame early, so they become spaces.</summary>
    private static void WriteLine(IBufferWriter<byte> output, byte type, string text)
    {
        var clean = text.AsSpan().IndexOfAny('\r', '\n') < 0 ? text : text.Replace('\r', ' ').Replace('\n', ' ');
        var length = Encoding.UTF8.GetByteCount(clean);
        var span = output.GetSpan(length + 3);
        span[0] = type;
        Encoding.UTF8.GetBytes(clean, span[1..]);
        span[1 + length] = (byte)'\r';
        span[2 + length] = (byte)'\n';
        output.Advance(length + 3);
    }
}
