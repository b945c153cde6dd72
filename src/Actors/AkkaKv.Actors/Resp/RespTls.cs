using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaKv.Configuration;

namespace AkkaKv.Resp;

/// <summary>TLS on the RESP port: the node's certificate from <c>akka-kv.tls</c>, server authentication only.</summary>
internal static class RespTls
{
    /// <summary>How long a client has to finish the TLS handshake before its connection is closed.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The certificate with its private key, or null when the node has no TLS; a file that cannot be used stops the start with a message naming it.</summary>
    public static X509Certificate2? Load(KvSettings settings)
    {
        if (!settings.Tls) return null;
        foreach (var (file, key) in new[] { (settings.TlsCertFile, "tls.cert-file"), (settings.TlsKeyFile, "tls.key-file") })
            if (!File.Exists(file)) throw new KvSettingsException($"akka-kv: {key} '{file}': no such file");
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(settings.TlsCertFile, settings.TlsKeyFile);
            // A certificate whose key came from PEM is ephemeral; SslStream wants one it can use as
            // a server credential, which a PKCS#12 round trip gives on every platform.
            var usable = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            if (usable.NotAfter < DateTime.Now)
                throw new KvSettingsException($"akka-kv: tls.cert-file '{settings.TlsCertFile}' expired on {usable.NotAfter:u}");
            return usable;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new KvSettingsException($"akka-kv: tls.cert-file '{settings.TlsCertFile}' and tls.key-file '{settings.TlsKeyFile}' are not a PEM certificate and its private key: {e.Message}");
        }
    }

    public static SslServerAuthenticationOptions ServerOptions(X509Certificate2 certificate) => new()
    {
        ServerCertificate = certificate,
        ClientCertificateRequired = false,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
    };
}
