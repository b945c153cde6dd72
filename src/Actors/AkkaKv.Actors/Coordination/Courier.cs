using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaKv.Observability;
using AkkaKv.Placement;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Sharding;

namespace AkkaKv.Coordination;

/// <summary>Local only: a coordinator's request for a replica slot on another node, to go in that node's next batch.</summary>
/// <param name="Bytes">The request's size by <see cref="Courier.EstimateBytes(IReplicaCommand)"/>.</param>
/// <param name="ReplyWanted">False for a request answered by nothing (a read repair's merge).</param>
internal sealed record ToSlot(string Node, SlotEnvelope Envelope, long Bytes, bool ReplyWanted);

/// <summary>Courier to courier: requests for replica slots on the receiving node, each with the id its reply goes back under (0: none wanted).</summary>
internal sealed record SlotBatch(ValueList<BatchedRequest> Items) : IKvMessage;

internal readonly record struct BatchedRequest(long ReplyId, SlotEnvelope Envelope);

/// <summary>Courier to courier: replies of replica slots to the requests of a <see cref="SlotBatch"/>, each under its request's id.</summary>
internal sealed record ReplyBatch(ValueList<BatchedReply> Items) : IKvMessage;

internal readonly record struct BatchedReply(long ReplyId, IKvMessage Reply);

/// <summary>Asks a courier what it has carried (for tests and diagnostics); answered with <see cref="CourierStats"/>.</summary>
internal sealed class GetCourierStats
{
    public static readonly GetCourierStats Instance = new();
    private GetCourierStats() { }
}

/// <param name="Peers">The nodes it sends batches to.</param>
/// <param name="Waiting">Requests sent whose reply has not come back.</param>
internal sealed record CourierStats(ImmutableSortedSet<string> Peers, long RequestBatches, long Requests, long ReplyBatches, long Replies, int Waiting);

/// <summary>
/// A node's courier (<see cref="NodeActors.Courier"/>): carries the requests of this node's
/// coordinators to replica slots on each other node, and the replies back, many in one remote
/// message per destination instead of one message each. Under load many requests go to the same
/// node at the same moment; one Akka.Remote message costs the same envelope, endpoint and
/// dispatch work whatever it carries, so this divides that work by the batch.
/// <para>
/// A batch goes when the courier has handled every message that was in its mailbox when the batch's
/// first request arrived (it tells itself to flush, and that message queues behind them): a lone
/// request waits for nothing, and under load the batches grow by themselves. A batch holds at most
/// <see cref="MaxBatchBytes"/> by estimate (one request alone may be larger, as it would travel alone
/// anyway) and <see cref="MaxBatchItems"/> requests, far inside akka.remote's frame.
/// </para>
/// <para>
/// The receiving courier hands each request to its node's shard region, as the sending node's region
/// would have, with a <see cref="BatchReplyRef"/> as the sender; the replica's reply to it joins a
/// batch of replies to the origin, whose courier passes each one to the coordinator that asked.
/// A reply that never comes (a node died, a slot moved and the request was lost) leaves nothing
/// behind: the coordinator's own timers handle it as before, and the courier forgets the request
/// after one to two <see cref="ForgetAfter"/> periods.
/// </para>
/// <para>
/// Only nodes at <see cref="FeatureLevel.Batches"/> get batches (<see cref="BatchPeers"/>); a request
/// to any other node, or to a slot on this node, goes through the shard region as before
/// (<see cref="SlotSender"/>).
/// </para>
/// </summary>
internal sealed class Courier : UntypedActor, IWithTimers
{
    public const long MaxBatchBytes = 64 * 1024;
    public const int MaxBatchItems = 256;
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromSeconds(30);

    private readonly IActorRef _region;
    private readonly string _self;
    private readonly IActorRefProvider _provider;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Membership _members = Membership.Empty;
    private ImmutableDictionary<string, string> _peerAddresses = ImmutableDictionary<string, string>.Empty;
    private readonly Dictionary<string, IActorRef> _peers = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, BatchBuffer<BatchedRequest>> _requests = new();
    private readonly Dictionary<IActorRef, BatchBuffer<BatchedReply>> _replies = new();
    private readonly ReplyTable<IActorRef> _waiting = new();
    // Reply refs that a region needed a path for (it forwarded the request to another node): they
    // are registered as temporary actors until their reply or, at the latest, two rotations.
    private readonly ConcurrentQueue<BatchReplyRef> _registered = new();
    private readonly List<BatchReplyRef> _registeredBefore = new();
    private bool _flushScheduled;
    // What was sent, per kind (Requests, Replies): batches, and the items they carried.
    private const int Requests = 0, Replies = 1;
    private readonly long[] _batches = new long[2];
    private readonly long[] _items = new long[2];

    private readonly Action<IActorRef, BatchBuffer<BatchedRequest>> _sendRequests;
    private readonly Action<IActorRef, BatchBuffer<BatchedReply>> _sendReplies;

