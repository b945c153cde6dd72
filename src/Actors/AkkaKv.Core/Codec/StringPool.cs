using System.Collections.Concurrent;
using System.Text;

namespace AkkaKv.Codec;

/// <summary>
/// One shared instance per distinct short string read off the wire or the journal: replica actor
/// ids (<c>"n2/17.5f3a9c01"</c>) appear in the dot and the past of every stored version, and a
/// fresh copy per version would cost more than the version's counters. The pool is process-wide
/// and grows only with the number of distinct ids (replica incarnations), so it is capped: past
/// <see cref="Capacity"/> entries, reads get private copies again (correct, only bigger).
/// </summary>
public static class StringPool
{
    public const int Capacity = 65_536;
    private const int MaxPooledBytes = 128;

    private static readonly ConcurrentDictionary<string, string> Pool = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> ByChars =
        Pool.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The pooled string for these UTF-8 bytes (decoded once), or a new one when it is too long or the pool is full.</summary>
    public static string FromUtf8(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxPooledBytes) return Encoding.UTF8.GetString(utf8);
        Span<char> chars = stackalloc char[MaxPooledBytes];
        var length = Encoding.UTF8.GetChars(utf8, chars);
        if (ByChars.TryGetValue(chars[..length], out var pooled)) return pooled;
        var text = new string(chars[..length]);
        return Pool.Count >= Capacity ? text : Pool.GetOrAdd(text, text);
    }

    /// <summary>The pooled instance equal to <paramref name="text"/> (added when there is room).</summary>
    public static string Intern(string text) =>
        Pool.TryGetValue(text, out var pooled) ? pooled : Pool.Count >= Capacity ? text : Pool.GetOrAdd(text, text);
}
