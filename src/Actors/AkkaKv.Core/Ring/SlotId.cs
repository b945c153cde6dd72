using System.Globalization;

namespace AkkaKv.Ring;

/// <summary>
/// One replica slot: replica <see cref="Index"/> (0 ≤ i &lt; N) of partition <see cref="Partition"/>.
/// It is both the sharded entity id and the shard id: <c>"{p}/{i}"</c>.
/// </summary>
public readonly record struct SlotId(int Partition, int Index)
{
    public override string ToString() => $"{Partition}/{Index}";

    public static bool TryParse(string? text, out SlotId slot)
    {
        slot = default;
        var slash = text?.IndexOf('/') ?? -1;
        if (slash <= 0) return false;
        if (!int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) return false;
        if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var i)) return false;
        slot = new SlotId(p, i);
        return true;
    }

    public static SlotId Parse(string text) =>
        TryParse(text, out var s) ? s : throw new FormatException($"'{text}' is not a replica slot id of the form partition/index");
}
