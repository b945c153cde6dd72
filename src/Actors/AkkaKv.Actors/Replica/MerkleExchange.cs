using Akka.Actor;
using AkkaKv.Configuration;
using AkkaKv.Merkle;
using AkkaKv.Replica;
using AkkaKv.Ring;
using AkkaKv.Placement;
using AkkaKv.Sharding;
using AkkaKv.Versioning;

namespace AkkaKv.Replica;

/// <summary>What one exchange between two replica slots of a partition found and did.</summary>
/// <param name="InSync">The two trees' roots were equal (nothing to repair).</param>
/// <param name="KeysRepaired">Keys merged into at least one side.</param>
/// <param name="BytesExchanged">Payload bytes of the exchange: node hashes, leaf entries and fetched sibling sets (both sides).</param>
/// <param name="Error">Why the exchange was abandoned, or null.</param>
/// <param name="GenerationAhead">When the two slots were at different tombstone-GC generations (nothing was copied): the later one.</param>
internal sealed record ExchangeResult(SlotId A, SlotId B, bool InSync, int KeysRepaired, long BytesExchanged, int NodesCompared, string? Error,
    long? GenerationAhead = null);

/// <summary>
/// One Merkle exchange between replica slots <c>A</c> and <c>B</c> of a partition, then stops: asks
/// both for their root and its children, descends level by level only into children whose hashes
/// differ, compares the differing leaves key by key, fetches just those keys from both sides and
/// sends each side what it lacks (<see cref="ReplicaMerge"/>: merged by clock, siblings kept). Both
/// slots are addressed through the shard region, so it does not matter which node holds which.
/// At most <c>anti-entropy.max-keys-per-exchange</c> keys are repaired per exchange, fewer when
/// their versions pass <c>limits.max-repair-reply-bytes</c> (each side's fetch reply is a prefix of
/// the keys asked, paged by bytes: <see cref="FetchPage"/>; the next exchange takes the rest). The
/// (key, digest) entries of the differing leaves come in pages of the same byte budget too
/// (<see cref="LeafPage"/>), walked until the leaves are done or enough differing keys are found,
/// so no answer of an exchange depends on the frame limit however many keys a leaf holds. Two slots at
/// different tombstone-GC generations are not repaired from each other: the one behind is told to
/// reset (<see cref="GcGenerationSeen"/>).
/// </summary>
internal sealed class MerkleExchange : ReceiveActor, IWithTimers
{
    private readonly long _id;
    private readonly SlotId _a;
    private readonly SlotId _b;
    private readonly KvSettings _settings;
    private readonly IActorRef _region;
    private readonly IActorRef _replyTo;
    private readonly MerkleShape _shape;
    private readonly TimeSpan _stepTimeout;
    private readonly int _maxKeys;
    private MerkleNodes? _nodesA, _nodesB;
    private MerkleLeaves? _leavesA, _leavesB;
    /// <summary>The differing leaves being paged through, and the differing keys found in their pages so far.</summary>
    private ValueList<int> _leaves = ValueList<int>.Empty;
    private readonly List<Bytes> _differingKeys = [];
    private ReplicaFetched? _fetchedA, _fetchedB;
    /// <summary>
    /// A key whose versions on one side are over the repair budget, moved sibling page by sibling
    /// page; what each side holds of it (or has been sent); whether each side has more to send.
    /// </summary>
    private Bytes? _bigKey;
    private readonly HashSet<Dot> _heldByA = [], _heldByB = [];
    private bool _pagingA, _pagingB;
    private long _bytes;
    private int _nodesCompared;
    private int _keysRepaired;
    private int _acksPending;

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed class StepTimeout
    {
        public static readonly StepTimeout Instance = new();
    }

