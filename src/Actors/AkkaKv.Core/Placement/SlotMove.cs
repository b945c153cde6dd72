using AkkaKv.Ring;

namespace AkkaKv.Placement;

/// <summary>
/// A replica slot that sits on <see cref="From"/> while the ring plans it on <see cref="To"/>: it
/// moves at one of the next rebalances (or waits, while either end is unreachable or leaving).
/// </summary>
public sealed record SlotMove(SlotId Slot, string From, string To)
{
    public override string ToString() => $"{Slot} {From}→{To}";
}
