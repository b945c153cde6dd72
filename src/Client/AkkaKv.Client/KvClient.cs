using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using AkkaKv.Security;
using AkkaKv.Protocol;

namespace AkkaKv.Client;

/// <summary>
/// <see cref="IKvClient"/> over Akka.Remote: a small client ActorSystem (loopback, any port)
/// talks straight to each node's gateway actor. A node that does not answer within the request
/// timeout (plus a margin) is skipped and the next endpoint is tried; a node that answers with a
/// failure is believed (the failure is the store's answer, not a transport problem).
/// </summary>
public sealed class KvClient : IKvClient
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);
    // How long finding a node's gateway may take before the next endpoint is tried. The first
    // contact over TLS adds two certificate checks and handshakes, which a busy box stretches.
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan TlsResolveTimeout = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);
    private readonly ActorSystem _system;
    private readonly bool _ownsSystem;
    private readonly string[] _endpoints;
    private readonly string _protocol;
    private readonly ConcurrentDictionary<string, IActorRef> _gateways = new();
    private int _current;

    /// <param name="endpoints">Nodes as host:port (their Akka remoting address, or their client port).</param>
    /// <param name="bindHost">The address this client's own endpoint binds (replies come back to it).</param>
    /// <param name="tls">Mutual TLS to the nodes' client ports (<c>--client-port</c> with <c>--tls-ca</c>); null: plain text.</param>
    public KvClient(IEnumerable<string> endpoints, string bindHost = "127.0.0.1", KvClientTls? tls = null)
        : this(CreateSystem(bindHost, tls), endpoints, ownsSystem: true, protocol: tls is null ? "akka.tcp" : RemoteTls.Protocol) { }

    /// <summary>Uses an existing ActorSystem (which must bind the store's serializer; see <see cref="ProtocolSerializer.ClientConfig"/>).</summary>
    public KvClient(ActorSystem system, IEnumerable<string> endpoints, bool ownsSystem = false, string protocol = "akka.tcp")
    {
        _system = system;
        _ownsSystem = ownsSystem;
        _protocol = protocol;
        _endpoints = endpoints.ToArray();
        if (_endpoints.Length == 0) throw new ArgumentException("at least one node endpoint (host:port) is needed", nameof(endpoints));
    }

    private static ActorSystem CreateSystem(string bindHost, KvClientTls? tls)
    {
        if (tls is null) return ActorSystem.Create("akkakv-client", ClientConfig(bindHost));
        var (identity, nodeCa) = tls.Load();
        var setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(RemoteTls.Hocon.WithFallback(ClientConfig(bindHost))))
            .And(RemoteTls.Setup(identity, nodeCa));
        return ActorSystem.Create("akkakv-client", setup);
    }

    public static Config ClientConfig(string bindHost) =>
        ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = ERROR
              stdout-loglevel = ERROR
              actor.provider = remote
              remote {
                log-remote-lifecycle-events = off
                dot-netty.tcp { hostname = "{{bindHost}}", port = 0, maximum-frame-size = 32 MiB }
              }
            }
            """).WithFallback(ProtocolSerializer.ClientConfig);

    public IReadOnlyList<string> Endpoints => _endpoints;

    public async Task<KvGetResult> GetAsync(Bytes key, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= RequestOptions.Default;
        var (reply, node) = await SendAsync(new Get(key, options), options.Timeout, cancellationToken);
        return reply switch
        {
            GetSuccess s => new KvGetResult(true, s.Values, s.Context, s.Replicas, node,
                s.LastExpiresAtMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(s.LastExpiresAtMs), s.HashFields()),
            NotFound n => new KvGetResult(false, [], n.Context, n.Replicas, node),
            RequestFailed f => throw new KvRequestException(f.Reason, f.Acks, f.Required),
            _ => throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}"),
        };
    }

    public Task<KvWriteResult> PutAsync(Bytes key, Bytes value, string? context = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        WriteAsync(new Put(key, value, context, options ?? RequestOptions.Default), cancellationToken);

    public Task<KvWriteResult> PutAsync(Bytes key, Bytes value, TimeSpan ttl, string? context = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        WriteAsync(new Put(key, value, context, options ?? RequestOptions.Default, TtlMs(ttl)), cancellationToken);

    public async Task<bool> ExpireAsync(Bytes key, TimeSpan? ttl, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var ttlMs = ttl is { } t ? TtlMs(t) : 0;
        var read = await GetAsync(key, options, cancellationToken);
        // Not found, expired since the read, or (to persist) without a deadline: nothing to change, as Redis answers 0.
        if (!read.Found || read.ExpiresAt <= DateTimeOffset.UtcNow || (ttl is null && read.ExpiresAt is null)) return false;
        // A hash: its coordinating replica sets the deadline on the hash it holds.
        if (read.Hash is not null) return (await HashWriteAsync(key, [AkkaKv.Hashes.HashOp.Expire(ttlMs)], options, cancellationToken))[0] == 1;
        if (read.Values.Count == 1 && AkkaKv.Counters.CounterRules.TryParse(read.Values[0], out _))
        {
            // One integer (a counter, or a string holding one): the coordinating replica sets the
            // deadline itself, as an increment of 0 (a write-back of the number could count an
            // increment twice). A refusal for it (not an integer after all, an older member) writes back.
            var request = new Increment(key, 0, options ?? RequestOptions.Default, ttlMs);
            var (reply, _) = await SendAsync(request, request.Options.Timeout, cancellationToken, resend: false);
            if (reply is IncrementSuccess) return true;
            if (reply is RequestFailed f && !Increment.RefusedForTheKey(f))
                throw new KvRequestException(f.Reason, f.Acks, f.Required);
        }
        await WriteAsync(new Put(key, read.Values[^1], read.Context, options ?? RequestOptions.Default, ttlMs), cancellationToken);
        return true;
    }

    public async Task<long> IncrementAsync(Bytes key, long delta = 1, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new Increment(key, delta, options ?? RequestOptions.Default);
        var (reply, node) = await SendAsync(request, request.Options.Timeout, cancellationToken, resend: false);
        return reply switch
        {
            IncrementSuccess s => s.Value,
            RequestFailed f => throw new KvRequestException(f.Reason, f.Acks, f.Required),
            _ => throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}"),
        };
    }

    public async Task<IReadOnlyList<long>> HashWriteAsync(Bytes key, IReadOnlyList<AkkaKv.Hashes.HashOp> ops, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new HashWrite(key, ValueList.From(ops), options ?? RequestOptions.Default);
        // An HINCRBY is applied by the replica to what it holds: never resent to another node (it
        // could count twice). Setting or deleting fields, or a deadline, twice is harmless.
        var (reply, node) = await SendAsync(request, request.Options.Timeout, cancellationToken,
            resend: !ops.Any(o => o.Kind == AkkaKv.Hashes.HashOpKind.Increment));
        return reply switch
        {
            HashWriteSuccess s => s.Results,
            RequestFailed f => throw new KvRequestException(f.Reason == AkkaKv.Counters.CounterRules.WrongType ? "WRONGTYPE " + f.Reason : f.Reason, f.Acks, f.Required),
            _ => throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}"),
        };
    }

    public async Task<IReadOnlyList<AkkaKv.Transactions.KeyOpResult>> TransactionAsync(Bytes key, IReadOnlyList<AkkaKv.Transactions.KeyOp> ops, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new Transaction(key, ValueList.From(ops), options ?? RequestOptions.Default);
        // Increments are applied by the replica to what it holds: never resent to another node.
        var (reply, node) = await SendAsync(request, request.Options.Timeout, cancellationToken,
            resend: !ops.Any(o => o.Kind is AkkaKv.Transactions.KeyOpKind.Increment or AkkaKv.Transactions.KeyOpKind.HashIncrement));
        return reply switch
        {
            TransactionSuccess s => s.Results,
            RequestFailed f => throw new KvRequestException(f.Reason, f.Acks, f.Required),
            _ => throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}"),
        };
    }

    public async Task<long> HashSetAsync(Bytes key, IEnumerable<KeyValuePair<Bytes, Bytes>> fields, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await HashWriteAsync(key, [AkkaKv.Hashes.HashOp.Set(fields.Select(f => (f.Key, f.Value)).ToArray())], options, cancellationToken))[0];

    public async Task<long> HashDeleteAsync(Bytes key, IEnumerable<Bytes> fields, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await HashWriteAsync(key, [AkkaKv.Hashes.HashOp.Delete(fields.ToArray())], options, cancellationToken))[0];

    public async Task<long> HashIncrementAsync(Bytes key, Bytes field, long delta = 1, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await HashWriteAsync(key, [AkkaKv.Hashes.HashOp.Increment(field, delta)], options, cancellationToken))[0];

    public async Task<IReadOnlyDictionary<Bytes, Bytes>> HashGetAllAsync(Bytes key, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var read = await GetAsync(key, options, cancellationToken);
        if (!read.Found) return new Dictionary<Bytes, Bytes>();
        return read.Hash ?? throw new KvRequestException("WRONGTYPE " + AkkaKv.Counters.CounterRules.WrongType, 0, 0);
    }

    private static long TtlMs(TimeSpan ttl) =>
        ttl >= TimeSpan.FromMilliseconds(1) ? (long)Math.Ceiling(ttl.TotalMilliseconds)
            : throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "a TTL is at least 1 ms");

    public Task<KvWriteResult> DeleteAsync(Bytes key, string? context = null, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        WriteAsync(new Delete(key, context, options ?? RequestOptions.Default), cancellationToken);

    private async Task<KvWriteResult> WriteAsync(IKvRequest request, CancellationToken cancellationToken)
    {
        var (reply, node) = await SendAsync(request, request.Options.Timeout, cancellationToken);
        return reply switch
        {
            WriteSuccess s => new KvWriteResult(s.Acks, s.Context, s.Siblings, node),
            RequestFailed f => throw new KvRequestException(f.Reason, f.Acks, f.Required),
            _ => throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}"),
        };
    }

    public async Task<NodeStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        var (reply, node) = await SendAsync(GetStatus.Instance, null, cancellationToken);
        return reply as NodeStatus ?? throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}");
    }

    public async Task<KvScanPage> ScanAsync(long cursor, string? match = null, int count = 10, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= RequestOptions.Default;
        var (reply, node) = await SendAsync(new Scan(cursor, match is null ? null : Bytes.FromUtf8(match), count, options), options.Timeout, cancellationToken);
        return reply switch
        {
            ScanResult r => new KvScanPage(r.Cursor, r.Keys, node),
            RequestFailed f => throw new KvRequestException(f.Reason, f.Acks, f.Required),
            _ => throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}"),
        };
    }

    public async IAsyncEnumerable<Bytes> KeysAsync(string? match = null, int pageSize = 1000,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long cursor = 0;
        do
        {
            var page = await ScanAsync(cursor, match, pageSize, null, cancellationToken);
            foreach (var key in page.Keys) yield return key;
            cursor = page.Cursor;
        } while (cursor != 0);
    }

    public async Task<AkkaKv.Placement.TransferReport> TransfersAsync(CancellationToken cancellationToken = default)
    {
        var (reply, node) = await SendAsync(GetTransfers.Instance, null, cancellationToken);
        return reply as AkkaKv.Placement.TransferReport ?? throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}");
    }

    public Task<AdminReply> LeaveAsync(string node, bool force = false, CancellationToken cancellationToken = default) =>
        AdminAsync(new LeaveNode(node, force), cancellationToken);

    public Task<AdminReply> DownAsync(string node, CancellationToken cancellationToken = default) =>
        AdminAsync(new DownNode(node), cancellationToken);

    private async Task<AdminReply> AdminAsync(object command, CancellationToken cancellationToken)
    {
        var (reply, node) = await SendAsync(command, null, cancellationToken);
        return reply as AdminReply ?? throw new KvUnavailableException($"unexpected reply {reply.GetType().Name} from {node}");
    }

    /// <summary>
    /// Asks the current node, and the next ones in turn while a node cannot be reached or does not
    /// answer. <paramref name="resend"/> false: a request that reached a node that did not answer
    /// in time is not sent to another (an increment would count twice); its outcome is unknown.
    /// </summary>
    private async Task<(object Reply, string Node)> SendAsync(object message, TimeSpan? timeout, CancellationToken cancellationToken, bool resend = true)
    {
        var wait = (timeout ?? DefaultTimeout) + Margin;
        Exception? last = null;
        var start = Volatile.Read(ref _current);
        for (var attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            var index = (start + attempt) % _endpoints.Length;
            var endpoint = _endpoints[index];
            try
            {
                var gateway = await GatewayAsync(endpoint, cancellationToken);
                var reply = await gateway.Ask<object>(message, wait, cancellationToken);
                Volatile.Write(ref _current, index);
                return (reply, endpoint);
            }
            catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException or TimeoutException)
            {
                _gateways.TryRemove(endpoint, out _);
                if (!resend && e is AskTimeoutException)
                    throw new KvUnavailableException($"{endpoint} did not answer within {wait.TotalSeconds:0.#} s: the request may or may not have been applied; it was not sent to another node, so it is never applied twice", e);
                last = e;
            }
        }
        throw new KvUnavailableException($"no AkkaKv node answered ({string.Join(", ", _endpoints)})", last);
    }

    private async Task<IActorRef> GatewayAsync(string endpoint, CancellationToken cancellationToken)
    {
        if (_gateways.TryGetValue(endpoint, out var cached)) return cached;
        var selection = _system.ActorSelection(NodeActors.GatewayPathOf(endpoint, _protocol));
        var gateway = await selection.ResolveOne(_protocol == RemoteTls.Protocol ? TlsResolveTimeout : ResolveTimeout, cancellationToken);
        _gateways[endpoint] = gateway;
        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsSystem) await _system.Terminate();
    }
}
