using System.IO.Hashing;
using System.Text;

namespace AkkaKv.Ring;

/// <summary>
/// The stable 64-bit hash behind partitions and ring tokens: xxHash64 with seed 0 over the raw
/// bytes. Stable across processes, machines and versions (never <c>string.GetHashCode()</c>).
/// </summary>
public static class KeyHash
{
    public static ulong Of(ReadOnlySpan<byte> data) => XxHash64.HashToUInt64(data);
    public static ulong Of(Bytes key) => Of(key.Span);
    public static ulong Of(string text) => Of(Encoding.UTF8.GetBytes(text));
}
