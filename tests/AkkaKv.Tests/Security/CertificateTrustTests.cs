using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AkkaKv.Cli;
using AkkaKv.Security;
using Xunit;

namespace AkkaKv.Tests.Security;

/// <summary>Which certificates a node and a client accept from a peer on remoting (<see cref="CertificateTrust"/>), and loading them from PEM files.</summary>
public sealed class CertificateTrustTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "akkakv-trust-" + Guid.NewGuid().ToString("N")[..8]);

    public CertificateTrustTests() => DevCertificates.Create(_dir, ["127.0.0.1", "localhost"], TimeSpan.FromDays(2));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);
    private X509Certificate2 Identity(string name) => CertificateTrust.LoadIdentity(File(name + ".crt"), File(name + ".key"), "tls.cert-file", "tls.key-file");
    private X509Certificate2 Ca(string name) => CertificateTrust.LoadCa(File(name + ".crt"), "tls.ca-file");

    [Fact]
    public void A_node_certificate_is_trusted_both_ways_under_the_node_CA_and_never_under_the_client_CA()
    {
        using var node = Identity("node");
        Assert.True(node.HasPrivateKey);
        Assert.Null(CertificateTrust.Refusal(node, Ca("ca"), CertificateUse.Server));
        Assert.Null(CertificateTrust.Refusal(node, Ca("ca"), CertificateUse.Client));
        Assert.Contains("not trusted as a client under 'CN=AkkaKv development client CA'", CertificateTrust.Refusal(node, Ca("client-ca"), CertificateUse.Client));
    }

    [Fact]
    public void A_client_certificate_is_trusted_only_as_a_client_under_the_client_CA()
    {
        using var client = Identity("client");
        Assert.Null(CertificateTrust.Refusal(client, Ca("client-ca"), CertificateUse.Client));
        // Never a node: not under the node CA, and it cannot serve.
        Assert.Contains("PartialChain", CertificateTrust.Refusal(client, Ca("ca"), CertificateUse.Client));
        Assert.Contains("not trusted as a server", CertificateTrust.Refusal(client, Ca("client-ca"), CertificateUse.Server));
    }

    [Fact]
    public void A_self_signed_certificate_with_the_node_name_and_no_certificate_at_all_are_refused()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=akkakv-node", key, HashAlgorithmName.SHA256);
        using var forged = request.CreateSelfSigned(DateTimeOffset.Now.AddDays(-1), DateTimeOffset.Now.AddDays(1));
        Assert.Contains("not trusted", CertificateTrust.Refusal(forged, Ca("ca"), CertificateUse.Client));
        Assert.Equal("no certificate was presented", CertificateTrust.Refusal(null, Ca("ca"), CertificateUse.Client));
    }

    [Fact]
    public void Unusable_files_stop_the_start_with_a_message_naming_the_setting()
    {
        Assert.Contains("tls.ca-file '/nonexistent/ca.crt': no such file",
            Assert.Throws<KvSettingsException>(() => CertificateTrust.LoadCa("/nonexistent/ca.crt", "tls.ca-file")).Message);
        Assert.Contains("tls.ca-file", Assert.Throws<KvSettingsException>(() => CertificateTrust.LoadCa(File("node.key"), "tls.ca-file")).Message);
        // A key that is not the certificate's.
        var mismatch = Assert.Throws<KvSettingsException>(() => CertificateTrust.LoadIdentity(File("node.crt"), File("client.key"), "tls.cert-file", "tls.key-file"));
        Assert.Contains("are not a PEM certificate and its private key", mismatch.Message);
    }
}
