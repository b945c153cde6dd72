using System.Collections.Concurrent;
using AkkaKv.Configuration;
using AkkaKv.Coordination;
using AkkaKv.Protocol;
using AkkaKv.Resp;
using AkkaKv.Serialization;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// A stand-in for the node's gateway actor: one in-memory map of key to siblings, answering Get,
/// Put, Delete and GetStatus with the real reply records. It validates requests exactly as the
/// gateway does (<see cref="Limits.CheckKey"/>, <see cref="Limits.CheckValue"/>,
/// <see cref="ResolvedOptions.Resolve"/>), so the RESP layer sees the same failures it would in a node.
///
/// Causal contexts are "c" followed by the dot-separated version numbers a read returned: a put
/// with a context replaces exactly those versions; without one it adds a sibling, unless it asks
/// to overwrite (SET), which replaces everything.
/// </summary>
internal sealed class InMemoryKvBackend(KvSettings settings) : IKvBackend
{
    /// <summary>How the three replicas of every key report a read; deliberately not in slot order.</summary>
    public static readonly ValueList<ReplicaReport> Replicas = ValueList.From(new[]
    {
        new ReplicaReport(2, "n3", ReplicaReadState.Stale),
        new ReplicaReport(0, "n1", ReplicaReadState.Current),
        new ReplicaReport(1, "n2", ReplicaReadState.NotFound),
    });

    public static readonly NodeStatus Status = new(
        "n1",
        ValueList.From(new[] { new MemberInfo("n1", "akka.tcp://kv@127.0.0.1:4001", "Up", true) }),
        Partitions: 16, ReplicationFactor: 3, VirtualNodes: 8,
        SlotsPerNode: ValueList.From(new[] { KeyValuePair.Create("n1", 48) }),
        UnallocatedSlots: 0, CoLocatedPartitions: 16, MisplacedSlots: 0, Warning: "a single node holds every replica", PartitionsHeld: 16);

    private readonly object _gate = new();
    private readonly Dictionary<Bytes, List<(long Version, Bytes Value)>> _data = new();
    private long _version;

    /// <summary>Every request received, in arrival order.</summary>
    public ConcurrentQueue<IKvMessage> Requests { get; } = new();

    /// <summary>Runs before a request is answered (e.g. to delay it); may throw, as an ask that times out does.</summary>
    public Func<IKvMessage, Task>? BeforeReply { get; set; }

    /// <summary>A reply to send instead of the store's, when it returns one.</summary>
    public Func<IKvMessage, object?>? Override { get; set; }

    public async Task<object> RequestAsync(IKvMessage request, TimeSpan timeout)
    {
        Requests.Enqueue(request);
        if (BeforeReply is { } before) await before(request).ConfigureAwait(false);
        if (Override?.Invoke(request) is { } reply) return reply;
        lock (_gate) return Answer(request);
    }

    /// <summary>The live values of <paramref name="key"/>, oldest first.</summary>
    public IReadOnlyList<Bytes> ValuesOf(Bytes key)
    {
        lock (_gate) return _data.TryGetValue(key, out var siblings) ? siblings.Select(s => s.Value).ToArray() : [];
    }

    private object Answer(IKvMessage request)
    {
        switch (request)
        {
            case GetStatus:
                return Status;
            case Get get:
            {
                if (Invalid(get, null) is { } failed) return failed;
                return _data.TryGetValue(get.Key, out var siblings) && siblings.Count > 0
                    ? new GetSuccess(get.Key, ValueList.From(siblings.Select(s => s.Value)), ContextOf(siblings), Replicas)
                    : new NotFound(get.Key, "c", Replicas);
            }
            case Put put:
                return Invalid(put, put.Value) ?? Write(put, put.Value, put.Context);
            case Delete delete:
                return Invalid(delete, null) ?? Write(delete, null, delete.Context);
            default:
                throw new ArgumentException($"the gateway does not take {request.GetType().Name}");
        }
    }

    /// <summary>The gateway's checks, in its order: key, value, then the options.</summary>
    private RequestFailed? Invalid(IKvRequest request, Bytes? value)
    {
        var error = Limits.CheckKey(request.Key, settings) ?? (value is not null ? Limits.CheckValue(value, settings) : null);
        if (error is null) ResolvedOptions.Resolve(request.Options, settings, out error);
        return error is null ? null : new RequestFailed(request.Key ?? Bytes.Empty, error, 0, 0);
    }

    private object Write(IKvRequest request, Bytes? value, string? context)
    {
        var siblings = _data.TryGetValue(request.Key, out var held) ? held : [];
        List<(long Version, Bytes Value)> kept;
        if (context is not null)
        {
            if (!TryDecode(context, out var superseded))
                return new RequestFailed(request.Key, "the causal context is malformed: pass back the context string of a get unchanged", 0, 0);
            kept = siblings.Where(s => !superseded.Contains(s.Version)).ToList();
        }
        else kept = request.Options.Overwrite == true ? [] : siblings.ToList();
        if (value is not null) kept.Add((++_version, value));
        _data[request.Key] = kept;
        var acks = request.Options.W ?? settings.DefaultW;
        return new WriteSuccess(request.Key, acks, kept.Count == 1 ? ContextOf(kept) : "", kept.Count);
    }

    private static string ContextOf(IEnumerable<(long Version, Bytes Value)> siblings) => "c" + string.Join(".", siblings.Select(s => s.Version));

    private static bool TryDecode(string context, out HashSet<long> versions)
    {
        versions = [];
        if (!context.StartsWith('c')) return false;
        if (context.Length == 1) return true;
        foreach (var part in context[1..].Split('.'))
        {
            if (!long.TryParse(part, out var v)) return false;
            versions.Add(v);
        }
        return true;
    }
}
