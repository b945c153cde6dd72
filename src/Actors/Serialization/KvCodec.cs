using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using AkkaKv.Coordination;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Serialization;

/// <summary>Compact binary writer for the store's wire and journal format (LEB128 varints, length-prefixed bytes).</summary>
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

    public void WriteVector(VersionVector v)
    {
        WriteVarULong((ulong)v.Entries.Count);
        foreach (var (actor, counter) in v.Entries) { WriteString(actor); WriteVarLong(counter); }
    }

    public void WriteSiblings(SiblingSet set)
    {
        WriteVarULong((ulong)set.Count);
        foreach (var s in set.Siblings)
        {
            WriteString(s.Dot.Actor);
            WriteVarLong(s.Dot.Counter);
            WriteVector(s.Past);
            WriteNullableBytes(s.Value);
            WriteVarLong(s.TimestampMs);
        }
    }

    public void WriteSlot(SlotId slot) { WriteInt(slot.Partition); WriteInt(slot.Index); }

    public void WriteOptions(RequestOptions o)
    {
        WriteInt(o.R ?? -1);
        WriteInt(o.W ?? -1);
        WriteVarLong(o.Timeout?.Ticks ?? -1);
        WriteInt(o.Sloppy is null ? -1 : o.Sloppy.Value ? 1 : 0);
        WriteInt(o.Overwrite is null ? -1 : o.Overwrite.Value ? 1 : 0);
    }
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

    private int ReadLength() { var n = ReadVarULong(); return n > int.MaxValue ? throw new FormatException("length too large") : (int)n; }

    public string ReadString() => Encoding.UTF8.GetString(Take(ReadLength()));
    public string? ReadNullableString() => ReadBool() ? ReadString() : null;
    public Bytes ReadBytes() => Bytes.From(Take(ReadLength()));
    public Bytes? ReadNullableBytes() => ReadBool() ? ReadBytes() : null;

    public VersionVector ReadVector()
    {
        var count = ReadLength();
        var entries = new List<KeyValuePair<string, long>>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var actor = ReadString();
            var counter = ReadVarLong();
            if (counter < 0) throw new FormatException("negative version counter");
            entries.Add(KeyValuePair.Create(actor, counter));
        }
        return VersionVector.Of(entries);
    }

    public SiblingSet ReadSiblings()
    {
        var count = ReadLength();
        var list = new List<Sibling>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
            list.Add(new Sibling(new Dot(ReadString(), ReadVarLong()), ReadVector(), ReadNullableBytes(), ReadVarLong()));
        return SiblingSet.Of(list);
    }

    public SlotId ReadSlot() => new(ReadInt(), ReadInt());

    public RequestOptions ReadOptions()
    {
        var r = ReadInt();
        var w = ReadInt();
        var t = ReadVarLong();
        var s = ReadInt();
        var o = ReadInt();
        return new RequestOptions(r < 0 ? null : r, w < 0 ? null : w, t < 0 ? null : TimeSpan.FromTicks(t), s < 0 ? null : s == 1, o < 0 ? null : o == 1);
    }

    public ImmutableSortedDictionary<Bytes, SiblingSet> ReadKeyMap()
    {
        var count = ReadLength();
        var b = ImmutableSortedDictionary.CreateBuilder<Bytes, SiblingSet>();
        for (var i = 0; i < count; i++) b[ReadBytes()] = ReadSiblings();
        return b.ToImmutable();
    }
}