    public MerkleExchange(long id, SlotId a, SlotId b, KvSettings settings, IActorRef region, IActorRef replyTo, TimeSpan stepTimeout, int maxKeys)
    {
        _stepTimeout = stepTimeout;
        _maxKeys = maxKeys;
        _id = id;
        _a = a;
        _b = b;
        _settings = settings;
        _region = region;
        _replyTo = replyTo;
        _shape = MerkleShape.Of(settings);
        Receive<MerkleNodes>(m => m.RequestId == _id, OnNodes);
        Receive<MerkleLeaves>(m => m.RequestId == _id, OnLeaves);
        Receive<ReplicaFetched>(m => m.RequestId == _id, OnFetched);
        Receive<ReplicaMergeDone>(m => m.RequestId == _id, _ =>
        {
            _acksPending--;
            FinishWhenDone();
        });
        Receive<StepTimeout>(_ => Finish(inSync: false, error: $"a replica did not answer within {_stepTimeout.TotalSeconds:0.#} s"));
    }

    /// <summary>A round's exchange: <c>exchange-timeout</c> per step, <c>max-keys-per-exchange</c> keys.</summary>
    public static Props PropsFor(long id, SlotId a, SlotId b, KvSettings settings, IActorRef region, IActorRef replyTo) =>
        PropsFor(id, a, b, settings, region, replyTo, settings.AntiEntropyExchangeTimeout, settings.AntiEntropyMaxKeysPerExchange);

    public static Props PropsFor(long id, SlotId a, SlotId b, KvSettings settings, IActorRef region, IActorRef replyTo, TimeSpan stepTimeout, int maxKeys) =>
        Props.Create(() => new MerkleExchange(id, a, b, settings, region, replyTo, stepTimeout, maxKeys));

    protected override void PreStart() => AskBoth(new MerkleNodesRequest(_id, 0, ValueList.From([0])));

    private void AskBoth(IReplicaCommand command)
    {
        _region.Tell(new SlotEnvelope(_a, command));
        _region.Tell(new SlotEnvelope(_b, command));
        Timers.StartSingleTimer("step", StepTimeout.Instance, _stepTimeout);
    }

    private bool IsA(SlotId slot) => slot == _a;

    private void OnNodes(MerkleNodes m)
    {
        if (IsA(m.Slot)) _nodesA = m; else _nodesB = m;
        if (_nodesA is not { } a || _nodesB is not { } b) return;
        _nodesA = _nodesB = null;
        if (a.Depth != _shape.Depth || b.Depth != _shape.Depth || a.Fanout != _shape.Fanout || b.Fanout != _shape.Fanout)
        {
            Finish(inSync: false, error: $"Merkle tree shapes differ (fanout/depth {a.Fanout}/{a.Depth} on {a.Node}, {b.Fanout}/{b.Depth} on {b.Node}, {_shape.Fanout}/{_shape.Depth} here): check anti-entropy.tree-* on every node");
            return;
        }
        _bytes += 8L * (2 + a.ChildHashes.Count + b.ChildHashes.Count);
        if (a.GcGeneration != b.GcGeneration)
        {
            // One journal missed a tombstone purge: it may hold values whose tombstones are gone,
            // so nothing is copied between the two; the one behind drops its keys and catches up.
            var (behind, ahead) = a.GcGeneration < b.GcGeneration ? (a, b) : (b, a);
            _region.Tell(new SlotEnvelope(behind.Slot, new GcGenerationSeen(_id, ahead.GcGeneration)));
            Finish(inSync: false, error: $"replica {behind.Slot} on {behind.Node} is at tombstone-GC generation {behind.GcGeneration}, behind {ahead.Slot} on {ahead.Node} at {ahead.GcGeneration}: it resets and catches up",
                generationAhead: ahead.GcGeneration);
            return;
        }
        if (a.Level == 0 && a.Root == b.Root)
        {
            _nodesCompared += 1;
            Finish(inSync: true, error: null);
            return;
        }
        // Both answered the same indexes (the same request); compare each node's children.
        var differing = new List<int>();
        var fanout = _shape.Fanout;
        for (var n = 0; n < a.Indexes.Count && n < b.Indexes.Count; n++)
        {
            var mine = a.ChildHashes.Skip(n * fanout).Take(fanout).ToList();
            var theirs = b.ChildHashes.Skip(n * fanout).Take(fanout).ToList();
            _nodesCompared += fanout;
            differing.AddRange(MerkleTree.DifferingChildren(a.Indexes[n], mine, theirs));
        }
        if (differing.Count == 0)
        {
            // The roots differed but no child does: a write landed between the two answers.
            Finish(inSync: false, error: null);
            return;
        }
        var next = a.Level + 1;
        if (next == _shape.Depth)
        {
            _leaves = ValueList.From(differing);
            AskBoth(new MerkleLeavesRequest(_id, _leaves));
        }
        else AskBoth(new MerkleNodesRequest(_id, next, ValueList.From(differing)));
    }

