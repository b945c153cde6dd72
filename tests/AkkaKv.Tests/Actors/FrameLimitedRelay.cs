using Akka.Actor;
using AkkaKv.Replica;
using AkkaKv.Ring;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// Stands in for the shard region between real replica actors that sit on different nodes: an
/// envelope for a local slot goes straight to its replica (sender kept, nothing serialized, as in
/// one process); an envelope for a remote slot, and every reply that replica sends back, crosses
/// "the wire": serialized with the node's serializer (KvSerializer, as bound in the spec's config),
/// dropped when the frame is over <c>maxFrameBytes</c> (as Akka.Remote drops a payload over
/// <c>maximum-frame-size</c>, with nothing told to the sender), else deserialized and delivered.
/// An envelope for a slot not routed yet waits for its <see cref="Route"/>.
/// <see cref="GetWireStats"/> answers what crossed and what was dropped.
/// </summary>
internal sealed class FrameLimitedRelay : ReceiveActor
{
    /// <summary>Where a slot's replica is, and whether it is on another node.</summary>
    public sealed record Route(SlotId Slot, IActorRef Replica, bool Remote);

    public sealed record GetWireStats;

    /// <param name="Frames">Frames that crossed (delivered or dropped).</param>
    /// <param name="Largest">The largest frame, in bytes.</param>
    /// <param name="Dropped">Manifests and sizes of the frames over the limit.</param>
    public sealed record WireStats(int Frames, long Largest, IReadOnlyList<(string Type, long Bytes)> Dropped);

    /// <summary>A frame that crossed, seen by the relay (the wire hops are its children).</summary>
    private sealed record Crossed(string Type, long Bytes, bool Dropped);

    private readonly long _maxFrameBytes;
    private readonly Dictionary<SlotId, (IActorRef Replica, bool Remote)> _routes = new();
    private readonly Dictionary<IActorRef, IActorRef> _hops = new();
    // Envelopes for a slot whose replica is not routed yet (it may be started before its route is known).
    private readonly List<(SlotEnvelope Envelope, IActorRef Sender)> _unrouted = new();
    private readonly List<(string, long)> _dropped = new();
    private int _frames;
    private long _largest;

    public FrameLimitedRelay(long maxFrameBytes)
    {
        _maxFrameBytes = maxFrameBytes;
        Receive<Route>(r =>
        {
            _routes[r.Slot] = (r.Replica, r.Remote);
            var waiting = _unrouted.Where(w => w.Envelope.Slot == r.Slot).ToList();
            _unrouted.RemoveAll(w => w.Envelope.Slot == r.Slot);
            foreach (var (e, sender) in waiting) Deliver(e, sender);
        });
        Receive<Crossed>(c =>
        {
            _frames++;
            _largest = Math.Max(_largest, c.Bytes);
            if (c.Dropped) _dropped.Add((c.Type, c.Bytes));
        });
        Receive<GetWireStats>(_ => Sender.Tell(new WireStats(_frames, _largest, _dropped.ToList())));
        Receive<SlotEnvelope>(e =>
        {
            if (_routes.ContainsKey(e.Slot)) Deliver(e, Sender);
            else _unrouted.Add((e, Sender));
        });
    }

    private void Deliver(SlotEnvelope e, IActorRef sender)
    {
        var (replica, remote) = _routes[e.Slot];
        if (!remote) replica.Tell(e.Command, sender);
        // The command crosses to the remote node; its replies cross back through a hop.
        else if (Cross(Context.System, _maxFrameBytes, e, Self) is SlotEnvelope arrived) replica.Tell(arrived.Command, HopTo(sender));
    }

    public static Props PropsFor(long maxFrameBytes) => Props.Create(() => new FrameLimitedRelay(maxFrameBytes));

    private IActorRef HopTo(IActorRef target)
    {
        if (!_hops.TryGetValue(target, out var hop))
            _hops[target] = hop = Context.ActorOf(Props.Create(() => new WireHop(target, _maxFrameBytes, Self)));
        return hop;
    }

    /// <summary>
    /// <paramref name="message"/> as the other end of a remoting connection gets it: a deserialized
    /// copy, or null when its frame is over <paramref name="maxFrameBytes"/> (dropped). Tells
    /// <paramref name="relay"/> what crossed.
    /// </summary>
    private static object? Cross(ActorSystem system, long maxFrameBytes, object message, IActorRef relay)
    {
        var serializer = system.Serialization.FindSerializerFor(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var frame = serializer.ToBinary(message);
        var dropped = frame.LongLength > maxFrameBytes;
        relay.Tell(new Crossed(message.GetType().Name, frame.LongLength, dropped));
        return dropped ? null : system.Serialization.Deserialize(frame, serializer.Identifier, manifest);
    }

    /// <summary>The way back from a remote replica to one sender: every reply crosses the wire.</summary>
    private sealed class WireHop : ReceiveActor
    {
        public WireHop(IActorRef target, long maxFrameBytes, IActorRef relay) =>
            ReceiveAny(m =>
            {
                if (Cross(Context.System, maxFrameBytes, m, relay) is { } arrived) target.Tell(arrived, Sender);
            });
    }
}
