using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AkkaKv.Configuration;
using AkkaKv.Security;

namespace AkkaKv.Resp;

/// <summary>TLS on the RESP port: the node's certificate from <c>akka-kv.tls</c>, server authentication only.</summary>
internal static class RespTls
{
    /// <summary>How long a client has to finish the TLS handshake before its connection is closed.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The certificate with its private key, or null when the node has no TLS; a file that cannot be used stops the start with a message naming it.</summary>
    public static X509Certificate2? Load(KvSettings settings) =>
        settings.Tls ? CertificateTrust.LoadIdentity(settings.TlsCertFile, settings.TlsKeyFile, "tls.cert-file", "tls.key-file") : null;

    public static SslServerAuthenticationOptions ServerOptions(X509Certificate2 certificate) => new()
    {
        ServerCertificate = certificate,
        ClientCertificateRequired = false,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };
}
