using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace AkkaKv.Security;

/// <summary>
/// Mutual TLS on Akka remoting (DotNetty): the certificate an ActorSystem presents, and the one CA
/// it trusts for its peers. Used by nodes (node certificate, node CA), by the node's client port
/// (node certificate, client CA) and by clients (client certificate, node CA).
/// </summary>
public static class RemoteTls
{
    /// <summary>The address scheme of a TLS endpoint: <c>akka.ssl.tcp://akkakv@host:port</c>.</summary>
    public const string Protocol = "akka.ssl.tcp";

    /// <summary>Turns the transport's TLS on; without it Akka ignores the setup.</summary>
    public static readonly Config Hocon = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-ssl = on");

    /// <summary>
    /// The setup that makes an ActorSystem present <paramref name="identity"/> both when it dials and
    /// when it is dialled (mutual authentication), and accept a peer only as
    /// <see cref="Validator"/> says.
    /// </summary>
    public static DotNettySslSetup Setup(X509Certificate2 identity, X509Certificate2 trusted, bool strictOutbound = true) =>
        new(identity, suppressValidation: false, requireMutualAuthentication: true, customValidator: Validator(trusted, strictOutbound));

    /// <summary>
    /// Accepts a peer's certificate only if it chains to <paramref name="trusted"/> (not to the
    /// system's store) and allows its role: a peer this system dialled must present a server
    /// certificate that names the host dialled; a peer that dialled in must present a node
    /// certificate (client and server authentication both). <paramref name="strictOutbound"/> false (the client port, which dials a client
    /// only to deliver a reply): a peer dialled may present a client certificate of the same CA.
    /// Refusals are logged with the reason.
    /// </summary>
    public static CertificateValidationCallback Validator(X509Certificate2 trusted, bool strictOutbound = true) =>
        (certificate, chain, remotePeer, errors, log) =>
        {
            // Akka names the peer by its Akka address when this side dialled, by its socket otherwise.
            var outbound = remotePeer.Contains("://", StringComparison.Ordinal);
            var use = outbound && strictOutbound ? CertificateUse.Server : CertificateUse.Client;
            var intermediates = chain?.ChainElements.Select(e => e.Certificate).ToList();
            var why = (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0 ? "no certificate was presented"
                : use == CertificateUse.Server && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0
                    ? $"certificate '{certificate?.Subject}' does not name the host dialled"
                : CertificateTrust.Refusal(certificate, trusted, use, intermediates)
                    // A node is dialled by nodes only: their certificates allow serving too, which a
                    // client certificate does not, even one of the same CA.
                    ?? (!outbound && strictOutbound ? CertificateTrust.Refusal(certificate, trusted, CertificateUse.Server, intermediates) : null);
            if (why is null) return true;
            log.Warning("remoting TLS: refused {0} {1}: {2}", outbound ? "the peer at" : "a connection from", remotePeer, why);
            return false;
        };
}
