using System.Text;

namespace AkkaKv;

/// <summary>
/// An immutable, binary-safe byte string with value equality: the type of every key and value.
/// Keys are compared as bytes (never as text), so NUL bytes and invalid UTF-8 are fine.
/// </summary>
public sealed class Bytes : IEquatable<Bytes>, IComparable<Bytes>
{
    private readonly byte[] _data;
    private readonly int _hash;

    public static readonly Bytes Empty = new([], copy: false);

    private Bytes(byte[] data, bool copy)
    {
        _data = copy ? (byte[])data.Clone() : data;
        var h = new HashCode();
        h.AddBytes(_data);
        _hash = h.ToHashCode();
    }

    public static Bytes From(ReadOnlySpan<byte> data) => new(data.ToArray(), copy: false);
    public static Bytes FromUtf8(string text) => new(Encoding.UTF8.GetBytes(text), copy: false);

    /// <summary>Takes ownership of <paramref name="data"/>: the caller must not change it afterwards.</summary>
    public static Bytes Wrap(byte[] data) => new(data, copy: false);

    public int Length => _data.Length;
    public ReadOnlySpan<byte> Span => _data;
    public ReadOnlyMemory<byte> Memory => _data;
    public byte[] ToArray() => (byte[])_data.Clone();

    /// <summary>UTF-8 text of the bytes (invalid sequences become U+FFFD): for display only.</summary>
    public string ToUtf8() => Encoding.UTF8.GetString(_data);

    public bool Equals(Bytes? other) => other is not null && _hash == other._hash && _data.AsSpan().SequenceEqual(other._data);
    public override bool Equals(object? obj) => obj is Bytes b && Equals(b);
    public override int GetHashCode() => _hash;
    public int CompareTo(Bytes? other) => other is null ? 1 : _data.AsSpan().SequenceCompareTo(other._data);
    public override string ToString() => ToUtf8();
    public static bool operator ==(Bytes? a, Bytes? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Bytes? a, Bytes? b) => !(a == b);
}
