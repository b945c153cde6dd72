using System.Collections.Immutable;
using Akka.Actor;
using AkkaKv.AntiEntropy;
using AkkaKv.Replica;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// Stands in for the shard region a replica under test reaches its peers through: envelopes for
/// the replica's own slot go to the replica (sender kept); envelopes for a peer slot are answered
/// from that peer's in-memory keys, as a real replica answers them (Merkle nodes and leaves,
/// fetches paged by bytes, merges). Every envelope for a peer is also copied to <c>observer</c>, so a spec sees
/// what the replica asked and sent. A peer can be held (nothing it gets is answered until it is
/// released) or silent (never answers).
/// </summary>
internal sealed class FakePeerRegion : ReceiveActor
{
    public sealed record Peer(ImmutableSortedDictionary<Bytes, SiblingSet> Keys, long GcGeneration = 0, bool Silent = false)
    {
        public static readonly Peer Empty = new(ImmutableSortedDictionary<Bytes, SiblingSet>.Empty);

        public static Peer Of(long generation, params (string Key, SiblingSet Siblings)[] keys) =>
            new(ImmutableSortedDictionary.CreateRange(keys.Select(k => KeyValuePair.Create(Bytes.FromUtf8(k.Key), k.Siblings))), generation);
    }

    /// <summary>The replica under test (its own slot's envelopes go there).</summary>
    public sealed record Serve(IActorRef Replica);

    public sealed record SetPeer(int Index, Peer Peer);

    public sealed record Hold(int Index);

    public sealed record Release(int Index);

    /// <summary>Answered with the peer's current <see cref="Peer"/>.</summary>
    public sealed record GetPeer(int Index);

    private readonly AkkaKv.Configuration.KvSettings _settings;
    private readonly SlotId _own;
    private readonly IActorRef _observer;
    private readonly Dictionary<int, Peer> _peers = new();
    private readonly Dictionary<int, List<(SlotEnvelope Envelope, IActorRef Sender)>> _held = new();
    private readonly List<(SlotEnvelope Envelope, IActorRef Sender)> _beforeReplica = new();
    private IActorRef? _replica;

    public FakePeerRegion(AkkaKv.Configuration.KvSettings settings, SlotId own, IActorRef observer)
    {
        _settings = settings;
        _own = own;
        _observer = observer;
        Receive<Serve>(s =>
        {
            _replica = s.Replica;
            foreach (var (e, sender) in _beforeReplica) _replica.Tell(e.Command, sender);
            _beforeReplica.Clear();
        });
        Receive<SetPeer>(p => _peers[p.Index] = p.Peer);
        Receive<Hold>(h => _held.TryAdd(h.Index, []));
        Receive<Release>(r =>
        {
            if (!_held.Remove(r.Index, out var queued)) return;
            foreach (var (e, sender) in queued) Answer(e, sender);
        });
        Receive<GetPeer>(g => Sender.Tell(PeerAt(g.Index)));
        Receive<SlotEnvelope>(e =>
        {
            if (e.Slot == _own)
            {
                if (_replica is null) _beforeReplica.Add((e, Sender));
                else _replica.Tell(e.Command, Sender);
                return;
            }
            _observer.Tell(e);
            if (_held.TryGetValue(e.Slot.Index, out var queue)) queue.Add((e, Sender));
            else Answer(e, Sender);
        });
    }

    public static Props PropsFor(AkkaKv.Configuration.KvSettings settings, SlotId own, IActorRef observer) =>
        Props.Create(() => new FakePeerRegion(settings, own, observer));

    private Peer PeerAt(int index) => _peers.GetValueOrDefault(index) ?? Peer.Empty;

    private void Answer(SlotEnvelope e, IActorRef sender)
    {
        var index = e.Slot.Index;
        var peer = PeerAt(index);
        if (peer.Silent) return;
        var tree = MerkleTree.Build(MerkleShape.Of(_settings), peer.Keys);
        switch (e.Command)
        {
            case MerkleNodesRequest r:
                sender.Tell(MerkleReplies.Nodes(r, tree, e.Slot, $"peer{index}", peer.GcGeneration));
                break;
            case MerkleLeavesRequest r:
                sender.Tell(MerkleReplies.Leaves(r, tree, e.Slot, _settings.MaxRepairReplyBytes));
                break;
            case ReplicaFetch f:
                var page = FetchPage.Page(f.Keys.Select(k => KeyValuePair.Create(k, peer.Keys.GetValueOrDefault(k) ?? SiblingSet.Empty)),
                    _settings.MaxRepairReplyBytes, f.Except?.ToHashSet());
                sender.Tell(new ReplicaFetched(f.RequestId, e.Slot, ValueList.From(page.Entries), page.Truncated));
                break;
            case ListTombstones l:
                sender.Tell(new TombstoneList(l.RequestId, e.Slot, peer.GcGeneration, ValueList<MerkleEntry>.Empty));
                break;
            case ReplicaMerge m:
                var merged = (peer.Keys.GetValueOrDefault(m.Key) ?? SiblingSet.Empty).Merge(m.Siblings);
                _peers[index] = peer with { Keys = peer.Keys.SetItem(m.Key, merged) };
                if (m.AckWanted) sender.Tell(new ReplicaMergeDone(m.RequestId, e.Slot, $"peer{index}"));
                break;
        }
    }
}
