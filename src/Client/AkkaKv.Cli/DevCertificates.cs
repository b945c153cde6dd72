using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AkkaKv.Cli;

/// <summary>
/// <c>./akkakv certs</c>: a development PKI in one command. Two CAs, so that node and client
/// identities stay distinct (a client certificate is not signed by the CA nodes trust for nodes):
/// <c>ca.crt</c> signs <c>node.crt</c> (server and client authentication, for the given hosts);
/// <c>client-ca.crt</c> signs <c>client.crt</c> (client authentication only). Keys are PEM files
/// readable by their owner only. For development: the CA keys sit beside the certificates.
/// </summary>
public static class DevCertificates
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    public sealed record Written(IReadOnlyList<string> Files);

    public static Written Create(string dir, IReadOnlyList<string> hosts, TimeSpan validity)
    {
        Directory.CreateDirectory(dir);
        // Never replace a CA: certificates already handed out would stop verifying.
        var existing = new[] { "ca", "client-ca", "node", "client" }.SelectMany(n => new[] { n + ".crt", n + ".key" })
            .Select(f => Path.Combine(dir, f)).FirstOrDefault(File.Exists);
        if (existing is not null) throw new InvalidOperationException($"{existing} already exists: remove the old files or choose another --dir");
        var files = new List<string>();
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
        var notAfter = notBefore + validity;
        using var nodeCa = NewCa("CN=AkkaKv development node CA", notBefore, notAfter + TimeSpan.FromDays(1));
        using var clientCa = NewCa("CN=AkkaKv development client CA", notBefore, notAfter + TimeSpan.FromDays(1));
        using var node = Issue(nodeCa, "CN=akkakv-node", hosts, [ServerAuth, ClientAuth], notBefore, notAfter);
        using var client = Issue(clientCa, "CN=akkakv-client", [], [ClientAuth], notBefore, notAfter);
        foreach (var (name, cert) in new[] { ("ca", nodeCa), ("client-ca", clientCa), ("node", node), ("client", client) })
        {
            files.Add(Write(Path.Combine(dir, name + ".crt"), cert.ExportCertificatePem(), secret: false));
            files.Add(Write(Path.Combine(dir, name + ".key"), cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(), secret: true));
        }
        return new Written(files);
    }

    private static X509Certificate2 NewCa(string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, IReadOnlyList<string> hosts, Oid[] usages, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        var ekus = new OidCollection();
        foreach (var usage in usages) ekus.Add(usage);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ekus, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (hosts.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var host in hosts)
                if (IPAddress.TryParse(host, out var ip)) san.AddIpAddress(ip);
                else san.AddDnsName(host);
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var signed = request.Create(ca, notBefore, notAfter, serial);
        return signed.CopyWithPrivateKey(key);
    }

    private static string Write(string path, string pem, bool secret)
    {
        File.WriteAllText(path, pem + "\n");
        if (secret && !OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
