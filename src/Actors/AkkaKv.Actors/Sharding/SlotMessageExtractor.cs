using Akka.Cluster.Sharding;
using AkkaKv.Replica;

namespace AkkaKv.Sharding;

/// <summary>
/// Entity id = shard id = the slot <c>"{p}/{i}"</c>: one replica slot per shard, so the allocation
/// strategy places replicas individually. An envelope for a slot outside the ring (a partition past
/// the partition count, a replica index past N) has no entity: the region drops it, so no message
/// from the wire can start a replica (and a journal) that the ring does not have.
/// </summary>
internal sealed class SlotMessageExtractor(int partitionCount, int replicationFactor) : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        SlotEnvelope e when PeerInput.CheckSlot(e.Slot, partitionCount, replicationFactor) is null => e.Slot.ToString(),
        _ => null,
    };

    public object? EntityMessage(object message) => message is SlotEnvelope e ? e.Command : message;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
