using System.Net;

namespace AkkaKv.Configuration;

/// <summary>
/// Protected mode, as Redis's: a node reachable from other machines must not start open to
/// anyone who reaches it. A node whose bind address is not loopback refuses to start while its
/// remoting has no TLS, while its causal contexts are signed with the public development key, or
/// while its RESP port is on without a password, unless the operator
/// says <c>--insecure</c> (a trusted network, or TLS and authentication provided outside the
/// node). On loopback, only processes of the same machine reach it, and it starts as it is.
/// </summary>
public static class ProtectedMode
{
    /// <summary>Loopback: <c>localhost</c>, or a literal IPv4 127.0.0.0/8 or IPv6 ::1 address. Anything else (0.0.0.0, a host name, another address) is exposed.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Why a node with these settings must not start, or null when it may.</summary>
    /// <param name="host">The bind address of remoting and of the RESP and HTTP ports.</param>
    /// <param name="respPort">The RESP port; 0 when off.</param>
    /// <param name="respPassword">Whether the RESP port requires a password (<c>resp.requirepass</c>).</param>
    /// <param name="remotingTls">Whether Akka remoting runs mutual TLS.</param>
    /// <param name="contextKeys">Whether causal contexts are signed with the cluster's own keys (not the public development key).</param>
    /// <param name="insecure">The operator's explicit <c>--insecure</c>.</param>
    /// <param name="httpPort">The HTTP port (metrics, health); 0 when off.</param>
    /// <param name="httpTls">Whether the HTTP port serves HTTPS (the node has a certificate).</param>
    public static string? Refusal(string host, int respPort, bool respPassword, bool remotingTls, bool contextKeys, bool insecure, int httpPort = 0, bool httpTls = false)
    {
        if (insecure || IsLoopback(host)) return null;
        var missing = new List<string>();
        if (!remotingTls) missing.Add("Akka remoting has no TLS, so any process that reaches the port can join as a node or send replica messages (set --tls-cert, --tls-key and --tls-ca; ./akkakv certs makes a development CA)");
        if (!contextKeys) missing.Add("causal contexts are signed with the public development key, so a client can forge one that makes its write supersede every later write of a key (set --context-keys or akka-kv.security.context-keys-file)");
        if (respPort > 0 && !respPassword) missing.Add($"the RESP port {respPort} has no password (set --requirepass or akka-kv.resp.requirepass)");
        if (httpPort > 0 && !httpTls) missing.Add($"the HTTP port {httpPort} has no TLS, so its metrics and health travel in the clear (set --tls-cert and --tls-key)");
        if (missing.Count == 0) return null;
        return $"protected mode: refusing to start on --host {host}, which is not a loopback address, because {string.Join("; and ", missing)}. "
            + "Bind to 127.0.0.1 for a local cluster, or pass --insecure (AKKAKV_INSECURE=1) to start anyway on a network you trust.";
    }
}
