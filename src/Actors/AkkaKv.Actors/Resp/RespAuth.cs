using System.Security.Cryptography;
using System.Text;
using AkkaKv.Configuration;

namespace AkkaKv.Resp;

/// <summary>
/// Redis's <c>requirepass</c> on the RESP port: one user, <c>default</c>, whose password is
/// <see cref="KvSettings.RespRequirePass"/>. With no password set, the default user logs in with
/// any password (as Redis's <c>nopass</c>); any other user name is refused either way.
/// </summary>
internal static class RespAuth
{
    public const string DefaultUser = "default";
    public const string NoAuth = "NOAUTH Authentication required.";
    public const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
    public const string HelloNoAuth = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
    public const string NoPasswordConfigured = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";

    public static bool Required(KvSettings settings) => settings.RespRequirePass.Length > 0;

    /// <summary>The commands Redis flags <c>no-auth</c>: they run before the client has authenticated.</summary>
    public static bool AllowedBeforeAuth(string upperName) => upperName is "AUTH" or "HELLO" or "QUIT";

    /// <summary>Whether <paramref name="user"/> / <paramref name="password"/> log in (the comparison takes the same time wherever the two differ).</summary>
    public static bool Check(KvSettings settings, Bytes user, Bytes password)
    {
        if (!user.Span.SequenceEqual("default"u8)) return false;
        if (!Required(settings)) return true;
        // Hashing first makes the comparison's time independent of where, and whether, the lengths differ.
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(settings.RespRequirePass));
        var given = SHA256.HashData(password.Span);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
