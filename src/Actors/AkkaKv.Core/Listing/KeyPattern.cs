namespace AkkaKv.Listing;

/// <summary>
/// Redis's glob patterns (<c>KEYS</c>, <c>SCAN … MATCH</c>), on the key's bytes as Redis matches
/// them: <c>*</c> any run of bytes, <c>?</c> one byte, <c>[abc]</c>, <c>[^abc]</c> and
/// <c>[a-z]</c> a class, <c>\x</c> the byte x itself. Case-sensitive. An unclosed <c>[</c> takes
/// the rest of the pattern as its class, as Redis does.
/// </summary>
public static class KeyPattern
{
    /// <summary>True when the pattern is <c>*</c> (or empty of anything but stars): every key matches.</summary>
    public static bool MatchesAll(ReadOnlySpan<byte> pattern)
    {
        foreach (var b in pattern) if (b != (byte)'*') return false;
        return pattern.Length > 0;
    }

    public static bool Matches(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> key)
    {
        // Iterative, with one backtrack point for the last star: linear in practice, and never
        // recursive (a pattern of many stars cannot blow the stack).
        int p = 0, k = 0, starP = -1, starK = -1;
        while (k < key.Length)
        {
            if (p < pattern.Length)
            {
                var c = pattern[p];
                if (c == (byte)'*')
                {
                    while (p < pattern.Length && pattern[p] == (byte)'*') p++;
                    if (p == pattern.Length) return true;
                    starP = p;
                    starK = k;
                    continue;
                }
                if (MatchOne(pattern, ref p, key[k]))
                {
                    k++;
                    continue;
                }
            }
            if (starP < 0) return false;
            p = starP;
            k = ++starK;
        }
        while (p < pattern.Length && pattern[p] == (byte)'*') p++;
        return p == pattern.Length;
    }

    /// <summary>Whether the pattern element at <paramref name="p"/> matches <paramref name="b"/>; on a match, moves <paramref name="p"/> past the element.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, ref int p, byte b)
    {
        var c = pattern[p];
        if (c == (byte)'?') { p++; return true; }
        if (c == (byte)'\\' && p + 1 < pattern.Length)
        {
            if (pattern[p + 1] != b) return false;
            p += 2;
            return true;
        }
        if (c != (byte)'[')
        {
            if (c != b) return false;
            p++;
            return true;
        }
        var i = p + 1;
        var negate = i < pattern.Length && pattern[i] == (byte)'^';
        if (negate) i++;
        var match = false;
        while (i < pattern.Length && pattern[i] != (byte)']')
        {
            if (pattern[i] == (byte)'\\' && i + 1 < pattern.Length)
            {
                if (pattern[i + 1] == b) match = true;
                i += 2;
            }
            else if (i + 2 < pattern.Length && pattern[i + 1] == (byte)'-' && pattern[i + 2] != (byte)']')
            {
                var (lo, hi) = pattern[i] <= pattern[i + 2] ? (pattern[i], pattern[i + 2]) : (pattern[i + 2], pattern[i]);
                if (b >= lo && b <= hi) match = true;
                i += 3;
            }
            else
            {
                if (pattern[i] == b) match = true;
                i++;
            }
        }
        if (negate) match = !match;
        if (!match) return false;
        p = i < pattern.Length ? i + 1 : i;
        return true;
    }
}
