using System.Net;
using System.Net.Sockets;
using AkkaKv.Client;
using AkkaKv.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// A node behind NAT (issue 14, item 6): n3 binds 127.0.0.2, and a forwarder on 127.0.0.3 (the
/// "NAT") passes connections on to it. With <c>--public-host 127.0.0.3</c> its Akka address names
/// the public address: the cluster knows it by that name, and a client that can only dial the
/// public address reaches it there (a node accepts only messages addressed to its own address, so
/// without the flag n3 would drop them as meant for another system).
/// </summary>
public sealed class PublicHostTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_node_bound_on_one_address_and_advertising_another_joins_and_serves_through_the_forwarder()
    {
        await using var cluster = new ClusterTestContext(output, 3);
        var port = cluster.Ports["n3"];
        using var nat = new Forwarder(new IPEndPoint(IPAddress.Parse("127.0.0.3"), port), new IPEndPoint(IPAddress.Parse("127.0.0.2"), port));
        cluster.ExtraArgs["n3"] = ["--host", "127.0.0.2", "--public-host", "127.0.0.3"];
        cluster.StartAll();
        await cluster.WaitForMembersAsync("n1", cluster.Names.ToList(), TimeSpan.FromSeconds(120));

        await using var client = cluster.Client("n1");
        var status = await client.StatusAsync();
        Assert.Equal($"akka.tcp://akkakv@127.0.0.3:{port}", status.Members.Single(m => m.Node == "n3").Address);
        // Every replica answers: W=3 puts and R=3 gets reach n3's slots through the forwarder.
        var all = new RequestOptions(R: 3, W: 3, Timeout: TimeSpan.FromSeconds(10));
        for (var i = 0; i < 20; i++) await client.PutAsync(Bytes.FromUtf8($"nat-{i}"), Bytes.FromUtf8($"v{i}"), options: all);
        for (var i = 0; i < 20; i++)
        {
            var read = await client.GetAsync(Bytes.FromUtf8($"nat-{i}"), all);
            Assert.Equal([Bytes.FromUtf8($"v{i}")], read.Values);
            Assert.Contains(read.Replicas, r => r.Node == "n3" && r.State == ReplicaReadState.Current);
        }
        // A client that dials n3's public address (through the forwarder) is served by n3.
        await using var outside = new KvClient([$"127.0.0.3:{port}"]);
        Assert.Equal("n3", (await outside.StatusAsync()).Node);
        await outside.PutAsync(Bytes.FromUtf8("nat-outside"), Bytes.FromUtf8("through the NAT"), options: all);
        Assert.Equal([Bytes.FromUtf8("through the NAT")], (await client.GetAsync(Bytes.FromUtf8("nat-outside"), all)).Values);
        output.WriteLine($"forwarder: {nat.Connections} connection(s), {nat.Bytes} bytes");
        Assert.True(nat.Connections > 0 && nat.Bytes > 0, "the client reached n3 through its public address");
    }

    /// <summary>A TCP forwarder from one loopback address to another: the NAT in front of n3.</summary>
    private sealed class Forwarder : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly IPEndPoint _to;
        private readonly CancellationTokenSource _stop = new();
        private long _bytes;
        private int _connections;

        public Forwarder(IPEndPoint from, IPEndPoint to)
        {
            _to = to;
            _listener = new TcpListener(from);
            _listener.Start();
            _ = AcceptAsync();
        }

        public long Bytes => Interlocked.Read(ref _bytes);
        public int Connections => Volatile.Read(ref _connections);

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket inbound;
                try { inbound = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
                Interlocked.Increment(ref _connections);
                _ = ForwardAsync(inbound);
            }
        }

        private async Task ForwardAsync(Socket inbound)
        {
            using var _ = inbound;
            using var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await outbound.ConnectAsync(_to, _stop.Token);
                await Task.WhenAny(PumpAsync(inbound, outbound), PumpAsync(outbound, inbound));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }

        private async Task PumpAsync(Socket from, Socket to)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int n;
                while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
                {
                    Interlocked.Add(ref _bytes, n);
                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
