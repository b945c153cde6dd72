using AkkaKv.Codec;

namespace AkkaKv.Protocol;

/// <summary>The binary encoding of <see cref="RequestOptions"/>: each field, -1 for "the node's default".</summary>
public static class RequestOptionsCodec
{
    public static void WriteOptions(this KvWriter w, RequestOptions o)
    {
        w.WriteInt(o.R ?? -1);
        w.WriteInt(o.W ?? -1);
        w.WriteVarLong(o.Timeout?.Ticks ?? -1);
        w.WriteInt(o.Sloppy is null ? -1 : o.Sloppy.Value ? 1 : 0);
        w.WriteInt(o.Overwrite is null ? -1 : o.Overwrite.Value ? 1 : 0);
    }

    public static RequestOptions ReadOptions(this KvReader r)
    {
        var rq = r.ReadInt();
        var w = r.ReadInt();
        var t = r.ReadVarLong();
        var s = r.ReadInt();
        var o = r.ReadInt();
        return new RequestOptions(rq < 0 ? null : rq, w < 0 ? null : w, t < 0 ? null : TimeSpan.FromTicks(t), s < 0 ? null : s == 1, o < 0 ? null : o == 1);
    }
}
