using AkkaKv.Configuration;
using Xunit;

namespace AkkaKv.Tests.Core;

public sealed class ProtectedModeTests
{
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", true)]
    [InlineData("127.255.255.254", true)]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("::1", true)]
    [InlineData("[::1]", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("10.0.0.5", false)]
    [InlineData("192.168.1.10", false)]
    [InlineData("kv1.example.com", false)]
    [InlineData("localhost.example.com", false)]
    [InlineData("128.0.0.1", false)]
    public void Only_loopback_addresses_and_localhost_count_as_loopback(string host, bool loopback) =>
        Assert.Equal(loopback, ProtectedMode.IsLoopback(host));

    [Theory]
    [InlineData("127.0.0.1", 6381, false)]
    [InlineData("127.0.0.1", 0, false)]
    [InlineData("localhost", 6381, true)]
    public void On_loopback_a_node_starts_without_TLS_or_password(string host, int respPort, bool password) =>
        Assert.Null(ProtectedMode.Refusal(host, respPort, password, remotingTls: false, contextKeys: true, insecure: false));

    [Fact]
    public void Exposed_without_TLS_the_node_refuses_and_says_why_and_how_to_proceed()
    {
        var refusal = ProtectedMode.Refusal("0.0.0.0", 0, respPassword: false, remotingTls: false, contextKeys: true, insecure: false);
        Assert.NotNull(refusal);
        Assert.Contains("--host 0.0.0.0", refusal);
        Assert.Contains("no TLS", refusal);
        Assert.DoesNotContain("RESP", refusal);
        Assert.Contains("--insecure", refusal);
    }

    [Fact]
    public void Exposed_with_a_RESP_port_and_no_password_the_refusal_names_the_port_and_the_password_flag()
    {
        var refusal = ProtectedMode.Refusal("10.0.0.5", 6381, respPassword: false, remotingTls: false, contextKeys: true, insecure: false);
        Assert.Contains("RESP port 6381 has no password", refusal);
        Assert.Contains("--requirepass", refusal);
        // A password alone does not make an exposed node safe while remoting is open.
        var withPassword = ProtectedMode.Refusal("10.0.0.5", 6381, respPassword: true, remotingTls: false, contextKeys: true, insecure: false);
        Assert.NotNull(withPassword);
        Assert.DoesNotContain("RESP", withPassword);
    }

    [Fact]
    public void Exposed_with_the_public_development_context_key_the_refusal_names_the_context_keys_flag()
    {
        var refusal = ProtectedMode.Refusal("10.0.0.5", 0, respPassword: true, remotingTls: true, contextKeys: false, insecure: false);
        Assert.NotNull(refusal);
        Assert.Contains("public development key", refusal);
        Assert.Contains("--context-keys", refusal);
    }

    [Fact]
    public void Protected_means_TLS_and_a_RESP_password_and_insecure_overrides_everything()
    {
        Assert.Null(ProtectedMode.Refusal("10.0.0.5", 6381, respPassword: true, remotingTls: true, contextKeys: true, insecure: false));
        Assert.Null(ProtectedMode.Refusal("10.0.0.5", 0, respPassword: false, remotingTls: true, contextKeys: true, insecure: false));
        Assert.NotNull(ProtectedMode.Refusal("10.0.0.5", 6381, respPassword: false, remotingTls: true, contextKeys: true, insecure: false));
        Assert.Null(ProtectedMode.Refusal("0.0.0.0", 6381, respPassword: false, remotingTls: false, contextKeys: false, insecure: true));
    }

    [Fact]
    public void Exposed_with_an_HTTP_port_the_node_needs_TLS_on_it_and_on_loopback_it_does_not()
    {
        var refusal = ProtectedMode.Refusal("10.0.0.5", 0, respPassword: true, remotingTls: true, contextKeys: true, insecure: false, httpPort: 8001, httpTls: false);
        Assert.NotNull(refusal);
        Assert.Contains("HTTP port 8001 has no TLS", refusal);
        Assert.Contains("--tls-cert", refusal);
        Assert.Null(ProtectedMode.Refusal("10.0.0.5", 0, respPassword: true, remotingTls: true, contextKeys: true, insecure: false, httpPort: 8001, httpTls: true));
        Assert.Null(ProtectedMode.Refusal("127.0.0.1", 0, respPassword: false, remotingTls: false, contextKeys: false, insecure: false, httpPort: 8001, httpTls: false));
        Assert.Null(ProtectedMode.Refusal("10.0.0.5", 0, respPassword: false, remotingTls: false, contextKeys: false, insecure: true, httpPort: 8001, httpTls: false));
    }
}
