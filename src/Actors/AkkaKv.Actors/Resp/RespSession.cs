using System.Text;
using AkkaKv.Configuration;

namespace AkkaKv.Resp;

/// <summary>Node-wide facts the RESP commands report (HELLO, INFO, CONFIG GET, CLIENT INFO).</summary>
/// <summary>What INFO and CONFIG GET report about the node; <see cref="Time"/> is the node's clock (uptime).</summary>
internal sealed record RespNodeInfo(KvSettings Settings, int Port, DateTimeOffset StartedAt, Func<int> ConnectedClients, TimeProvider Time);

/// <summary>A command's reply, in the protocol version in force when it ran, and whether the connection closes after it.</summary>
internal readonly record struct PendingReply(Task<RespValue> Reply, int Protocol, bool CloseAfter);

/// <summary>
/// The state of one client connection (protocol version, name, an open transaction) and the
/// order its commands run in.
///
/// Pipelined commands are answered in the order they arrived (the connection writes replies in
/// that order), and they take effect in that order **per key**: a command that writes a key starts
/// only once every earlier command of the connection on that key has finished, and a read of a key
/// only once every earlier write of it has; commands on different keys run concurrently. So a
/// pipelined <c>SET k v</c> then <c>GET k</c> reads v, exactly as with Redis, while a batch of GETs,
/// or the writes of many clients multiplexed over one connection (StackExchange.Redis), fan out over
/// the cluster at once, as they would over the shards of a Redis Cluster. A command with many keys
/// waits for each of them; one with none that reads the store (<c>SCAN</c>, <c>KEYS</c>,
/// <c>DBSIZE</c>, <c>INFO</c>) runs after everything before it and before everything after it.
/// </summary>
internal sealed class RespSession
{
    private static long _nextId;

    private readonly IKvBackend _backend;
    /// <summary>Per key with a command in flight: its last write, and the reads of it started since.</summary>
    private readonly Dictionary<Bytes, KeyOrder> _keys = new();
    /// <summary>The last command without keys (every command after it waits for it), and every keyed command started since.</summary>
    private Task _barrier = Task.CompletedTask;
    private readonly List<Task> _sinceBarrier = new();
    /// <summary>When <see cref="_keys"/> or <see cref="_sinceBarrier"/> grows to this, finished entries are dropped.</summary>
    private int _sweepAt = MinSweep;
    private const int MinSweep = 256;

    private sealed class KeyOrder
    {
        public Task LastWrite = Task.CompletedTask;
        public readonly List<Task> ReadsSince = new();
    }

    public RespSession(IKvBackend backend, RespNodeInfo node, string remoteAddress, string localAddress)
    {
        _backend = backend;
        Node = node;
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        Id = Interlocked.Increment(ref _nextId);
        Authenticated = !RespAuth.Required(node.Settings);
    }

    public long Id { get; }
    public RespNodeInfo Node { get; }
    public string RemoteAddress { get; }
    public string LocalAddress { get; }
    /// <summary>2 (RESP2) until the client says <c>HELLO 3</c>.</summary>
    public int Protocol { get; internal set; } = 2;
    public string? Name { get; internal set; }
    /// <summary>False until AUTH (or HELLO ... AUTH) succeeds when the node has a password (<c>resp.requirepass</c>); true from the start otherwise.</summary>
    public bool Authenticated { get; internal set; }
    internal string LastCommand { get; private set; } = "";
    /// <summary>The commands queued since <c>MULTI</c>; null outside a transaction.</summary>
    internal QueuedTransaction? Transaction { get; set; }
    /// <summary>A WATCH was refused since the last EXEC, DISCARD or UNWATCH: the next EXEC is refused too.</summary>
    internal bool WatchRefused { get; set; }

    /// <summary>What runs while a transaction is open rather than being queued, as in Redis.</summary>
    private static readonly HashSet<string> TransactionControl = ["MULTI", "EXEC", "DISCARD", "WATCH", "QUIT"];
    internal IKvBackend Backend => _backend;

    /// <summary>Starts one command (its first argument is the name) and returns its reply to be written in turn.</summary>
    public PendingReply Execute(Bytes[] args)
    {
        var name = args[0].Length <= 32 ? Encoding.ASCII.GetString(args[0].Span).ToUpperInvariant() : "";
        // As Redis with requirepass: before AUTH, only the no-auth commands (AUTH, HELLO, QUIT) run;
        // every other one, known or not, answers NOAUTH and is not looked at further.
        if (!Authenticated && !RespAuth.AllowedBeforeAuth(name))
            return Now(RespValue.Error(RespAuth.NoAuth));
        if (!RespCommands.Table.TryGetValue(name, out var command))
            return Refused(RespValue.Error($"ERR unknown command '{Show(args[0])}', with args beginning with: {string.Join(" ", args.Skip(1).Take(8).Select(a => $"'{Show(a)}'"))}"));
        if (command.Arity > 0 ? args.Length != command.Arity : args.Length < -command.Arity)
            return Refused(RespValue.Error($"ERR wrong number of arguments for '{command.Name.ToLowerInvariant()}' command"));
        LastCommand = command.Name.ToLowerInvariant();
        var call = new RespCall(this, args);
        if (Transaction is { } open && !TransactionControl.Contains(command.Name))
            return Now(RespCommands.Queue(open, command, call));
        if (command.Name == "EXEC")
        {
            // The queue is taken now, in arrival order; EXEC runs after every earlier command on its keys.
            call = call with { Queued = Transaction, AfterRefusedWatch = WatchRefused };
            Transaction = null;
            WatchRefused = false;
        }
        switch (command.Kind)
        {
            case CommandKind.Connection:
                // Runs now, in arrival order: it only touches this connection (HELLO switches the
                // protocol for its own reply and every later one).
                var reply = Safe(() => command.Run(call));
                return new PendingReply(reply, Protocol, command.ClosesConnection);
            case CommandKind.Read:
                return new PendingReply(Sequence(() => command.Run(call), write: false, RespCommands.KeysOf(command, args)), Protocol, false);
            default:
                // EXEC writes the keys its queued commands name.
                var keys = call.Queued is { } queued ? queued.Keys : RespCommands.KeysOf(command, args);
                return new PendingReply(Sequence(() => command.Run(call), write: true, keys), Protocol, false);
        }
    }

