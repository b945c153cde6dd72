using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaKv.Configuration;

namespace AkkaKv.Security;

/// <summary>What a peer's certificate is presented for: a server (the side dialled) or a client (the side dialling).</summary>
public enum CertificateUse { Server, Client }

/// <summary>
/// Certificates from PEM files, and whether a presented certificate is trusted: it must chain to
/// one given root (never the operating system's store), be valid now, and allow its use (the
/// extended key usage serverAuth or clientAuth). Separate roots for nodes and clients are what keep
/// a client certificate from making its holder a node.
/// </summary>
public static class CertificateTrust
{
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// A PEM certificate and its PEM private key as a credential TLS can present (a PKCS#12 round
    /// trip, which SslStream needs on every platform). A missing file, a key that does not match, or
    /// an expired certificate throws <see cref="KvSettingsException"/> naming the settings.
    /// </summary>
    public static X509Certificate2 LoadIdentity(string certFile, string keyFile, string certSetting, string keySetting)
    {
        foreach (var (file, setting) in new[] { (certFile, certSetting), (keyFile, keySetting) })
            if (!File.Exists(file)) throw new KvSettingsException($"akka-kv: {setting} '{file}': no such file");
        X509Certificate2 usable;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            usable = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new KvSettingsException($"akka-kv: {certSetting} '{certFile}' and {keySetting} '{keyFile}' are not a PEM certificate and its private key: {e.Message}");
        }
        return usable.NotAfter < DateTime.Now
            ? throw new KvSettingsException($"akka-kv: {certSetting} '{certFile}' expired on {usable.NotAfter:u}")
            : usable;
    }

    /// <summary>A CA certificate (PEM) to trust; throws <see cref="KvSettingsException"/> naming <paramref name="setting"/>.</summary>
    public static X509Certificate2 LoadCa(string file, string setting)
    {
        if (!File.Exists(file)) throw new KvSettingsException($"akka-kv: {setting} '{file}': no such file");
        try
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(file);
            return ca.NotAfter < DateTime.Now ? throw new KvSettingsException($"akka-kv: {setting} '{file}' expired on {ca.NotAfter:u}") : ca;
        }
        catch (CryptographicException e)
        {
            throw new KvSettingsException($"akka-kv: {setting} '{file}' is not a PEM certificate: {e.Message}");
        }
    }

    /// <summary>
    /// Why <paramref name="presented"/> is not trusted for <paramref name="use"/> under
    /// <paramref name="root"/>, or null when it is. <paramref name="intermediates"/>: the other
    /// certificates the peer sent with it. No revocation check.
    /// </summary>
    public static string? Refusal(X509Certificate2? presented, X509Certificate2 root, CertificateUse use, IEnumerable<X509Certificate2>? intermediates = null)
    {
        if (presented is null) return "no certificate was presented";
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(use == CertificateUse.Server ? ServerAuth : ClientAuth);
        foreach (var extra in intermediates ?? [])
            if (!extra.RawDataMemory.Span.SequenceEqual(presented.RawDataMemory.Span)) chain.ChainPolicy.ExtraStore.Add(extra);
        if (chain.Build(presented)) return null;
        var reasons = chain.ChainStatus.Select(s => $"{s.Status} ({s.StatusInformation.Trim()})").Distinct();
        return $"certificate '{presented.Subject}' is not trusted as a {(use == CertificateUse.Server ? "server" : "client")} under '{root.Subject}': {string.Join("; ", reasons)}";
    }
}
