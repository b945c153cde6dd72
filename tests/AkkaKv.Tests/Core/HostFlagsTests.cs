using AkkaKv.Host;
using AkkaKv.Hosting;
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
    [InlineData(new[] { "--name", "n1", "--journal", "postgres" }, "--journal 'postgres' must be sqlite or postgresql")]
    [InlineData(new[] { "--name", "n1", "--journal", "" }, "--journal '' must be sqlite or postgresql")]
    [InlineData(new[] { "--name", "n1", "--journal" }, "--journal needs a value")]
    [InlineData(new[] { "--name", "n1", "--postgres", " " }, "--postgres needs a PostgreSQL connection string")]
    [InlineData(new[] { "--name", "n1", "--postgres" }, "--postgres needs a value")]
    [InlineData(new[] { "--name", "n1", "--requirepass", "" }, "--requirepass needs a non-empty password")]
    [InlineData(new[] { "--name", "n1", "--requirepass" }, "--requirepass needs a value")]
    public void Bad_flags_are_refused_with_a_message_that_names_them(string[] args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => HostFlags.Parse(args, NoEnv));
        Assert.Contains(message, e.Message);
    }

    /// <summary>What the node would run with: its flags as NodeOptions, read into settings as the Host does.</summary>
    private static KvSettings SettingsOf(NodeOptions o) => KvSettings.FromConfig(AkkaKvHosting.NodeConfig(o));

    [Fact]
    public void The_remoting_TLS_flags_and_the_client_port_reach_the_settings_and_their_variables_supply_them_too()
    {
        var dir = Path.Combine(Path.GetTempPath(), "akkakv-flags-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var f in new[] { "node.crt", "node.key", "ca.crt", "client-ca.crt" }) File.WriteAllText(Path.Combine(dir, f), "");
            string P(string f) => Path.Combine(dir, f);
            var o = HostFlags.Parse(["--name", "n1", "--tls-cert", P("node.crt"), "--tls-key", P("node.key"), "--tls-ca", P("ca.crt"),
                "--tls-client-ca", P("client-ca.crt"), "--client-port", "5001"], NoEnv);
            var s = SettingsOf(o);
            Assert.Equal(5001, o.ClientPort);
            Assert.True(s.RemoteTls);
            Assert.Equal(P("ca.crt"), s.TlsCaFile);
            Assert.Equal(P("client-ca.crt"), s.TlsClientCaFile);

            var env = new Dictionary<string, string>
            {
                ["AKKAKV_TLS_CERT"] = P("node.crt"), ["AKKAKV_TLS_KEY"] = P("node.key"), ["AKKAKV_TLS_CA"] = P("ca.crt"),
                ["AKKAKV_TLS_CLIENT_CA"] = P("client-ca.crt"), ["AKKAKV_CLIENT_PORT"] = "5002",
            };
            var fromEnv = HostFlags.Parse(["--name", "n1"], k => env.GetValueOrDefault(k));
            Assert.Equal(5002, fromEnv.ClientPort);
            Assert.Equal(P("client-ca.crt"), SettingsOf(fromEnv).TlsClientCaFile);

            // Without --tls-ca remoting stays plain; a CA without the node's own certificate, or a
            // client CA without remoting TLS, is refused by name.
            Assert.False(SettingsOf(HostFlags.Parse(["--name", "n1", "--tls-cert", P("node.crt"), "--tls-key", P("node.key")], NoEnv)).RemoteTls);
            Assert.Contains("tls.ca-file (mutual TLS on remoting) needs the node's own certificate",
                Assert.ThrowsAny<Akka.Configuration.ConfigurationException>(() => SettingsOf(HostFlags.Parse(["--name", "n1", "--tls-ca", P("ca.crt")], NoEnv))).Message);
            Assert.Contains("tls.client-ca-file (client certificates on the client port) needs tls.ca-file",
                Assert.ThrowsAny<Akka.Configuration.ConfigurationException>(() => SettingsOf(HostFlags.Parse(["--name", "n1", "--tls-cert", P("node.crt"), "--tls-key", P("node.key"), "--tls-client-ca", P("client-ca.crt")], NoEnv))).Message);
            Assert.Contains("--tls-ca '/nonexistent.crt': no such file",
                Assert.Throws<ArgumentException>(() => HostFlags.Parse(["--name", "n1", "--tls-ca", "/nonexistent.crt"], NoEnv)).Message);
            Assert.Contains("--client-port 'x' is not a port number",
                Assert.Throws<ArgumentException>(() => HostFlags.Parse(["--name", "n1", "--client-port", "x"], NoEnv)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Without_journal_flags_a_node_journals_to_sqlite()
    {
        var o = HostFlags.Parse(["--name", "n1"], NoEnv);
        Assert.Null(o.ExtraHocon);
        Assert.Equal(JournalBackend.Sqlite, SettingsOf(o).Journal);
    }

    [Fact]
    public void Journal_and_postgres_flags_put_the_node_on_its_own_postgresql_database()
    {
        var o = HostFlags.Parse(["--name", "n3", "--journal", "postgresql", "--postgres", "Host=127.0.0.1;Port=5433;Username=kv;Password=pw"], NoEnv);
        var s = SettingsOf(o);
        Assert.Equal(JournalBackend.PostgreSql, s.Journal);
        Assert.Equal("Host=127.0.0.1;Port=5433;Username=kv;Password=pw", s.PostgresConnectionString);
        Assert.Equal("akkakv_n3", s.PostgresDatabase);
    }

    [Theory]
    [InlineData("Host=db;Password=\"p;w\"")]
    [InlineData(@"Host=db;Password=back\slash")]
    [InlineData("Host=db;Password=${HOME}#not-a-comment//nor-this")]
    [InlineData("Host=db;Password='it''s'")]
    public void A_connection_string_reaches_the_settings_exactly_as_given(string connectionString)
    {
        var o = HostFlags.Parse(["--name", "n1", "--journal", "postgresql", "--postgres", connectionString], NoEnv);
        Assert.Equal(connectionString, SettingsOf(o).PostgresConnectionString);
    }

    [Fact]
    public void The_environment_supplies_the_journal_and_a_flag_wins_over_its_variable()
    {
        var env = new Dictionary<string, string> { ["AKKAKV_JOURNAL"] = "postgresql", ["AKKAKV_POSTGRES"] = "Host=from-env;Username=kv" };
        var fromEnv = SettingsOf(HostFlags.Parse(["--name", "n1"], k => env.GetValueOrDefault(k)));
        Assert.Equal(JournalBackend.PostgreSql, fromEnv.Journal);
        Assert.Equal("Host=from-env;Username=kv", fromEnv.PostgresConnectionString);

        var flags = SettingsOf(HostFlags.Parse(["--name", "n1", "--journal", "sqlite", "--postgres", "Host=from-flag;Username=kv"], k => env.GetValueOrDefault(k)));
        Assert.Equal(JournalBackend.Sqlite, flags.Journal);
        Assert.Equal("Host=from-flag;Username=kv", flags.PostgresConnectionString);
    }

    [Fact]
    public void Empty_journal_variables_count_as_unset()
    {
        var env = new Dictionary<string, string> { ["AKKAKV_JOURNAL"] = "", ["AKKAKV_POSTGRES"] = "" };
        var o = HostFlags.Parse(["--name", "n1"], k => env.GetValueOrDefault(k));
        Assert.Null(o.ExtraHocon);
        Assert.Equal(JournalBackend.Sqlite, SettingsOf(o).Journal);
    }

    [Fact]
    public void A_bad_journal_variable_is_refused_naming_the_variable()
    {
        var e = Assert.Throws<ArgumentException>(() => HostFlags.Parse(["--name", "n1"], k => k == "AKKAKV_JOURNAL" ? "mysql" : null));
        Assert.Contains("AKKAKV_JOURNAL 'mysql' must be sqlite or postgresql", e.Message);
    }

    [Fact]
    public void The_journal_flags_win_over_the_config_file_and_the_rest_of_the_file_still_applies()
    {
        var file = Path.Combine(Path.GetTempPath(), $"akkakv-flags-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "akka-kv.storage.journal = sqlite\nakka-kv.storage.postgresql.connection-string = \"Host=from-file\"\nakka-kv.request.w = 3\n");
        try
        {
            var s = SettingsOf(HostFlags.Parse(["--name", "n1", "--config", file, "--journal", "postgresql"], NoEnv));
            Assert.Equal(JournalBackend.PostgreSql, s.Journal);
            Assert.Equal("Host=from-file", s.PostgresConnectionString);
            Assert.Equal(3, s.DefaultW);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_usage_names_the_journal_flags_and_their_variables()
    {
        foreach (var text in new[] { "--journal", "sqlite", "postgresql", "--postgres", "AKKAKV_JOURNAL", "AKKAKV_POSTGRES" })
            Assert.Contains(text, HostFlags.Usage);
    }

    [Fact]
    public void Requirepass_from_the_flag_or_the_environment_sets_the_RESP_password_and_the_flag_wins()
    {
        Assert.Equal("", SettingsOf(HostFlags.Parse(["--name", "n1"], NoEnv)).RespRequirePass);
        const string tricky = "p\"w#${x} \\ q";
        Assert.Equal(tricky, SettingsOf(HostFlags.Parse(["--name", "n1", "--requirepass", tricky], NoEnv)).RespRequirePass);
        var env = new Dictionary<string, string> { ["AKKAKV_REQUIREPASS"] = "from-env" };
        Assert.Equal("from-env", SettingsOf(HostFlags.Parse(["--name", "n1"], k => env.GetValueOrDefault(k))).RespRequirePass);
        Assert.Equal("from-flag", SettingsOf(HostFlags.Parse(["--name", "n1", "--requirepass", "from-flag"], k => env.GetValueOrDefault(k))).RespRequirePass);
    }

    [Fact]
    public void Insecure_is_off_unless_the_flag_or_AKKAKV_INSECURE_says_so()
    {
        Assert.False(HostFlags.Parse(["--name", "n1"], NoEnv).Insecure);
        Assert.True(HostFlags.Parse(["--name", "n1", "--insecure"], NoEnv).Insecure);
        foreach (var (value, expected) in new[] { ("1", true), ("true", true), ("0", false), ("false", false), ("", false) })
            Assert.Equal(expected, HostFlags.Parse(["--name", "n1"], k => k == "AKKAKV_INSECURE" ? value : null).Insecure);
        var e = Assert.Throws<ArgumentException>(() => HostFlags.Parse(["--name", "n1"], k => k == "AKKAKV_INSECURE" ? "yes" : null));
        Assert.Contains("AKKAKV_INSECURE 'yes' must be 1, true, 0 or false", e.Message);
    }

    [Fact]
    public void The_http_port_comes_from_its_flag_or_AKKAKV_HTTP_PORT_and_is_off_by_default()
    {
        Assert.Equal(0, HostFlags.Parse(["--name", "n1"], NoEnv).HttpPort);
        Assert.Equal(8001, HostFlags.Parse(["--name", "n1", "--http-port", "8001"], NoEnv).HttpPort);
        Assert.Equal(8002, HostFlags.Parse(["--name", "n1"], k => k == "AKKAKV_HTTP_PORT" ? "8002" : null).HttpPort);
        Assert.Contains("--http-port '99999' is not a port number",
            Assert.Throws<ArgumentException>(() => HostFlags.Parse(["--name", "n1", "--http-port", "99999"], NoEnv)).Message);
    }

    [Fact]
    public void The_public_host_comes_from_its_flag_or_AKKAKV_PUBLIC_HOST_and_is_null_when_it_is_the_bind_address()
    {
        Assert.Null(HostFlags.Parse(["--name", "n1"], NoEnv).PublicHost);
        var behindNat = HostFlags.Parse(["--name", "n1", "--host", "0.0.0.0", "--public-host", "node1.example.net"], NoEnv);
        Assert.Equal(("0.0.0.0", "node1.example.net"), (behindNat.Host, behindNat.PublicHost));
        Assert.Equal("10.1.2.3", HostFlags.Parse(["--name", "n1"], k => k == "AKKAKV_PUBLIC_HOST" ? "10.1.2.3" : null).PublicHost);
        Assert.Null(HostFlags.Parse(["--name", "n1", "--host", "127.0.0.1", "--public-host", "127.0.0.1"], NoEnv).PublicHost);
        Assert.Contains("--public-host 'not a host!' is not a host name or an IP address",
            Assert.Throws<ArgumentException>(() => HostFlags.Parse(["--name", "n1", "--public-host", "not a host!"], NoEnv)).Message);
    }
}
