using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AkkaKv.Client;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Starts, kills (-9) and restarts N real <c>akkakv-node</c> processes on ephemeral loopback
/// ports, each with its own data dir under a temp folder (like Garnet's ClusterTestContext), and
/// its journal in that dir's SQLite file or, given a <see cref="PostgresServer"/>, in its own
/// database there (<c>--journal postgresql</c>). Kills only the processes it started, by PID;
/// deletes its temp folder, and drops its nodes' databases, on dispose.
/// </summary>
public sealed class ClusterTestContext : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, Process> _processes = new();
    // When each node was last killed (kill -9), for Start's minimum down time.
    private readonly Dictionary<string, Stopwatch> _killed = new();

    /// <summary>
    /// How long a killed node stays down at least before <see cref="Start"/> runs it again: a new
    /// incarnation that starts listening while a peer's first reconnect to the dead one is due
    /// (about 5 s after the crash, Akka.Remote's <c>retry-gate-closed-for</c>) can fail to join
    /// for good (docs/operations.md, "Restarting a crashed node"): the tests restart as an operator
    /// is told to.
    /// </summary>
    public static readonly TimeSpan MinimumDownTime = TimeSpan.FromSeconds(10);
    private readonly string? _extraHocon;

    /// <summary>The server holding the nodes' journals; null: each node's SQLite file.</summary>
    public PostgresServer? Postgres { get; }

    public string Root { get; }
    public IReadOnlyList<string> Names { get; }
    public IReadOnlyDictionary<string, int> Ports { get; }
    /// <summary>Each node's Redis-protocol (RESP) port, passed as <c>--resp-port</c>, on 127.0.0.1.</summary>
    public IReadOnlyDictionary<string, int> RespPorts { get; }

    public ClusterTestContext(ITestOutputHelper output, int nodes, string? extraHocon = null, PostgresServer? postgres = null)
    {
        _output = output;
        _extraHocon = extraHocon;
        Postgres = postgres;
        Root = Path.Combine(Path.GetTempPath(), "akkakv-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Root);
        Names = Enumerable.Range(1, nodes).Select(i => $"n{i}").ToList();
        var ports = FreePorts(2 * nodes);
        Ports = Names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => ports[x.i]);
        RespPorts = Names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => ports[nodes + x.i]);
        if (extraHocon is not null) File.WriteAllText(Path.Combine(Root, "extra.conf"), extraHocon);
        // The cluster's own context keys, as a deployment has (and ./cluster.sh makes).
        File.WriteAllText(ContextKeysFile, AkkaKv.Versioning.ContextKeysFile.NewLine("k1") + "\n");
    }

    /// <summary>The keys file every node of this cluster signs causal contexts with (<c>--context-keys</c>).</summary>
    public string ContextKeysFile => Path.Combine(Root, "context-keys");

    /// <summary>
    /// The development PKI of this cluster (<c>akkakv certs</c> in <c>Root/certs</c>) once
    /// <see cref="UseTlsAsync"/> ran: nodes then run mutual TLS on remoting with a client port each,
    /// and <see cref="Client"/> and <see cref="CliAsync"/> go through the client ports with the
    /// client certificate. Null: plain remoting, clients on the node ports.
    /// </summary>
    public string? Certs { get; private set; }

    /// <summary>Each node's HTTP port (<c>--http-port</c>: metrics and health) once <see cref="UseHttp"/> ran; empty: none.</summary>
    public IReadOnlyDictionary<string, int> HttpPorts { get; private set; } = new Dictionary<string, int>();

    /// <summary>Flags added after a node's own when it starts (a later flag wins: e.g. another <c>--host</c>).</summary>
    public Dictionary<string, string[]> ExtraArgs { get; } = new();

    /// <summary>Gives every node started after it an HTTP port.</summary>
    public void UseHttp()
    {
        var ports = MorePorts(Names.Count);
        HttpPorts = Names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => ports[x.i]);
    }

    /// <summary>The base address of <paramref name="node"/>'s HTTP port (https with TLS).</summary>
    public Uri HttpBase(string node) => new($"{(Certs is null ? "http" : "https")}://127.0.0.1:{HttpPorts[node]}");

    /// <summary>Each node's client port (<c>--client-port</c>) when <see cref="Certs"/> is set.</summary>
    public IReadOnlyDictionary<string, int> ClientPorts { get; private set; } = new Dictionary<string, int>();

    /// <summary>Makes the cluster's certificates and turns TLS on for every node started after it.</summary>
    public async Task UseTlsAsync()
    {
        var certs = Path.Combine(Root, "certs");
        var made = await RunCliAsync(_output, "certs", "--dir", certs, "--hosts", "127.0.0.1,localhost", "--days", "2");
        if (made.ExitCode != 0) throw new InvalidOperationException("akkakv certs failed: " + made.Stderr);
        var ports = MorePorts(Names.Count);
        ClientPorts = Names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => ports[x.i]);
        Certs = certs;
    }

    /// <summary>The client's certificate, key and the node CA, from <see cref="Certs"/>.</summary>
    public KvClientTls? ClientTls => Certs is null ? null : new(Path.Combine(Certs, "client.crt"), Path.Combine(Certs, "client.key"), Path.Combine(Certs, "ca.crt"));

    /// <summary>Where clients reach <paramref name="node"/>: its client port with TLS, else its node port.</summary>
    public string ClientEndpoint(string node) => Certs is null ? Endpoint(node) : $"127.0.0.1:{ClientPorts[node]}";

    public IEnumerable<string> Endpoints => Names.Select(Endpoint);
    public string Endpoint(string node) => $"127.0.0.1:{Ports[node]}";
    public string RespEndpoint(string node) => $"127.0.0.1:{RespPorts[node]}";
    public string DataDir(string node) => Path.Combine(Root, node);

    /// <summary>
    /// Every event and snapshot payload in the SQLite journal file of <paramref name="dataDir"/>.
    /// </summary>
    public static List<byte[]> JournalBlobs(string dataDir)
    {
        using var connection = ReadOnlyJournal(dataDir);
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT message FROM journal WHERE deleted = 0 UNION ALL SELECT snapshot FROM snapshot WHERE snapshot IS NOT NULL";
        using var reader = cmd.ExecuteReader();
        var blobs = new List<byte[]>();
        while (reader.Read()) blobs.Add((byte[])reader[0]);
        return blobs;
    }

    /// <summary>
    /// A connection to the SQLite journal file of <paramref name="dataDir"/>: read-only, so it never
    /// creates the file, and unpooled: a pooled connection would keep the file open past a test
    /// deleting it, and be handed back for the new file of the same name.
    /// </summary>
    private static Microsoft.Data.Sqlite.SqliteConnection ReadOnlyJournal(string dataDir) =>
        new(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDir, "akkakv.db"),
            Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());

    /// <summary>A node's database when the journal is on PostgreSQL: the node's default, <c>akkakv_&lt;name&gt;</c>.</summary>
    public static string DatabaseOf(string node) => "akkakv_" + node;

    /// <summary>Every event and snapshot payload in <paramref name="node"/>'s journal, wherever it is (SQLite file or PostgreSQL database).</summary>
    public async Task<List<byte[]>> JournalBlobsAsync(string node) =>
        Postgres is null ? JournalBlobs(DataDir(node)) : await Postgres.JournalBlobsAsync(DatabaseOf(node));

    /// <summary>
    /// How <paramref name="node"/>'s journal finds one replica's rows (what its recovery, its
    /// highest-sequence-number read and its deletes after a snapshot ask for): SQLite's query plan
    /// for that lookup, or on PostgreSQL the definitions of the journal table's indexes.
    /// </summary>
    public async Task<string> JournalLookupByReplicaAsync(string node)
    {
        if (Postgres is not null) return await Postgres.JournalIndexesAsync(DatabaseOf(node));
        await using var connection = ReadOnlyJournal(DataDir(node));
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "EXPLAIN QUERY PLAN SELECT message FROM journal WHERE persistence_id = 'x' AND sequence_number >= 1 ORDER BY sequence_number";
        await using var reader = await cmd.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync()) plan.Add(reader.GetString(3));
        return string.Join("; ", plan);
    }

    /// <summary>
    /// A node's SQLite journal as the disk sees it: how many rows carry a writer id, and each index
    /// on the journal table with its statement.
    /// </summary>
    public async Task<(long RowsWithWriterId, Dictionary<string, string> Indexes)> SqliteJournalLayoutAsync(string node)
    {
        await using var connection = ReadOnlyJournal(DataDir(node));
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM journal WHERE writer_uuid IS NOT NULL AND writer_uuid <> ''";
        var withId = Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal' AND sql IS NOT NULL";
        await using var reader = await cmd.ExecuteReaderAsync();
        var indexes = new Dictionary<string, string>();
        while (await reader.ReadAsync()) indexes[reader.GetString(0)] = reader.GetString(1);
        return (withId, indexes);
    }

    /// <summary>Whether a journal payload holds <paramref name="key"/> (keys are written length-prefixed).</summary>
    public static bool MentionsKey(byte[] blob, string key)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(key);
        byte[] encoded = [(byte)bytes.Length, .. bytes];
        return blob.AsSpan().IndexOf(encoded) >= 0;
    }

    /// <summary>
    /// Free loopback ports for this cluster that none of its nodes has been given yet: the ports
    /// chosen before were released once chosen, so the system may hand the same one out again
    /// (seen: a node's HTTP port equal to its remoting port, and the node failing to start).
    /// </summary>
    private int[] MorePorts(int count)
    {
        var taken = Ports.Values.Concat(RespPorts.Values).Concat(HttpPorts.Values).Concat(ClientPorts.Values).ToHashSet();
        for (var attempt = 0; ; attempt++)
        {
            var ports = FreePorts(count);
            if (!ports.Any(taken.Contains)) return ports;
            if (attempt == 20) throw new InvalidOperationException($"no {count} free loopback ports apart from [{string.Join(",", taken)}] in 20 attempts");
        }
    }

    /// <summary>Distinct free loopback ports: every listener is held open until all are chosen.</summary>
    internal static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners) listener.Start();
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners) listener.Dispose();
        }
    }

    public static string HostDll() => BuiltDll(Path.Combine("src", "Host"), "akkakv-node.dll");

    public static string CliDll() => BuiltDll(Path.Combine("src", "Client", "AkkaKv.Cli"), "akkakv-cli.dll");

    /// <summary>Runs the CLI against this cluster; returns its exit code and standard output.</summary>
    public async Task<(int ExitCode, string Output)> CliAsync(params string[] args)
    {
        var run = await CliRunAsync(args);
        return (run.ExitCode, run.Stdout + run.Stderr);
    }

    /// <summary>Runs the CLI against this cluster; its exit code, standard output and standard error apart.</summary>
    public Task<ToolRun> CliRunAsync(params string[] args)
    {
        string[] tls = ClientTls is { } t ? ["--tls-cert", t.CertFile, "--tls-key", t.KeyFile, "--tls-ca", t.CaFile] : [];
        return RunCliAsync(_output, ["--nodes", string.Join(",", Names.Select(ClientEndpoint)), .. tls, .. args]);
    }

    /// <summary>Runs the CLI (<c>akkakv-cli.dll</c>) with exactly these arguments, within a minute.</summary>
    public static Task<ToolRun> RunCliAsync(ITestOutputHelper output, params string[] args) =>
        RedisTools.RunProcessAsync(output, "dotnet", "akkakv", [CliDll(), .. args], TimeSpan.FromSeconds(60));

    /// <summary>The repository's root (where <c>AkkaKv.sln</c> and <c>cluster.sh</c> are), above the test's build output.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AkkaKv.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (AkkaKv.sln) above " + AppContext.BaseDirectory);
    }

    private static string BuiltDll(string projectDir, string dllName)
    {
        var root = RepositoryRoot();
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        var dll = Path.Combine(root, projectDir, "bin", configuration, "net10.0", dllName);
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"build {projectDir} first", dll);
    }

    /// <param name="certs">With TLS: the PKI dir whose certificate the node presents and whose CA it trusts (default: the cluster's own, <see cref="Certs"/>).</param>
    /// <param name="identity">With TLS: which certificate of <paramref name="certs"/> the node presents (<c>node</c> or, to play a client posing as a node, <c>client</c>).</param>
    public void Start(string node, string? certs = null, string identity = "node")
    {
        if (_killed.Remove(node, out var down) && down.Elapsed < MinimumDownTime)
        {
            _output.WriteLine($"{node} was killed {down.Elapsed.TotalSeconds:0.0} s ago; it stays down {MinimumDownTime.TotalSeconds:0} s before its restart");
            Thread.Sleep(MinimumDownTime - down.Elapsed);
        }
        var args = new List<string> { HostDll(), "--name", node, "--host", "127.0.0.1", "--port", Ports[node].ToString(), "--resp-port", RespPorts[node].ToString(), "--data-dir", DataDir(node), "--context-keys", ContextKeysFile };
        foreach (var seed in Names.Take(2)) { args.Add("--seed"); args.Add(Endpoint(seed)); }
        if (_extraHocon is not null) { args.Add("--config"); args.Add(Path.Combine(Root, "extra.conf")); }
        if (HttpPorts.TryGetValue(node, out var httpPort)) args.AddRange(["--http-port", httpPort.ToString()]);
        if (ExtraArgs.TryGetValue(node, out var extra)) args.AddRange(extra);
        if (Postgres is not null) args.AddRange(["--journal", "postgresql", "--postgres", Postgres.ConnectionString]);
        if ((certs ?? Certs) is { } pki)
            args.AddRange(["--tls-cert", Path.Combine(pki, identity + ".crt"), "--tls-key", Path.Combine(pki, identity + ".key"), "--tls-ca", Path.Combine(pki, "ca.crt"),
                "--tls-client-ca", Path.Combine(pki, "client-ca.crt"), "--client-port", ClientPorts[node].ToString()]);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + node);
        var log = Path.Combine(Root, node + ".log");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (this) File.AppendAllText(log, e.Data + "\n"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (this) File.AppendAllText(log, e.Data + "\n"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[node] = process;
        _output.WriteLine($"started {node} pid {process.Id} on {Endpoint(node)}, RESP on {RespEndpoint(node)}");
    }

    public void StartAll() { foreach (var n in Names) Start(n); }

    /// <summary>Waits for <paramref name="node"/>'s process to exit by itself; its exit code.</summary>
    public async Task<int> WaitForExitAsync(string node, TimeSpan timeout)
    {
        var process = _processes[node];
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"{node} (pid {process.Id}) did not exit within {timeout}; its log:\n{LogTail(node, 30)}"); }
        _processes.Remove(node);
        _output.WriteLine($"{node} (pid {process.Id}) exited with {process.ExitCode}");
        return process.ExitCode;
    }

    /// <summary>What <paramref name="node"/>'s processes printed so far (standard output and error).</summary>
    public string Log(string node)
    {
        var log = Path.Combine(Root, node + ".log");
        lock (this) return File.Exists(log) ? File.ReadAllText(log) : "";
    }

    /// <summary>kill -9: no shutdown hooks, no flush; what the journal had is all there is.</summary>
    public void Kill(string node)
    {
        var process = _processes[node];
        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
        _processes.Remove(node);
        _killed[node] = Stopwatch.StartNew();
        _output.WriteLine($"killed {node} (pid {process.Id})");
    }

    /// <summary>
    /// kill -STOP: the process is frozen, its sockets stay open and nothing answers, so to the other
    /// nodes it is unreachable as if cut off by a partition (no network namespaces needed).
    /// </summary>
    public Task FreezeAsync(string node) => SignalAsync(node, "-STOP");

    /// <summary>kill -CONT: a frozen node runs again and works through what queued up meanwhile.</summary>
    public Task ThawAsync(string node) => SignalAsync(node, "-CONT");

    private async Task SignalAsync(string node, string signal)
    {
        var pid = _processes[node].Id;
        var psi = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add(signal);
        psi.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var kill = Process.Start(psi) ?? throw new InvalidOperationException("could not run kill");
        var stderr = kill.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await kill.WaitForExitAsync(cts.Token);
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill {signal} {pid} ({node}) failed: {await stderr}");
        _output.WriteLine($"kill {signal} {node} (pid {pid})");
    }

    public KvClient Client(params string[] nodes) => new((nodes.Length == 0 ? Names : nodes).Select(ClientEndpoint), tls: ClientTls);

    /// <summary>Polls <paramref name="node"/>'s status until it sees every expected member Up and reachable.</summary>
    public async Task WaitForMembersAsync(string node, IReadOnlyCollection<string> expected, TimeSpan timeout)
    {
        await using var client = Client(node);
        var deadline = Stopwatch.StartNew();
        string last = "(no answer)";
        while (deadline.Elapsed < timeout)
        {
            try
            {
                var status = await client.StatusAsync();
                var up = status.Members.Where(m => m.Status == "Up" && m.Reachable).Select(m => m.Node).ToHashSet();
                last = string.Join(",", status.Members.Select(m => $"{m.Node}:{m.Status}:{(m.Reachable ? "ok" : "unreachable")}"));
                last += $"; unallocated slots {status.UnallocatedSlots}, co-located partitions {status.CoLocatedPartitions}";
                // Settled: every member Up and reachable, every replica slot placed, none sharing a node.
                if (expected.All(up.Contains) && status.Members.Count == expected.Count
                    && status.UnallocatedSlots == 0 && status.CoLocatedPartitions == 0 && status.MisplacedSlots == 0) return;
            }
            catch (KvUnavailableException) { }
            await Task.Delay(500);
        }
        // The logs go with the test's data dir when it is disposed: their tails go with the failure.
        foreach (var n in Names) _output.WriteLine($"--- last lines of {n}'s log ---\n{LogTail(n, 30)}");
        throw new TimeoutException($"{node} did not see members [{string.Join(",", expected)}] Up within {timeout}; last view: {last}; logs in {Root} (their tails are in the test output)");
    }

    private string LogTail(string node, int lines)
    {
        var log = Path.Combine(Root, node + ".log");
        lock (this) return File.Exists(log) ? string.Join("\n", File.ReadLines(log).TakeLast(lines)) : "(no log)";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (node, process) in _processes)
        {
            try { process.Kill(entireProcessTree: true); await process.WaitForExitAsync(); } catch (InvalidOperationException) { }
            process.Dispose();
        }
        _processes.Clear();
        // AKKAKV_E2E_KEEP=1 keeps the nodes' logs and data dirs for a post-mortem.
        if (Environment.GetEnvironmentVariable("AKKAKV_E2E_KEEP") == "1") _output.WriteLine($"kept {Root} (AKKAKV_E2E_KEEP=1)");
        else
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
            // The next cluster on the same server starts on empty journals, as it does on SQLite.
            if (Postgres is not null)
                foreach (var n in Names)
                {
                    try { await Postgres.DropDatabaseAsync(DatabaseOf(n)); }
                    catch (Npgsql.NpgsqlException e) { _output.WriteLine($"could not drop {DatabaseOf(n)}: {e.Message}"); }
                }
        }
    }
}
