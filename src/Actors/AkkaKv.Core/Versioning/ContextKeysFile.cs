namespace AkkaKv.Versioning;

/// <summary>
/// The file of keys a cluster signs causal contexts with (<c>akka-kv.security.context-keys-file</c>,
/// the Host's <c>--context-keys</c>): one key per line, <c>&lt;id&gt; &lt;secret in base64&gt;</c>;
/// blank lines and lines starting with <c>#</c> are ignored. The first key signs new contexts;
/// every key is accepted. Every node of a cluster must hold the same file.
/// </summary>
public static class ContextKeysFile
{
    /// <summary>A new key line: <paramref name="id"/> and 32 random bytes.</summary>
    public static string NewLine(string id) =>
        ContextKey.ValidId(id) ? $"{id} {Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}"
            : throw new ArgumentException($"context key id '{id}' must be 1 to 32 letters, digits, '-', '_' or '.'", nameof(id));

    /// <exception cref="FormatException">A line that is not a valid key, a repeated id, or no key at all; the message names <paramref name="source"/> and the line.</exception>
    public static IReadOnlyList<ContextKey> Parse(string text, string source)
    {
        var keys = new List<ContextKey>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string Where() => $"{source} line {i + 1}";
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) throw new FormatException($"{Where()}: expected '<id> <secret in base64>'");
            if (!ContextKey.ValidId(parts[0])) throw new FormatException($"{Where()}: the key id must be 1 to 32 letters, digits, '-', '_' or '.'");
            byte[] secret;
            try { secret = Convert.FromBase64String(parts[1]); }
            catch (FormatException) { throw new FormatException($"{Where()}: the secret of key '{parts[0]}' is not base64"); }
            if (secret.Length < ContextKey.MinSecretBytes)
                throw new FormatException($"{Where()}: the secret of key '{parts[0]}' is {secret.Length} bytes; at least {ContextKey.MinSecretBytes} are needed (32 random bytes recommended)");
            if (keys.Any(k => k.Id == parts[0])) throw new FormatException($"{Where()}: key id '{parts[0]}' appears twice");
            keys.Add(new ContextKey(parts[0], secret));
        }
        return keys.Count > 0 ? keys : throw new FormatException($"{source} holds no context key (lines '<id> <secret in base64>')");
    }
}
