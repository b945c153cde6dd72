using Akka.Cluster.Sharding;
using AkkaKv.Replica;

namespace AkkaKv.Sharding;

/// <summary>Entity id = shard id = the slot <c>"{p}/{i}"</c>: one replica slot per shard, so the allocation strategy places replicas individually.</summary>
internal sealed class SlotMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) => message switch
    {
        SlotEnvelope e => e.Slot.ToString(),
        _ => null,
    };

    public object? EntityMessage(object message) => message is SlotEnvelope e ? e.Command : message;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
