
namespace AkkaKv.Configuration;

/// <summary>Key and value size checks, shared by every front door so they all say the same thing.</summary>
public static class Limits
{
    public static string? CheckKey(Bytes? key, KvSettings settings) =>
        key is null || key.Length == 0 ? "the key is empty: keys must be 1 or more bytes"
        : key.Length > settings.MaxKeyBytes ? $"the key is {key.Length} bytes, over the limit of {settings.MaxKeyBytes} bytes (akka-kv.limits.max-key-bytes)"
        : null;

    public static string? CheckValue(Bytes? value, KvSettings settings) =>
        value is null ? "the value is missing"
        : value.Length > settings.MaxValueBytes ? $"the value is {value.Length} bytes, over the limit of {settings.MaxValueBytes} bytes (akka-kv.limits.max-value-bytes)"
        : null;
}
