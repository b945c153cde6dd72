using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AkkaKv.Cli;
using AkkaKv.Configuration;
using AkkaKv.Resp;
using Xunit;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// TLS on a real <see cref="RespServer"/> (loopback) with certificates from <c>./akkakv certs</c>:
/// a client that trusts the development CA talks RESP over TLS; a plain-text client, or one that
/// does not trust the certificate, is closed, and the listener keeps serving.
/// </summary>
public sealed class RespTlsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "akkakv-resp-tls-" + Guid.NewGuid().ToString("N")[..8]);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public RespTlsTests() => DevCertificates.Create(_dir, ["127.0.0.1", "localhost"], TimeSpan.FromDays(1));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private KvSettings TlsSettings(string extra = "") => SmallLimitsSettings(
        $"akka-kv.tls.cert-file = \"{Path.Combine(_dir, "node.crt")}\"\nakka-kv.tls.key-file = \"{Path.Combine(_dir, "node.key")}\"\n{extra}");

    private RespServer Start(KvSettings settings) =>
        RespServer.Start(new IPEndPoint(IPAddress.Loopback, 0), settings, new InMemoryKvBackend(settings));

    /// <summary>Validates the server against the development CA only, as <c>redis-cli --tls --cacert ca.crt</c> does.</summary>
    private bool TrustsDevCa(X509Certificate? certificate)
    {
        if (certificate is null) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dir, "ca.crt")));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static async Task<string> ExchangeAsync(Stream stream, string request, int replyBytes)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[replyBytes];
        var read = 0;
        using var cts = new CancellationTokenSource(Wait);
        while (read < replyBytes)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cts.Token);
            if (n == 0) break;
            read += n;
        }
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    private async Task<SslStream> ConnectTlsAsync(RespServer server)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(server.LocalEndPoint);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, cert, _, _) => TrustsDevCa(cert));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1" }).WaitAsync(Wait);
        return tls;
    }

    [Fact]
    public async Task A_client_that_trusts_the_CA_talks_RESP_over_TLS_1_2_or_1_3()
    {
        await using var server = Start(TlsSettings());
        await using var tls = await ConnectTlsAsync(server);

        Assert.True(tls.IsAuthenticated && tls.IsEncrypted);
        Assert.Contains(tls.SslProtocol, new[] { System.Security.Authentication.SslProtocols.Tls12, System.Security.Authentication.SslProtocols.Tls13 });
        Assert.Equal("+PONG\r\n", await ExchangeAsync(tls, "*1\r\n$4\r\nPING\r\n", 7));
        Assert.Equal("+OK\r\n", await ExchangeAsync(tls, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n", 5));
        Assert.Equal("$2\r\nv1\r\n", await ExchangeAsync(tls, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 8));
    }

    [Fact]
    public async Task A_plain_text_client_on_a_TLS_port_is_closed_without_an_answer_and_the_port_keeps_serving()
    {
        await using var server = Start(TlsSettings());
        using (var plain = new TcpClient())
        {
            await plain.ConnectAsync(server.LocalEndPoint);
            var reply = await ExchangeAsync(plain.GetStream(), "*1\r\n$4\r\nPING\r\n", 7);
            Assert.DoesNotContain("PONG", reply);
        }
        await using var tls = await ConnectTlsAsync(server);
        Assert.Equal("+PONG\r\n", await ExchangeAsync(tls, "*1\r\n$4\r\nPING\r\n", 7));
    }

    [Fact]
    public async Task TLS_and_a_password_together_NOAUTH_until_AUTH_over_the_encrypted_connection()
    {
        await using var server = Start(TlsSettings("akka-kv.resp.requirepass = \"pw\""));
        await using var tls = await ConnectTlsAsync(server);
        Assert.Equal("-NOAUTH Authentication required.\r\n", await ExchangeAsync(tls, "*1\r\n$4\r\nPING\r\n", 34));
        Assert.Equal("+OK\r\n", await ExchangeAsync(tls, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", 5));
        Assert.Equal("+PONG\r\n", await ExchangeAsync(tls, "*1\r\n$4\r\nPING\r\n", 7));
    }

    [Fact]
    public void A_missing_or_mismatched_certificate_file_stops_the_start_with_a_message_naming_it()
    {
        var missing = SmallLimitsSettings($"akka-kv.tls.cert-file = \"{Path.Combine(_dir, "nope.crt")}\"\nakka-kv.tls.key-file = \"{Path.Combine(_dir, "node.key")}\"");
        var e = Assert.Throws<KvSettingsException>(() => Start(missing));
        Assert.Contains("tls.cert-file", e.Message);
        Assert.Contains("no such file", e.Message);

        var mismatched = SmallLimitsSettings($"akka-kv.tls.cert-file = \"{Path.Combine(_dir, "node.crt")}\"\nakka-kv.tls.key-file = \"{Path.Combine(_dir, "client.key")}\"");
        e = Assert.Throws<KvSettingsException>(() => Start(mismatched));
        Assert.Contains("are not a PEM certificate and its private key", e.Message);

        var onlyCert = Assert.ThrowsAny<Exception>(() => SmallLimitsSettings($"akka-kv.tls.cert-file = \"{Path.Combine(_dir, "node.crt")}\""));
        Assert.Contains("tls.cert-file and tls.key-file go together", onlyCert.Message);
    }
}
