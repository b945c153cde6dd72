using System.Security.Cryptography.X509Certificates;
using AkkaKv.Security;

namespace AkkaKv.Client;

/// <summary>
/// Mutual TLS from a client to the nodes' client ports: the client's certificate and private key
/// (PEM, issued by the client CA the nodes trust, <c>--tls-client-ca</c>; <c>./akkakv certs</c>
/// writes <c>client.crt</c> and <c>client.key</c>) and the CA of the node certificates
/// (<c>ca.crt</c>), the only one whose certificates this client accepts from a node.
/// </summary>
public sealed record KvClientTls(string CertFile, string KeyFile, string CaFile)
{
    /// <summary>The client's credential and the node CA; a missing or unusable file throws <see cref="Configuration.KvSettingsException"/> naming it.</summary>
    public (X509Certificate2 Identity, X509Certificate2 NodeCa) Load() =>
        (CertificateTrust.LoadIdentity(CertFile, KeyFile, "--tls-cert", "--tls-key"), CertificateTrust.LoadCa(CaFile, "--tls-ca"));
}
