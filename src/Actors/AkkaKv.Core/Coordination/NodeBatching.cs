using System.Collections.Immutable;
using AkkaKv.Placement;

namespace AkkaKv.Coordination;

/// <summary>
/// The items bound for one destination node, gathered until they go as one message. A buffer holds
/// at most <see cref="MaxBytes"/> by estimate and <see cref="MaxItems"/> items, except that one item
/// alone may be larger: <see cref="MustSendBefore"/> says when what is held must go first.
/// </summary>
public sealed class BatchBuffer<T>
{
    private List<T> _items = new();

    public BatchBuffer(long maxBytes, int maxItems)
    {
        if (maxBytes < 1) throw new ArgumentOutOfRangeException(nameof(maxBytes), "a batch holds at least one byte");
        if (maxItems < 1) throw new ArgumentOutOfRangeException(nameof(maxItems), "a batch holds at least one item");
        MaxBytes = maxBytes;
        MaxItems = maxItems;
    }

    public long MaxBytes { get; }
    public int MaxItems { get; }
    public long Bytes { get; private set; }
    public int Count => _items.Count;
    public bool IsEmpty => _items.Count == 0;

    /// <summary>True when an item of <paramref name="bytes"/> would take the buffer over its limits: what it holds goes first.</summary>
    public bool MustSendBefore(long bytes) => _items.Count > 0 && (_items.Count >= MaxItems || Bytes + bytes > MaxBytes);

    public void Add(T item, long bytes)
    {
        if (MustSendBefore(bytes)) throw new InvalidOperationException("the buffer is full: take what it holds first");
        _items.Add(item);
        Bytes += bytes;
    }

    /// <summary>Everything held, in the order added; the buffer is empty after it.</summary>
    public List<T> Take()
    {
        var items = _items;
        _items = new List<T>();
        Bytes = 0;
        return items;
    }
}

/// <summary>
/// Whom each reply goes to: a request sent in a batch gets an id (never 0, which stands for "no
/// reply wanted"), and its reply, which comes back under that id, is handed to whoever sent the
/// request. An id is taken at its first reply. Ids whose reply never comes (the requester gave up
/// long ago, the node died) are dropped by <see cref="Rotate"/>: an entry lives through one to two
/// rotations, so the table never grows with lost replies.
/// </summary>
public sealed class ReplyTable<T> where T : class
{
    private Dictionary<long, T> _current = new();
    private Dictionary<long, T> _previous = new();
    private long _last;

    public int Count => _current.Count + _previous.Count;

    public long Add(T replyTo)
    {
        var id = ++_last;
        _current[id] = replyTo;
        return id;
    }

    public bool TryTake(long id, out T replyTo)
    {
        if (_current.Remove(id, out var found) || _previous.Remove(id, out found))
        {
            replyTo = found;
            return true;
        }
        replyTo = null!;
        return false;
    }

    /// <summary>Drops the entries added before the previous rotation; returns how many.</summary>
    public int Rotate()
    {
        var dropped = _previous.Count;
        _previous.Clear();
        (_previous, _current) = (_current, _previous);
        return dropped;
    }
}

/// <summary>
/// The nodes this node's requests to replica slots may go to in batches (per destination, through
/// each node's courier): every other store node at <see cref="FeatureLevel.Batches"/> or later with
/// exactly one incarnation in the cluster, that one Joining, WeaklyUp, Up or Leaving, by name with
/// its address. Any other node (older, restarted while its old incarnation is still a member,
/// exiting) gets each request on its own, through the shard region, as before.
/// </summary>
public static class BatchPeers
{
    public static ImmutableDictionary<string, string> Of(Membership members, string self)
    {
        var peers = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var doubled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in members.ByAddress.Values)
        {
            if (m.Node == self) continue;
            if (m.Status is not (MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up or MemberStatus.Leaving) || !FeatureLevel.AtLeast(m.AppVersion, FeatureLevel.Batches))
            {
                doubled.Add(m.Node);
                continue;
            }
            if (!peers.TryAdd(m.Node, m.Address)) doubled.Add(m.Node);
        }
        foreach (var node in doubled) peers.Remove(node);
        return peers.ToImmutable();
    }
}
