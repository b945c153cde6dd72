using System.Net;
using System.Security.Cryptography.X509Certificates;
using AkkaKv.Cli;
using AkkaKv.Security;
using Xunit;

namespace AkkaKv.Tests.Security;

/// <summary><c>./akkakv certs</c>: what it writes verifies as a node and client PKI should, and node and client identities stay apart.</summary>
public sealed class DevCertificatesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "akkakv-certs-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private X509Certificate2 Load(string name) => X509Certificate2.CreateFromPemFile(Path.Combine(_dir, name + ".crt"), Path.Combine(_dir, name + ".key"));

    private bool Verifies(X509Certificate2 leaf, string caName, CertificateUse use) =>
        CertificateTrust.Refusal(leaf, X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dir, caName + ".crt")), use) is null;

    [Fact]
    public void The_node_certificate_verifies_against_the_node_CA_for_its_hosts_and_the_client_one_only_against_the_client_CA()
    {
        var written = DevCertificates.Create(_dir, ["127.0.0.1", "localhost"], TimeSpan.FromDays(30));
        Assert.Equal(8, written.Files.Count);
        using var node = Load("node");
        using var client = Load("client");
        Assert.True(node.HasPrivateKey);
        const CertificateUse serverAuth = CertificateUse.Server, clientAuth = CertificateUse.Client;

        Assert.True(Verifies(node, "ca", serverAuth));
        Assert.True(Verifies(node, "ca", clientAuth));
        Assert.True(Verifies(client, "client-ca", clientAuth));
        // Distinct identities: a client certificate is not a node's, and cannot serve.
        Assert.False(Verifies(client, "ca", clientAuth));
        Assert.False(Verifies(client, "client-ca", serverAuth));
        Assert.False(Verifies(node, "client-ca", clientAuth));

        Assert.True(node.MatchesHostname("localhost"));
        var san = node.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains(IPAddress.Loopback, san.EnumerateIPAddresses());
        Assert.InRange(node.NotAfter, DateTime.Now.AddDays(29), DateTime.Now.AddDays(31));
        if (!OperatingSystem.IsWindows())
            foreach (var key in Directory.GetFiles(_dir, "*.key"))
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
    }

    [Fact]
    public void It_never_replaces_an_existing_CA()
    {
        DevCertificates.Create(_dir, ["127.0.0.1"], TimeSpan.FromDays(1));
        var before = File.ReadAllText(Path.Combine(_dir, "ca.crt"));
        var e = Assert.Throws<InvalidOperationException>(() => DevCertificates.Create(_dir, ["127.0.0.1"], TimeSpan.FromDays(1)));
        Assert.Contains("ca.crt already exists", e.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(_dir, "ca.crt")));
    }
}
