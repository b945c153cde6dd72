using AkkaKv.Sharding;
using Xunit;

namespace AkkaKv.Tests.Actors;

public sealed class SlotMessageExtractorTests
{
    private readonly SlotMessageExtractor _extractor = new(partitionCount: 256, replicationFactor: 3);

    [Fact]
    public void An_envelope_for_a_slot_of_the_ring_names_its_entity()
    {
        var command = new ListTombstones(1, 0);
        var envelope = new SlotEnvelope(new SlotId(255, 2), command);
        Assert.Equal("255/2", _extractor.EntityId(envelope));
        Assert.Equal("255/2", _extractor.ShardId(envelope));
        Assert.Same(command, _extractor.EntityMessage(envelope));
    }

    [Theory]
    [InlineData(256, 0)]
    [InlineData(0, 3)]
    [InlineData(-1, 0)]
    [InlineData(int.MaxValue, int.MaxValue)]
    public void An_envelope_for_a_slot_outside_the_ring_has_no_entity_so_the_region_drops_it(int partition, int index)
    {
        var envelope = new SlotEnvelope(new SlotId(partition, index), new ListTombstones(1, 0));
        Assert.Null(_extractor.EntityId(envelope));
        Assert.Null(_extractor.ShardId(envelope));
    }
}