    private void OnLeaves(MerkleLeaves m)
    {
        if (IsA(m.Slot)) _leavesA = m; else _leavesB = m;
        if (_leavesA is not { } a || _leavesB is not { } b) return;
        _leavesA = _leavesB = null;
        _bytes += a.Entries.Sum(e => (long)e.Key.Length + 8) + b.Entries.Sum(e => (long)e.Key.Length + 8);
        // Each side answers a page of its entries (LeafPage, paged by bytes); keys are compared up
        // to where the shorter page ends, and the next pages start there, until the leaves are
        // done or max-keys-per-exchange differing keys are found.
        var compared = LeafPage.Compare(new LeafPage(a.Entries, a.More), new LeafPage(b.Entries, b.More));
        _differingKeys.AddRange(compared.Differing);
        if (compared.Next is { } next && _differingKeys.Count < _maxKeys)
        {
            AskBoth(new MerkleLeavesRequest(_id, _leaves, next));
            return;
        }
        var keys = _differingKeys.Take(_maxKeys).ToArray();
        if (keys.Length == 0)
        {
            Finish(inSync: false, error: null);
            return;
        }
        AskBoth(new ReplicaFetch(_id, ValueList.From(keys)));
    }

    private void OnFetched(ReplicaFetched m)
    {
        if (_bigKey is not null)
        {
            OnBigKeyPage(m);
            return;
        }
        if (IsA(m.Slot)) _fetchedA = m; else _fetchedB = m;
        if (_fetchedA is not { } a || _fetchedB is not { } b) return;
        Timers.Cancel("step");
        if (a.Truncated is not null || b.Truncated is not null)
        {
            StartBigKey(a, b);
            return;
        }
        // Each reply is a prefix of the keys asked, paged by bytes (FetchPage), at least the first:
        // only the keys both sides sent are repaired now (a key one side left out is not absent
        // there, only not sent). The rest still differ, so the next exchange of the pair fetches them.
        var both = CommonPrefix(a.Entries, b.Entries);
        for (var i = 0; i < both; i++)
        {
            var (key, mine) = a.Entries[i];
            var other = b.Entries[i].Value;
            _bytes += FetchPage.SizeOf(key, mine) + FetchPage.SizeOf(key, other);
            var merged = mine.Merge(other);
            var repaired = false;
            if (!merged.Equals(mine)) { Send(_a, key, other); repaired = true; }
            if (!merged.Equals(other)) { Send(_b, key, mine); repaired = true; }
            if (repaired) _keysRepaired++;
        }
        FinishWhenDone();
    }

