using AkkaKv.Codec;

namespace AkkaKv.Ring;

/// <summary>The binary encoding of a <see cref="SlotId"/>: partition, then index.</summary>
public static class SlotCodec
{
    public static void WriteSlot(this KvWriter w, SlotId slot) { w.WriteInt(slot.Partition); w.WriteInt(slot.Index); }
    public static SlotId ReadSlot(this KvReader r) => new(r.ReadInt(), r.ReadInt());
}
