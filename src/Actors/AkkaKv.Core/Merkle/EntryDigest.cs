using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using AkkaKv.Versioning;

namespace AkkaKv.Merkle;

/// <summary>
/// A canonical 64-bit digest of one key's content on one replica: xxHash64 over an injective byte
/// encoding of the key and its sibling set. Two replicas whose sets are equal
/// (<see cref="SiblingSet.Equals(SiblingSet?)"/>: same dots, pasts, values or tombstones and
/// wall-clock stamps, in the set's canonical dot order) get the same digest however the set was
/// reached; any difference that equality sees changes the encoding, and so the digest with
/// probability 1 - 2^-64. The key is part of the encoding, so the digest is also the key's entry
/// hash in the <see cref="MerkleTree"/>: two keys with the same content never cancel out there.
///
/// The encoding is a wire contract between replicas of different nodes (and versions): it is
/// fixed here, little-endian, every variable-length field length-prefixed, and pinned by a test.
/// Changing it makes every key of a mixed-version cluster look divergent, so bump
/// <see cref="FormatVersion"/> when it changes.
/// <code>
///   key      := u32 length, bytes
///   set      := u32 count, sibling*            (in SiblingSet order: actor ordinal, then counter)
///   sibling  := actor, i64 counter,
///               u32 past count, (actor, i64 counter)*   (VersionVector order: actor ordinal)
///               u8 0 (tombstone) | u8 1, u32 length, value bytes
///                 | u8 2, i64 deadline ms, u32 length, value bytes   (a value with a deadline)
///                 | u8 3, (u8 0 | u8 1, u32 length, value bytes), i64 deadline ms (0: none),
///                   u8 increment, counter entries, counter floor,
///                   (u8 0 | u8 1, actor, i64 counter, i64 timestamp ms, i64 value)   (counter fields; base)
///                 | u8 4, i64 deadline ms (0: none), (u8 0 | u8 1, counter fields as in 3 from
///                   u8 increment on), u32 field count,
///                   (u32 length, name, actor, i64 counter, i64 timestamp ms, u32 length, value)*   (a hash)
///               i64 timestamp ms
///   counter  := u32 count, (actor, i64 up, i64 down, i64 version)*   (actor ordinal)
///   actor    := u32 UTF-16 code unit count, code units (UTF-16LE: exact, even for lone surrogates)
/// </code>
/// </summary>
public static class EntryDigest
{
    /// <summary>The encoding's version, used as the xxHash64 seed.</summary>
    public const long FormatVersion = 1;

    // Small fields are gathered in a stack buffer and handed to the hasher in chunks; values
    // larger than what is left go to the hasher directly, so a digest never copies a large value.
    private const int BufferSize = 256;

    [ThreadStatic] private static XxHash64? _hasher;

    /// <summary>The digest of <paramref name="key"/> holding <paramref name="siblings"/>. An empty set is an absent key: callers hold no entry for it.</summary>
    public static ulong Of(Bytes key, SiblingSet siblings)
    {
        var hasher = _hasher ??= new XxHash64(FormatVersion);
        hasher.Reset();
        var w = new Writer(hasher, stackalloc byte[BufferSize]);
        w.Bytes(key.Span);
        w.UInt32((uint)siblings.Count);
        foreach (var s in siblings.Siblings)
        {
            w.Actor(s.Dot.Actor);
            w.Int64(s.Dot.Counter);
            w.UInt32((uint)s.Past.Entries.Count);
            foreach (var (actor, counter) in s.Past.Entries)
            {
                w.Actor(actor);
                w.Int64(counter);
            }
            if (s.IsHash)
            {
                // Marker 4: a hash version (its value is empty; any deadline, any reset floor).
                w.Byte(4);
                w.Int64(s.HasDeadline ? s.ExpiresAtMs : 0);
                if (s.Counter is { } reset)
                {
                    w.Byte(1);
                    CounterFields(ref w, reset);
                }
                else w.Byte(0);
                w.UInt32((uint)s.Hash!.Count);
                foreach (var f in s.Hash.Fields)
                {
                    w.Bytes(f.Name.Span);
                    w.Actor(f.Dot.Actor);
                    w.Int64(f.Dot.Counter);
                    w.Int64(f.TimestampMs);
                    w.Bytes(f.Value.Span);
                }
            }
            else if (s.Counter is { } counterPart)
            {
                // Marker 3: a version with counter fields (a tombstone or a value, any deadline).
                w.Byte(3);
                w.Byte(s.Value is null ? (byte)0 : (byte)1);
                if (s.Value is not null) w.Bytes(s.Value.Span);
                w.Int64(s.HasDeadline ? s.ExpiresAtMs : 0);
                CounterFields(ref w, counterPart);
            }
            else if (s.Value is null) w.Byte(0);
            else if (!s.HasDeadline)
            {
                w.Byte(1);
                w.Bytes(s.Value.Span);
            }
            else
            {
                w.Byte(2);
                w.Int64(s.ExpiresAtMs);
                w.Bytes(s.Value.Span);
            }
            w.Int64(s.TimestampMs);
        }
        w.Flush();
        return hasher.GetCurrentHashAsUInt64();
    }

    private static void CounterFields(ref Writer w, CounterPart counterPart)
    {
        w.Byte(counterPart.IsIncrement ? (byte)1 : (byte)0);
        Counter(ref w, counterPart.Entries);
        Counter(ref w, counterPart.Floor);
        if (counterPart.Base is { } b)
        {
            w.Byte(1);
            w.Actor(b.Dot.Actor);
            w.Int64(b.Dot.Counter);
            w.Int64(b.TimestampMs);
            w.Int64(b.Value);
        }
        else w.Byte(0);
    }

    private static void Counter(ref Writer w, PnCounter counter)
    {
        w.UInt32((uint)counter.Entries.Count);
        foreach (var (id, e) in counter.Entries)
        {
            w.Actor(id);
            w.Int64(e.Up);
            w.Int64(e.Down);
            w.Int64(e.Version);
        }
    }

    private ref struct Writer(XxHash64 hasher, Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _used;

        private Span<byte> Take(int n)
        {
            if (_used + n > _buffer.Length) Flush();
            var span = _buffer.Slice(_used, n);
            _used += n;
            return span;
        }

        public void Flush()
        {
            if (_used == 0) return;
            hasher.Append(_buffer[.._used]);
            _used = 0;
        }

        public void Byte(byte b) => Take(1)[0] = b;
        public void UInt32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), v);
        public void Int64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), v);

        /// <summary>Length-prefixed raw bytes.</summary>
        public void Bytes(ReadOnlySpan<byte> data)
        {
            UInt32((uint)data.Length);
            Raw(data);
        }

        public void Actor(string actor)
        {
            UInt32((uint)actor.Length);
            if (BitConverter.IsLittleEndian) Raw(MemoryMarshal.AsBytes(actor.AsSpan()));
            else
                foreach (var c in actor) BinaryPrimitives.WriteUInt16LittleEndian(Take(2), c);
        }

        private void Raw(ReadOnlySpan<byte> data)
        {
            if (_used + data.Length <= _buffer.Length)
            {
                data.CopyTo(_buffer[_used..]);
                _used += data.Length;
                return;
            }
            Flush();
            if (data.Length >= _buffer.Length) hasher.Append(data);
            else
            {
                data.CopyTo(_buffer);
                _used = data.Length;
            }
        }
    }
}
