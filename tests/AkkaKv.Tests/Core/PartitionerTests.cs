using AkkaKv.Ring;
using CsCheck;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Core;

public sealed class PartitionerTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(255)]
    [InlineData(-4)]
    [InlineData(int.MinValue)]
    public void A_partition_count_that_is_not_a_power_of_two_of_at_least_2_is_refused(int q)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Partitioner(q));
        Assert.Contains("power of two", e.Message);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(256)]
    [InlineData(1 << 30)]
    public void Any_power_of_two_of_at_least_2_is_a_valid_partition_count(int q) =>
        Assert.Equal(q, new Partitioner(q).PartitionCount);

    [Fact]
    public void The_hash_of_a_key_is_xxHash64_with_seed_0_and_never_changes()
    {
        // Published xxHash64 test vector: the ring and every stored key depend on this staying fixed.
        Assert.Equal(0x26C7827D889F6DA3UL, KeyHash.Of("hello"));
        Assert.Equal(0xEF46DB3751D8E999UL, KeyHash.Of(Bytes.Empty));
        Assert.Equal(KeyHash.Of("hello"), KeyHash.Of(Bytes.FromUtf8("hello")));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(256, 8)]
    [InlineData(1024, 10)]
    public void A_key_lands_in_the_partition_named_by_the_top_log2_Q_bits_of_its_hash(int q, int log2Q)
    {
        var hash = KeyHash.Of("hello");
        var partitioner = new Partitioner(q);
        Assert.Equal((int)(hash >> (64 - log2Q)), partitioner.PartitionOf(Bytes.FromUtf8("hello")));
        if (q == 256) Assert.Equal(0x26, partitioner.PartitionOf(Bytes.FromUtf8("hello")));
    }

    [Fact]
    public void Every_key_lands_in_a_partition_between_0_and_Q()
    {
        Gen.Select(Gen.Int[1, 16], Gen.Byte.Array[0, 64])
            .Sample((log2Q, key) =>
            {
                var q = 1 << log2Q;
                var p = new Partitioner(q).PartitionOf(Bytes.From(key));
                Assert.InRange(p, 0, q - 1);
            }, iter: 2000, writeLine: output.WriteLine);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(256)]
    public void The_start_of_each_partition_maps_back_to_that_partition_and_partitions_tile_the_hash_space(int q)
    {
        var partitioner = new Partitioner(q);
        Assert.Equal(0UL, partitioner.StartOf(0));
        for (var p = 0; p < q; p++)
        {
            var start = partitioner.StartOf(p);
            Assert.Equal(p, partitioner.PartitionOfHash(start));
            var lastOfPartition = p + 1 < q ? partitioner.StartOf(p + 1) - 1 : ulong.MaxValue;
            Assert.Equal(p, partitioner.PartitionOfHash(lastOfPartition));
            if (p > 0) Assert.Equal(p - 1, partitioner.PartitionOfHash(start - 1));
        }
    }

    [Fact]
    public void Any_hash_lies_between_the_start_of_its_partition_and_the_start_of_the_next()
    {
        Gen.Select(Gen.Int[1, 20], Gen.ULong)
            .Sample((log2Q, hash) =>
            {
                var partitioner = new Partitioner(1 << log2Q);
                var p = partitioner.PartitionOfHash(hash);
                Assert.True(partitioner.StartOf(p) <= hash);
                if (p + 1 < partitioner.PartitionCount) Assert.True(hash < partitioner.StartOf(p + 1));
            }, iter: 2000, writeLine: output.WriteLine);
    }
}
