namespace AkkaKv.Expiry;

/// <summary>The conditions of Redis 7's <c>EXPIRE key ttl [NX|XX|GT|LT]</c>; <c>XX</c> combines with <c>GT</c> or <c>LT</c>.</summary>
[Flags]
public enum ExpireCondition : byte { None = 0, Nx = 1, Xx = 2, Gt = 4, Lt = 8 }

public static class ExpireConditions
{
    /// <summary>The combinations Redis accepts: none, one of them, or <c>XX</c> with <c>GT</c> or <c>LT</c>.</summary>
    public static bool IsValid(ExpireCondition c) => c is ExpireCondition.None or ExpireCondition.Nx or ExpireCondition.Xx or ExpireCondition.Gt
        or ExpireCondition.Lt or (ExpireCondition.Xx | ExpireCondition.Gt) or (ExpireCondition.Xx | ExpireCondition.Lt);

    /// <summary>Whether <paramref name="condition"/> holds for a key whose deadline is <paramref name="current"/> (0: none, which counts as infinite for GT and LT, as in Redis) and the new <paramref name="deadline"/>.</summary>
    public static bool Holds(this ExpireCondition condition, long current, long deadline) =>
        (!condition.HasFlag(ExpireCondition.Nx) || current <= 0)
        && (!condition.HasFlag(ExpireCondition.Xx) || current > 0)
        && (!condition.HasFlag(ExpireCondition.Gt) || (current > 0 && deadline > current))
        && (!condition.HasFlag(ExpireCondition.Lt) || current <= 0 || deadline < current);
}
