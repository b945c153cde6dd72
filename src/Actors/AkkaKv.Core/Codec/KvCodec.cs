using System.Buffers.Binary;
using System.Text;

namespace AkkaKv.Codec;

/// <summary>
/// Compact binary writer for the store's wire and journal format (LEB128 varints, length-prefixed
/// bytes): primitives only. Each capability adds the encoding of its own values as extension
/// methods next to them (<c>VersioningCodec</c>, <c>SlotCodec</c>, ...), so this layer depends on
/// nothing above it.
/// </summary>
public sealed class KvWriter
{
    private byte[] _buffer = new byte[128];
    private int _length;

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void WriteByte(byte b) => Reserve(1)[0] = b;
    public void WriteBool(bool b) => WriteByte(b ? (byte)1 : (byte)0);

    public void WriteVarULong(ulong v)
    {
        while (v >= 0x80) { WriteByte((byte)(v | 0x80)); v >>= 7; }
        WriteByte((byte)v);
    }

    public void WriteVarLong(long v) => WriteVarULong((ulong)((v << 1) ^ (v >> 63)));
    public void WriteInt(int v) => WriteVarLong(v);
    public void WriteFixedLong(long v) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(8), v);

    public void WriteSpan(ReadOnlySpan<byte> data)
    {
        WriteVarULong((ulong)data.Length);
        data.CopyTo(Reserve(data.Length));
    }

    public void WriteString(string s) => WriteSpan(Encoding.UTF8.GetBytes(s));
    public void WriteNullableString(string? s) { WriteBool(s is not null); if (s is not null) WriteString(s); }
    public void WriteBytes(Bytes b) => WriteSpan(b.Span);
    public void WriteNullableBytes(Bytes? b) { WriteBool(b is not null); if (b is not null) WriteBytes(b); }




}

/// <summary>Reads what <see cref="KvWriter"/> wrote. Throws <see cref="FormatException"/> on malformed input.</summary>
public sealed class KvReader(byte[] data)
{
    private int _pos;

    public bool AtEnd => _pos == data.Length;
    public int Remaining => data.Length - _pos;

    public byte ReadByte() => _pos < data.Length ? data[_pos++] : throw new FormatException("truncated AkkaKv frame");
    public bool ReadBool() => ReadByte() != 0;

    public ulong ReadVarULong()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new FormatException("varint too long");
    }

    public long ReadVarLong() { var u = ReadVarULong(); return (long)(u >> 1) ^ -(long)(u & 1); }
    public int ReadInt() { var v = ReadVarLong(); return v is < int.MinValue or > int.MaxValue ? throw new FormatException("integer out of range") : (int)v; }
    public long ReadFixedLong() { var v = BinaryPrimitives.ReadInt64LittleEndian(Take(8)); return v; }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > data.Length - _pos) throw new FormatException("length beyond the end of the AkkaKv frame");
        var span = data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    /// <summary>A length prefix (of bytes or of a list), at most int.MaxValue.</summary>
    public int ReadLength() { var n = ReadVarULong(); return n > int.MaxValue ? throw new FormatException("length too large") : (int)n; }

    /// <summary>A count prefix (written with WriteInt), checked against what is left of the frame before anything is allocated for it.</summary>
    public int ReadCount()
    {
        var n = ReadInt();
        return n < 0 || n > Remaining ? throw new FormatException($"count {n} does not fit in the frame") : n;
    }

    public string ReadString() => Encoding.UTF8.GetString(Take(ReadLength()));
    public string? ReadNullableString() => ReadBool() ? ReadString() : null;

    /// <summary>A string written by <see cref="KvWriter.WriteString"/>, as the process's one shared instance of it (<see cref="StringPool"/>).</summary>
    public string ReadPooledString() => StringPool.FromUtf8(Take(ReadLength()));
    public Bytes ReadBytes() => Bytes.From(Take(ReadLength()));
    public Bytes? ReadNullableBytes() => ReadBool() ? ReadBytes() : null;





}