    public Courier(IActorRef region, string selfNode)
    {
        _region = region;
        _self = selfNode;
        _provider = ((ExtendedActorSystem)Context.System).Provider;
        // Made once: a method group passed as a delegate is a new delegate on every call.
        _sendRequests = SendRequests;
        _sendReplies = SendReplies;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props PropsFor(IActorRef region, string selfNode) => Props.Create(() => new Courier(region, selfNode));

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("forget", Forget.Instance, ForgetAfter);
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        while (_registered.TryDequeue(out var r)) r.Unregister();
        foreach (var r in _registeredBefore) r.Unregister();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ToSlot to:
                if (!_peers.TryGetValue(to.Node, out var peer))
                {
                    // Not a node that takes batches (any more): the region carries it, as before.
                    _region.Tell(to.Envelope, Sender);
                    return;
                }
                var id = to.ReplyWanted ? _waiting.Add(Sender) : 0;
                Enqueue(_requests, peer, new BatchedRequest(id, to.Envelope), to.Bytes, _sendRequests);
                break;
            case SlotBatch batch:
                var origin = Sender;
                foreach (var item in batch.Items)
                    _region.Tell(item.Envelope, item.ReplyId == 0 ? ActorRefs.NoSender : new BatchReplyRef(Self, origin, item.ReplyId, _provider, _registered));
                break;
            case BatchReplyRef.Reply reply:
                Enqueue(_replies, reply.Origin, new BatchedReply(reply.ReplyId, reply.Message), EstimateBytes(reply.Message), _sendReplies);
                break;
            case ReplyBatch replies:
                foreach (var item in replies.Items)
                    if (_waiting.TryTake(item.ReplyId, out var replyTo)) replyTo.Tell(item.Reply, ActorRefs.NoSender);
                break;
            case Flush:
                _flushScheduled = false;
                foreach (var (to, buffer) in _requests)
                    if (!buffer.IsEmpty) SendRequests(to, buffer);
                foreach (var (to, buffer) in _replies)
                    if (!buffer.IsEmpty) SendReplies(to, buffer);
                break;
            case Forget:
                var dropped = _waiting.Rotate();
                if (dropped > 0) _log.Debug("courier: {0} requests got no reply within {1}", dropped, ForgetAfter);
                foreach (var r in _registeredBefore) r.Unregister();
                _registeredBefore.Clear();
                while (_registered.TryDequeue(out var r)) _registeredBefore.Add(r);
                break;
            case GetCourierStats:
                Sender.Tell(new CourierStats(_peers.Keys.ToImmutableSortedSet(StringComparer.Ordinal), _batches[Requests], _items[Requests], _batches[Replies], _items[Replies], _waiting.Count));
                break;
            case ClusterEvent.IClusterDomainEvent or ClusterEvent.CurrentClusterState:
                _members = ClusterMembership.Apply(_members, message);
                UpdatePeers();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Enqueue<T>(Dictionary<IActorRef, BatchBuffer<T>> buffers, IActorRef to, T item, long bytes, Action<IActorRef, BatchBuffer<T>> send)
    {
        if (!buffers.TryGetValue(to, out var buffer)) buffers[to] = buffer = new BatchBuffer<T>(MaxBatchBytes, MaxBatchItems);
        if (buffer.MustSendBefore(bytes)) send(to, buffer);
        buffer.Add(item, bytes);
        if (_flushScheduled) return;
        _flushScheduled = true;
        // Through the thread pool's queue, not straight into the mailbox: the flush comes after the
        // work queued before it (other coordinators, other replicas), which adds to the batch.
        ThreadPool.UnsafeQueueUserWorkItem(static self => self.Tell(Flush.Instance), Self, preferLocal: false);
    }

    private void SendRequests(IActorRef to, BatchBuffer<BatchedRequest> buffer)
    {
        var items = ValueList.From(buffer.Take());
        Send(to, new SlotBatch(items), items.Count, replies: false);
    }

    private void SendReplies(IActorRef to, BatchBuffer<BatchedReply> buffer)
    {
        var items = ValueList.From(buffer.Take());
        Send(to, new ReplyBatch(items), items.Count, replies: true);
    }

    private void Send(IActorRef to, IKvMessage batch, int items, bool replies)
    {
        to.Tell(batch, Self);
        var kind = replies ? Replies : Requests;
        _batches[kind]++;
        _items[kind] += items;
        KvMetrics.BatchSent(items, replies);
    }

    private void UpdatePeers()
    {
        var peers = BatchPeers.Of(_members, _self);
        if (peers.Count == _peerAddresses.Count && peers.All(p => _peerAddresses.TryGetValue(p.Key, out var a) && a == p.Value)) return;
        _peerAddresses = peers;
        _peers.Clear();
        foreach (var (node, address) in peers)
            _peers[node] = _provider.ResolveActorRef(NodeActors.PathOn(Address.Parse(address), NodeActors.Courier));
        // Buffers for nodes that left go with them (what they held was sent at the last flush).
        foreach (var gone in _requests.Keys.Where(r => !_peers.ContainsValue(r)).ToList()) _requests.Remove(gone);
        foreach (var gone in _replies.Where(r => r.Value.IsEmpty && !_peers.ContainsValue(r.Key)).Select(r => r.Key).ToList()) _replies.Remove(gone);
        _log.Info("courier: batches go to [{0}]", string.Join(", ", _peers.Keys.Order(StringComparer.Ordinal)));
    }

    /// <summary>
    /// A request's size in a batch, from above (<see cref="FetchPage.SizeOf(Bytes, Versioning.SiblingSet)"/>
    /// for versions), or -1 for a kind that does not go in batches (hash operations and
    /// transactions, whose size is not worth estimating: they travel alone, as before).
    /// </summary>
    public static long EstimateBytes(IReplicaCommand command) => command switch
    {
        ReplicaRead r => Overhead + r.Key.Length,
        ReplicaPut { HashOps: null, Transaction: null } p => Overhead + p.Key.Length + (p.Value?.Length ?? 0) + ContextBytes(p.Context),
        ReplicaMerge m => Overhead + FetchPage.SizeOf(m.Key, m.Siblings),
        _ => -1,
    };

    /// <summary>A reply's size in a batch, from above.</summary>
    public static long EstimateBytes(IKvMessage reply) => reply switch
    {
        ReplicaReadResult r => Overhead + r.Node.Length + FetchPage.SizeOf(Bytes.Empty, r.Siblings),
        ReplicaPutDone d => Overhead + d.Node.Length + FetchPage.SizeOf(Bytes.Empty, d.Siblings) + ContextBytes(d.Written) + 16L * (d.Results?.Count ?? 0) + 64L * (d.Outcomes?.Count ?? 0),
        ReplicaPutRejected x => Overhead + x.Node.Length + 3L * x.Reason.Length,
        ReplicaNotReady n => Overhead + n.Node.Length,
        ReplicaMergeDone d => Overhead + d.Node.Length,
        _ => MaxBatchBytes,
    };

    // An item's fixed part, from above: its id, the slot, the manifest, the request id, lengths.
    private const long Overhead = 64;

    private static long ContextBytes(Versioning.VersionVector? context) =>
        context is null ? 0 : 32L * context.Entries.Count + context.Entries.Sum(e => (long)e.Key.Length);

    private sealed class Flush
    {
        public static readonly Flush Instance = new();
    }

    private sealed class Forget
    {
        public static readonly Forget Instance = new();
    }
}

/// <summary>
/// The sender a receiving <see cref="Courier"/> gives each request of a batch: what a replica tells
/// it goes back to the origin node in the next batch of replies, under the request's id. It has a
/// path only when something asks for one (a region forwarding the request to another node, because
/// the slot moved, writes it into the remote message): then it registers as a temporary actor, so a
/// reply sent to it from that node still finds its way, until its first reply or the courier's sweep.
/// </summary>
internal sealed class BatchReplyRef : MinimalActorRef
{
    private readonly IActorRef _courier;
    private readonly IActorRef _origin;
    private readonly long _replyId;
    private readonly IActorRefProvider _provider;
    private readonly ConcurrentQueue<BatchReplyRef> _registered;
    private ActorPath? _path;
    private int _unregistered;

