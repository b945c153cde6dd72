using System.Collections;
using System.Collections.Immutable;

namespace AkkaKv;

/// <summary>An immutable list with value equality, for use inside message records.</summary>
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    public static readonly ValueList<T> Empty = new(ImmutableArray<T>.Empty);
    private readonly ImmutableArray<T> _items;

    public ValueList(IEnumerable<T> items) => _items = items.ToImmutableArray();
    private ValueList(ImmutableArray<T> items) => _items = items;

    public T this[int index] => _items[index];
    public int Count => _items.Length;
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(ValueList<T>? other) => other is not null && _items.SequenceEqual(other._items);
    public override bool Equals(object? obj) => obj is ValueList<T> l && Equals(l);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var item in _items) h.Add(item);
        return h.ToHashCode();
    }
    public override string ToString() => "[" + string.Join(", ", _items) + "]";
}

public static class ValueList
{
    public static ValueList<T> From<T>(IEnumerable<T> items) => new(items);
}
