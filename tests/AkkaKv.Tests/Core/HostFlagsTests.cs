using AkkaKv.Host;
using Xunit;

namespace AkkaKv.Tests.Core;

/// <summary>The node's flags are a public interface: scripts depend on their names and defaults.</summary>
public sealed class HostFlagsTests
{
    private static string? NoEnv(string _) => null;

    [Fact]
    public void Every_flag_sets_its_option()
    {
        var o = HostFlags.Parse(["--name", "n7", "--host", "127.0.0.2", "--port", "4107", "--resp-port", "6390", "--seed", "127.0.0.1:4001", "--seed", "127.0.0.1:4002", "--data-dir", "/tmp/n7"], NoEnv);
        Assert.Equal("n7", o.NodeName);
        Assert.Equal("127.0.0.2", o.Host);
        Assert.Equal(4107, o.Port);
        Assert.Equal(6390, o.RespPort);
        Assert.Equal(["127.0.0.1:4001", "127.0.0.1:4002"], o.Seeds);
        Assert.Equal("/tmp/n7", o.DataDir);
    }

    [Fact]
    public void Defaults_bind_loopback_on_any_port_with_data_under_data_slash_name()
    {
        var o = HostFlags.Parse(["--name", "n1"], NoEnv);
        Assert.Equal("127.0.0.1", o.Host);
        Assert.Equal(0, o.Port);
        Assert.Equal(0, o.RespPort);
        Assert.Empty(o.Seeds);
        Assert.Equal(Path.Combine("data", "n1"), o.DataDir);
    }

    [Fact]
    public void The_environment_supplies_what_flags_do_not_and_a_flag_wins_over_its_variable()
    {
        var env = new Dictionary<string, string>
        {
            ["AKKAKV_NAME"] = "envnode", ["AKKAKV_PORT"] = "4200", ["AKKAKV_RESP_PORT"] = "6391", ["AKKAKV_SEEDS"] = "127.0.0.1:1, 127.0.0.1:2", ["AKKAKV_DATA_DIR"] = "/tmp/env",
        };
        var o = HostFlags.Parse(["--port", "4300"], k => env.GetValueOrDefault(k));
        Assert.Equal("envnode", o.NodeName);
        Assert.Equal(4300, o.Port);
        Assert.Equal(6391, o.RespPort);
        Assert.Equal(["127.0.0.1:1", "127.0.0.1:2"], o.Seeds);
        Assert.Equal("/tmp/env", o.DataDir);
    }

    [Theory]
    [InlineData(new string[0], "--name is required")]
    [InlineData(new[] { "--name", "n1", "--port", "http" }, "--port 'http' is not a port number")]
    [InlineData(new[] { "--name", "n1", "--port", "70000" }, "--port '70000' is not a port number")]
    [InlineData(new[] { "--name", "n1", "--resp-port", "-1" }, "--resp-port '-1' is not a port number")]
    [InlineData(new[] { "--name", "n1", "--seed", "nohost" }, "--seed 'nohost' must be host:port")]
    [InlineData(new[] { "--name" }, "--name needs a value")]
    [InlineData(new[] { "--name", "n1", "--bogus", "x" }, "unknown flag '--bogus'")]
    public void Bad_flags_are_refused_with_a_message_that_names_them(string[] args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => HostFlags.Parse(args, NoEnv));
        Assert.Contains(message, e.Message);
    }
}
