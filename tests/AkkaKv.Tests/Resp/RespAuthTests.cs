using System.Net;
using AkkaKv.Resp;
using Xunit;
using static AkkaKv.Tests.Resp.RespTestSupport;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// Redis's requirepass on a real <see cref="RespServer"/> (loopback, raw sockets, every reply byte
/// for byte): the default user's password from <c>akka-kv.resp.requirepass</c>, NOAUTH before
/// AUTH, WRONGPASS for a wrong user or password, and the same answers as Redis with no password set.
/// </summary>
public sealed class RespAuthTests
{
    private const string Password = "s3cret pass";
    private const string NoAuth = "-NOAUTH Authentication required.\r\n";
    private const string WrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

    private static (RespServer Server, InMemoryKvBackend Backend) Start(string? password)
    {
        var settings = SmallLimitsSettings(password is null ? null : $"akka-kv.resp.requirepass = \"{password}\"");
        var backend = new InMemoryKvBackend(settings);
        return (RespServer.Start(new IPEndPoint(IPAddress.Loopback, 0), settings, backend), backend);
    }

    private static async Task<string> Call(RespTestClient client, params string[] args) => (await client.CallAsync(args)).Raw;

    [Fact]
    public async Task With_a_password_every_command_but_AUTH_HELLO_and_QUIT_answers_NOAUTH_and_reaches_nothing()
    {
        var (server, backend) = Start(Password);
        await using var _ = server;
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);

        foreach (var command in new[] { new[] { "PING" }, ["GET", "k"], ["SET", "k", "v"], ["KV.PUT", "k", "v"], ["DEL", "k"], ["INFO"], ["CLIENT", "ID"],
                     ["CONFIG", "GET", "*"], ["COMMAND"], ["KV.STATUS"], ["NOSUCHCOMMAND", "x"], ["GET"] })
            Assert.Equal(NoAuth, await Call(c, command));
        Assert.Empty(backend.Requests);
        // The connection stays open and authenticates.
        Assert.Equal("+OK\r\n", await Call(c, "AUTH", Password));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
        Assert.Equal("+OK\r\n", await Call(c, "SET", "k", "v"));
        Assert.Equal("$1\r\nv\r\n", await Call(c, "GET", "k"));

        // Authentication belongs to the connection: a new one starts over.
        await using var other = await RespTestClient.ConnectAsync(server.LocalEndPoint);
        Assert.Equal(NoAuth, await Call(other, "GET", "k"));
    }

    [Fact]
    public async Task A_wrong_password_or_user_answers_WRONGPASS_and_the_right_ones_log_in_as_Redis_6()
    {
        var (server, _) = Start(Password);
        await using var _s = server;
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);

        Assert.Equal(WrongPass, await Call(c, "AUTH", "wrong"));
        Assert.Equal(WrongPass, await Call(c, "AUTH", Password + "x"));
        Assert.Equal(WrongPass, await Call(c, "AUTH", ""));
        Assert.Equal(WrongPass, await Call(c, "AUTH", "admin", Password));
        Assert.Equal(WrongPass, await Call(c, "AUTH", "default", "wrong"));
        Assert.Equal("-ERR syntax error\r\n", await Call(c, "AUTH", "default", Password, "extra"));
        Assert.Equal("-ERR wrong number of arguments for 'auth' command\r\n", await Call(c, "AUTH"));
        Assert.Equal(NoAuth, await Call(c, "PING"));
        Assert.Equal("+OK\r\n", await Call(c, "AUTH", "default", Password));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
        // A failed AUTH later does not log an authenticated connection out (as Redis).
        Assert.Equal(WrongPass, await Call(c, "AUTH", "wrong"));
        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
    }

    [Fact]
    public async Task HELLO_needs_AUTH_before_it_switches_protocol_and_HELLO_AUTH_logs_in()
    {
        var (server, _) = Start(Password);
        await using var _s = server;
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);

        Assert.Equal("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
            await Call(c, "HELLO", "3"));
        Assert.Equal(WrongPass, await Call(c, "HELLO", "3", "AUTH", "default", "wrong", "SETNAME", "app"));
        Assert.Equal(WrongPass, await Call(c, "HELLO", "3", "AUTH", "any", "any"));
        // Nothing changed: still RESP2 and not logged in.
        Assert.Equal(NoAuth, await Call(c, "PING"));
        var hello = await c.CallAsync("HELLO", "3", "AUTH", "default", Password, "SETNAME", "app");
        Assert.Equal('%', hello.Type);
        Assert.Equal("$3\r\napp\r\n", await Call(c, "CLIENT", "GETNAME"));
        Assert.Equal('%', (await c.CallAsync("HELLO", "3")).Type);
    }

    [Fact]
    public async Task QUIT_works_before_AUTH()
    {
        var (server, _) = Start(Password);
        await using var _s = server;
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);
        Assert.Equal("+OK\r\n", await Call(c, "QUIT"));
    }

    [Fact]
    public async Task With_no_password_the_default_user_logs_in_with_any_password_and_other_users_are_refused_as_Redis()
    {
        var (server, _) = Start(null);
        await using var _s = server;
        await using var c = await RespTestClient.ConnectAsync(server.LocalEndPoint);

        Assert.Equal("+PONG\r\n", await Call(c, "PING"));
        Assert.Equal("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
            await Call(c, "AUTH", "anything"));
        Assert.Equal("+OK\r\n", await Call(c, "AUTH", "default", "anything"));
        Assert.Equal(WrongPass, await Call(c, "AUTH", "any", "any"));
        Assert.Equal(WrongPass, await Call(c, "HELLO", "3", "AUTH", "any", "any"));
        Assert.Equal('%', (await c.CallAsync("HELLO", "3", "AUTH", "default", "anything")).Type);
    }
}
