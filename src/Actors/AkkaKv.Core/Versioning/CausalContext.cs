using AkkaKv.Codec;

namespace AkkaKv.Versioning;

/// <summary>
/// The opaque causal context handed to clients: a version vector in the store's binary encoding,
/// base64url text. Clients pass it back unchanged; they never need to look inside.
/// </summary>
public static class CausalContext
{
    public static string Encode(VersionVector vector)
    {
        var w = new KvWriter();
        w.WriteVector(vector);
        return Convert.ToBase64String(w.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string text, out VersionVector vector)
    {
        vector = VersionVector.Empty;
        if (text.Length == 0) return true;
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var r = new KvReader(Convert.FromBase64String(b64));
            vector = r.ReadVector();
            return r.AtEnd;
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or ArgumentException or OverflowException)
        {
            return false;
        }
    }
}