    private Task<RespValue> Sequence(Func<Task<RespValue>> run, bool write, IReadOnlyList<Bytes> named)
    {
        var keys = named.Count <= 1 ? named : named.Distinct().ToList();
        var waits = new List<Task>();
        if (!_barrier.IsCompleted) waits.Add(_barrier);
        if (keys.Count == 0) waits.AddRange(_sinceBarrier.Where(t => !t.IsCompleted));
        else
            foreach (var key in keys)
            {
                if (!_keys.TryGetValue(key, out var order)) continue;
                if (!order.LastWrite.IsCompleted) waits.Add(order.LastWrite);
                if (write) waits.AddRange(order.ReadsSince.Where(t => !t.IsCompleted));
            }
        var task = waits.Count == 0 ? Safe(run) : After(waits.Count == 1 ? waits[0] : Task.WhenAll(waits), run);
        if (keys.Count == 0)
        {
            // Everything earlier is behind it, and everything later waits for it.
            _barrier = task;
            _sinceBarrier.Clear();
            _keys.Clear();
            return task;
        }
        _sinceBarrier.Add(task);
        foreach (var key in keys)
        {
            if (!_keys.TryGetValue(key, out var order)) _keys[key] = order = new KeyOrder();
            if (write)
            {
                order.LastWrite = task;
                order.ReadsSince.Clear();
            }
            else
            {
                order.ReadsSince.RemoveAll(t => t.IsCompleted);
                order.ReadsSince.Add(task);
            }
        }
        if (_keys.Count >= _sweepAt || _sinceBarrier.Count >= _sweepAt) Sweep();
        return task;
    }

    /// <summary>Drops the keys whose commands have all finished (a connection that touches many keys keeps only those in flight).</summary>
    private void Sweep()
    {
        foreach (var (key, order) in _keys.ToList())
            if (order.LastWrite.IsCompleted && order.ReadsSince.TrueForAll(t => t.IsCompleted))
                _keys.Remove(key);
        _sinceBarrier.RemoveAll(t => t.IsCompleted);
        _sweepAt = Math.Max(MinSweep, 2 * Math.Max(_keys.Count, _sinceBarrier.Count));
    }

    private static async Task<RespValue> After(Task before, Func<Task<RespValue>> run)
    {
        // Earlier commands never fault (Safe turns every failure into an error reply).
        await before.ConfigureAwait(false);
        return await Safe(run).ConfigureAwait(false);
    }

    private static async Task<RespValue> Safe(Func<Task<RespValue>> run)
    {
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return RespValue.Error("ERR the node did not answer in time; the outcome of a write is unknown (it may be on fewer than W replicas)");
        }
        catch (Exception e)
        {
            return RespValue.Error($"ERR internal error: {e.GetType().Name}: {e.Message}");
        }
    }

    private PendingReply Now(RespValue value) => new(Task.FromResult(value), Protocol, false);

    /// <summary>A command refused before it ran; inside a transaction, it aborts it (EXEC then discards it), as in Redis.</summary>
    private PendingReply Refused(RespValue error)
    {
        if (Transaction is { } open) open.Aborted = true;
        return Now(error);
    }

    /// <summary>An argument as Redis shows it in error messages: printable ASCII as is, the rest escaped, long ones cut.</summary>
    internal static string Show(Bytes arg)
    {
        var sb = new StringBuilder();
        foreach (var b in arg.Span[..Math.Min(arg.Length, 128)])
            sb.Append(b is >= 0x20 and < 0x7f and not (byte)'\'' ? (char)b : $"\\x{b:x2}");
        if (arg.Length > 128) sb.Append("...");
        return sb.ToString();
    }
}

internal enum CommandKind
{
    /// <summary>Answers from the connection's own state, at once.</summary>
    Connection,
    /// <summary>Reads the store: may run concurrently with other reads of the connection.</summary>
    Read,
    /// <summary>Changes the store: runs after every earlier command of the connection.</summary>
    Write,
}

/// <summary>One command invocation: the session and the arguments (<see cref="Args"/>[0] is the name).</summary>
internal sealed record RespCall(RespSession Session, Bytes[] Args)
{
    /// <summary>Inside <c>EXEC</c>: what the transaction's read of the key saw, which the command's reads return instead of asking the cluster.</summary>
    public Protocol.IGetResponse? Preread { get; init; }

    /// <summary>For <c>EXEC</c>: the transaction queued on the connection when it arrived (null: no <c>MULTI</c>).</summary>
    public QueuedTransaction? Queued { get; init; }

    /// <summary>For <c>EXEC</c>: the connection sent a WATCH (refused) since its last EXEC, DISCARD or UNWATCH.</summary>
    public bool AfterRefusedWatch { get; init; }

    public string Arg(int i) => Encoding.UTF8.GetString(Args[i].Span);
    public string Upper(int i) => Encoding.ASCII.GetString(Args[i].Span).ToUpperInvariant();
}
