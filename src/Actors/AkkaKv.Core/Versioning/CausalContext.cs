using System.Security.Cryptography;
using System.Text;
using AkkaKv.Codec;

namespace AkkaKv.Versioning;

/// <summary>One secret a cluster signs causal contexts with, named by a short id.</summary>
public sealed record ContextKey(string Id, byte[] Secret)
{
    public const int MinSecretBytes = 16;

    public static bool ValidId(string id) =>
        id.Length is >= 1 and <= 32 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>
/// The opaque causal context handed to clients, authenticated: the version vector in the store's
/// binary encoding, the id of the key that signed it, and an HMAC-SHA256 tag (128 bits) over the
/// vector and the store key it was issued for, all as base64url text. Clients pass it back
/// unchanged and never look inside.
/// </summary>
/// <remarks>
/// A context decides which versions a write supersedes, so a context a client made up (or
/// altered: say, every counter set to 2^63-1) would make its write supersede every later write of
/// the key. Only contexts this cluster issued are accepted: a node signs with the first of its
/// keys and accepts any of them (rotation: add the new key second on every node, then move it
/// first, then drop the old one once clients no longer hold its contexts). A context is bound to
/// its key: one issued for key a is refused for key b.
/// </remarks>
public sealed class CausalContext
{
    /// <summary>Longest context text accepted (a vector of about a thousand replica entries).</summary>
    public const int MaxTextLength = 65536;
    private const byte Format = 1;
    private const int TagBytes = 16;
    private static readonly byte[] Domain = "akkakv-context-v1"u8.ToArray();

    private readonly ContextKey[] _keys;

    /// <param name="keys">The first signs; every one is accepted.</param>
    public CausalContext(IReadOnlyList<ContextKey> keys)
    {
        if (keys.Count == 0) throw new ArgumentException("at least one context key is needed", nameof(keys));
        foreach (var k in keys)
        {
            if (!ContextKey.ValidId(k.Id)) throw new ArgumentException($"context key id '{k.Id}' must be 1 to 32 letters, digits, '-', '_' or '.'", nameof(keys));
            if (k.Secret.Length < ContextKey.MinSecretBytes) throw new ArgumentException($"context key '{k.Id}' has a secret of {k.Secret.Length} bytes; at least {ContextKey.MinSecretBytes} are needed", nameof(keys));
        }
        if (keys.Select(k => k.Id).Distinct().Count() != keys.Count) throw new ArgumentException("context key ids must be distinct", nameof(keys));
        _keys = keys.ToArray();
    }

    /// <summary>
    /// The development key: public (its secret is in this source), used by a node that was given no
    /// secret. It still catches a context that was truncated or altered by accident; it does not stop a
    /// client who knows it, which is why protected mode refuses it off loopback.
    /// </summary>
    public static readonly CausalContext Development = new([new ContextKey("dev", SHA256.HashData("akkakv development context key: not a secret"u8))]);

    /// <summary>Whether this signer is <see cref="Development"/>'s public key only.</summary>
    public bool IsDevelopment => _keys.Length == 1 && _keys[0].Id == "dev" && _keys[0].Secret.AsSpan().SequenceEqual(Development._keys[0].Secret);

    public string SigningKeyId => _keys[0].Id;

    public IReadOnlyList<string> KeyIds => _keys.Select(k => k.Id).ToList();

    /// <summary>The context of <paramref name="vector"/> for the store key <paramref name="key"/>, signed with the first key.</summary>
    public string Encode(Bytes key, VersionVector vector)
    {
        var w = new KvWriter();
        w.WriteVector(vector);
        return Sign(key, w.ToArray());
    }

    /// <summary>A context holding <paramref name="body"/> as it is, signed with the first key (tests build malformed bodies with it).</summary>
    internal string Sign(Bytes key, byte[] body)
    {
        var signing = _keys[0];
        var id = Encoding.ASCII.GetBytes(signing.Id);
        var token = new byte[2 + id.Length + body.Length + TagBytes];
        token[0] = Format;
        token[1] = (byte)id.Length;
        id.CopyTo(token, 2);
        body.CopyTo(token, 2 + id.Length);
        Tag(signing.Secret, key, body).CopyTo(token.AsSpan(2 + id.Length + body.Length));
        return Convert.ToBase64String(token).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// The vector of a context this cluster issued for <paramref name="key"/>. The empty text is the
    /// empty vector (no context: concurrent with everything). Otherwise false, with the reason for the
    /// client, when the text is malformed, too long, signed by no key of this node, or altered.
    /// </summary>
    public bool TryDecode(string text, Bytes key, out VersionVector vector, out string? error)
    {
        vector = VersionVector.Empty;
        error = null;
        if (text.Length == 0) return true;
        if (text.Length > MaxTextLength)
        {
            error = $"the causal context is {text.Length} characters, over the limit of {MaxTextLength}: pass back the context string of a get unchanged";
            return false;
        }
        byte[] token;
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            token = Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '='));
        }
        catch (FormatException)
        {
            error = Malformed;
            return false;
        }
        if (token.Length < 2 + 1 + TagBytes || token[0] != Format || token.Length < 2 + token[1] + TagBytes)
        {
            error = Malformed;
            return false;
        }
        var id = Encoding.ASCII.GetString(token, 2, token[1]);
        var body = token.AsSpan(2 + token[1], token.Length - 2 - token[1] - TagBytes);
        var tag = token.AsSpan(token.Length - TagBytes);
        var signer = Array.Find(_keys, k => k.Id == id);
        if (signer is null || !CryptographicOperations.FixedTimeEquals(Tag(signer.Secret, key, body), tag))
        {
            error = signer is null
                ? $"the causal context is signed with key '{Printable(id)}', which this node does not hold: it was not issued by this cluster (or its key was retired); read the key again and pass back that context"
                : "the causal context was not issued by this cluster for this key, or was altered: pass back the context string of a get of the same key unchanged";
            return false;
        }
        try
        {
            var r = new KvReader(body.ToArray());
            vector = r.ReadVector();
            if (r.AtEnd) return true;
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or ArgumentException or OverflowException) { }
        vector = VersionVector.Empty;
        error = Malformed;
        return false;
    }

    private const string Malformed = "the causal context is malformed: pass back the context string of a get unchanged";

    private static byte[] Tag(byte[] secret, Bytes key, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(Domain);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, key.Length);
        hmac.AppendData(length);
        hmac.AppendData(key.Span);
        hmac.AppendData(body);
        return hmac.GetHashAndReset()[..TagBytes];
    }

    private static string Printable(string id) => new(id.Select(c => c is >= ' ' and <= '~' ? c : '?').Take(32).ToArray());
}