    /// <summary>
    /// The first key asked is over the repair budget on at least one side, which sent part of its
    /// versions and the dots of all of them. Each side is sent what it lacks of the other's part,
    /// and a side with more is asked for its versions the other does not hold, page by page, until
    /// it has nothing left the other lacks. Merging part of a key's versions is safe: a merge
    /// keeps every sibling no other one supersedes, so the pages add up to the whole merge.
    /// </summary>
    private void StartBigKey(ReplicaFetched a, ReplicaFetched b)
    {
        var (key, partA) = a.Entries[0];
        var partB = b.Entries.Count > 0 && b.Entries[0].Key.Equals(key) ? b.Entries[0].Value : SiblingSet.Empty;
        _bigKey = key;
        _heldByA.UnionWith(a.Truncated ?? partA.Siblings.Select(s => s.Dot));
        _heldByB.UnionWith(b.Truncated ?? partB.Siblings.Select(s => s.Dot));
        _pagingA = a.Truncated is not null;
        _pagingB = b.Truncated is not null;
        var sent = Deliver(_b, _heldByB, partA) | Deliver(_a, _heldByA, partB);
        if (sent) _keysRepaired++;
        if (_pagingA) AskForMore(_a, _heldByB);
        if (_pagingB) AskForMore(_b, _heldByA);
        FinishWhenDone();
    }

    private void OnBigKeyPage(ReplicaFetched m)
    {
        var fromA = IsA(m.Slot);
        var part = m.Entries.Count > 0 ? m.Entries[0].Value : SiblingSet.Empty;
        var heldByOther = fromA ? _heldByB : _heldByA;
        var sentNew = Deliver(fromA ? _b : _a, heldByOther, part);
        // More left only while each page brings versions the other side lacks (it always does:
        // the page leaves out what the other holds), so this ends.
        var more = m.Truncated is not null && sentNew;
        if (fromA) _pagingA = more; else _pagingB = more;
        if (more) AskForMore(m.Slot, heldByOther);
        FinishWhenDone();
    }

    /// <summary>Sends <paramref name="to"/> the siblings of <paramref name="part"/> it does not hold; true when there were any.</summary>
    private bool Deliver(SlotId to, HashSet<Dot> heldByTo, SiblingSet part)
    {
        _bytes += FetchPage.SizeOf(_bigKey!, part);
        var missing = part.Siblings.Where(s => !heldByTo.Contains(s.Dot)).ToList();
        if (missing.Count == 0) return false;
        heldByTo.UnionWith(missing.Select(s => s.Dot));
        Send(to, _bigKey!, SiblingSet.Of(missing));
        return true;
    }

    private void AskForMore(SlotId from, HashSet<Dot> heldByOther)
    {
        _region.Tell(new SlotEnvelope(from, new ReplicaFetch(_id, ValueList.From([_bigKey!]), ValueList.From(heldByOther))));
        Timers.StartSingleTimer("step", StepTimeout.Instance, _stepTimeout);
    }

    /// <summary>Finishes once every merge sent is acknowledged and no side has versions left to page; until then a step must answer in time.</summary>
    private void FinishWhenDone()
    {
        if (_acksPending == 0 && !_pagingA && !_pagingB) Finish(inSync: false, error: null);
        else Timers.StartSingleTimer("step", StepTimeout.Instance, _stepTimeout);
    }

    /// <summary>How many leading entries name the same keys in both replies (both answer the same request, in its order).</summary>
    private static int CommonPrefix(ValueList<KeyValuePair<Bytes, SiblingSet>> a, ValueList<KeyValuePair<Bytes, SiblingSet>> b)
    {
        var n = 0;
        while (n < a.Count && n < b.Count && a[n].Key.Equals(b[n].Key)) n++;
        return n;
    }

    private void Send(SlotId to, Bytes key, SiblingSet siblings)
    {
        _acksPending++;
        _region.Tell(new SlotEnvelope(to, new ReplicaMerge(_id, key, siblings, AckWanted: true)));
    }

    private void Finish(bool inSync, string? error, long? generationAhead = null)
    {
        _replyTo.Tell(new ExchangeResult(_a, _b, inSync, _keysRepaired, _bytes, _nodesCompared, error, generationAhead));
        Context.Stop(Self);
    }
}