    public BatchReplyRef(IActorRef courier, IActorRef origin, long replyId, IActorRefProvider provider, ConcurrentQueue<BatchReplyRef> registered)
    {
        _courier = courier;
        _origin = origin;
        _replyId = replyId;
        _provider = provider;
        _registered = registered;
    }

    public override IActorRefProvider Provider => _provider;

    public override ActorPath Path
    {
        get
        {
            if (Volatile.Read(ref _path) is { } path) return path;
            var fresh = _provider.TempPath();
            if (Interlocked.CompareExchange(ref _path, fresh, null) is { } won) return won;
            _provider.RegisterTempActor(this, fresh);
            _registered.Enqueue(this);
            return fresh;
        }
    }

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is IKvMessage reply) _courier.Tell(new Reply(_origin, _replyId, reply));
        Unregister();
    }

    /// <summary>Removes the temporary registration, if there is one, once.</summary>
    public void Unregister()
    {
        if (Volatile.Read(ref _path) is { } path && Interlocked.Exchange(ref _unregistered, 1) == 0) _provider.UnregisterTempActor(path);
    }

    /// <summary>Local only: a replica's reply, for the courier to put in the origin's next batch of replies.</summary>
    internal sealed record Reply(IActorRef Origin, long ReplyId, IKvMessage Message);
}

/// <summary>
/// How a coordinator sends a request to a replica slot: to the slot's node in a batch, through the
/// courier, when the slot is believed to be on another node and the request is of a kind that goes
/// in batches; otherwise straight to the shard region. Without a courier (tests of one coordinator),
/// always the region.
/// </summary>
internal sealed class SlotSender(IActorRef region, IActorRef? courier, string selfNode)
{
    public IActorRef Region => region;

    public void Send(SlotId slot, string node, IReplicaCommand command, IActorRef sender)
    {
        var envelope = new SlotEnvelope(slot, command);
        var bytes = courier is null || node == selfNode || node == "?" ? -1 : Courier.EstimateBytes(command);
        if (bytes < 0) region.Tell(envelope, sender);
        else courier!.Tell(new ToSlot(node, envelope, bytes, command is not ReplicaMerge { AckWanted: false }), sender);
    }
}
