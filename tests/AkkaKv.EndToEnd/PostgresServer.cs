using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;
using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>
/// A PostgreSQL server of the tests' own: <c>initdb</c> in a temp dir, <c>pg_ctl start</c> on a
/// free loopback port (TCP on 127.0.0.1 only, its socket in that dir, trust auth), <c>pg_ctl stop
/// -m fast</c> and the dir deleted at the end. As root (initdb refuses to run as root) it runs the
/// server as the <c>postgres</c> OS user, in a dir that user owns. Missing binaries fail the tests
/// that need them, with how to install them: these tests are not optional, and <c>.ci/run</c>
/// installs Debian's <c>postgresql</c>. Stops only the server it started, through its own data dir.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string OsUser = "postgres";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(90);

    private string? _root;
    private bool _started;

    /// <summary>The directory holding initdb, pg_ctl and postgres.</summary>
    public string BinDir { get; private set; } = "";
    public int Port { get; private set; }
    /// <summary>The server as a node's <c>--postgres</c> gets it: loopback, superuser <c>postgres</c>, no database.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres";
    private string DataDir => Path.Combine(_root!, "data");
    private string LogFile => Path.Combine(_root!, "server.log");

    public async Task InitializeAsync()
    {
        BinDir = FindBinaries();
        var asRoot = geteuid() == 0;
        // As root, somewhere the postgres user can reach: a TMPDIR under /root would not do.
        _root = Path.Combine(asRoot ? "/tmp" : Path.GetTempPath(), "akkakv-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(_root, "socket"));
        if (asRoot) await RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", _root], asServerUser: false);
        await RunAsync(Tool("initdb"), ["-D", DataDir, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
        // A free port can be taken between choosing it and the server binding it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreeLoopbackPort();
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -k {Path.Combine(_root, "socket")}";
            var run = await RunAsync(Tool("pg_ctl"), ["start", "-D", DataDir, "-l", LogFile, "-w", "-t", "60", "-o", options], check: false);
            if (run.ExitCode == 0) break;
            if (attempt == 3) throw new InvalidOperationException($"pg_ctl start failed 3 times (last on port {Port}): {run.Stdout}{run.Stderr}\n{ServerLogTail()}");
        }
        _started = true;
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
    }

    public async Task DisposeAsync()
    {
        if (_root is null) return;
        if (_started) await RunAsync(Tool("pg_ctl"), ["stop", "-D", DataDir, "-m", "fast", "-w", "-t", "60"], check: false);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    /// <summary>The databases whose name starts with <paramref name="prefix"/>.</summary>
    public async Task<List<string>> DatabasesAsync(string prefix)
    {
        await using var connection = await OpenAsync("postgres");
        await using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE starts_with(datname, @p) ORDER BY datname", connection);
        cmd.Parameters.AddWithValue("p", prefix);
        var names = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>Drops <paramref name="database"/> if it exists, closing any session still on it.</summary>
    public async Task DropDatabaseAsync(string database)
    {
        await using var connection = await OpenAsync("postgres");
        // Not a parameter position: the name is quoted as an identifier.
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database.Replace("\"", "\"\"")}\" WITH (FORCE)", connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>How many rows the journal table of <paramref name="database"/> holds.</summary>
    public async Task<long> JournalRowsAsync(string database)
    {
        await using var connection = await OpenAsync(database);
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM journal", connection);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The definitions of the journal table's indexes in <paramref name="database"/>, one per line.</summary>
    public async Task<string> JournalIndexesAsync(string database)
    {
        await using var connection = await OpenAsync(database);
        await using var cmd = new NpgsqlCommand("SELECT indexdef FROM pg_indexes WHERE tablename = 'journal' ORDER BY indexname", connection);
        var indexes = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) indexes.Add(reader.GetString(0));
        return string.Join("\n", indexes);
    }

    /// <summary>Every live event and snapshot payload in <paramref name="database"/>, as <see cref="ClusterTestContext.JournalBlobs"/> reads a SQLite file.</summary>
    public async Task<List<byte[]>> JournalBlobsAsync(string database)
    {
        await using var connection = await OpenAsync(database);
        await using var cmd = new NpgsqlCommand("SELECT message FROM journal WHERE NOT deleted UNION ALL SELECT snapshot FROM snapshot WHERE snapshot IS NOT NULL", connection);
        var blobs = new List<byte[]>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) blobs.Add((byte[])reader[0]);
        return blobs;
    }

    private async Task<NpgsqlConnection> OpenAsync(string database)
    {
        // Unpooled: a test's connections close for good, and never hold a database open past it.
        var connection = new NpgsqlConnection($"{ConnectionString};Database={database};Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    private string Tool(string name) => Path.Combine(BinDir, name);

    /// <summary>The newest <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> with initdb, pg_ctl and postgres (Debian's layout), else the first such directory on the PATH.</summary>
    public static string FindBinaries() => FindBinaries("/usr/lib/postgresql", Environment.GetEnvironmentVariable("PATH"));

    public static string FindBinaries(string debian, string? path)
    {
        static bool Complete(string dir) => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres"));
        if (Directory.Exists(debian))
        {
            var newest = Directory.GetDirectories(debian)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0 && Complete(x.Dir))
                .OrderByDescending(x => x.Version)
                .Select(x => x.Dir)
                .FirstOrDefault();
            if (newest is not null) return newest;
        }
        foreach (var dir in (path ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            if (Complete(dir)) return dir;
        throw new FileNotFoundException(
            $"PostgreSQL server binaries (initdb, pg_ctl, postgres) are neither in {debian}/<version>/bin nor on PATH: " +
            "install Debian's postgresql (apt-get install -y --no-install-recommends postgresql; .ci/run does this on CI)");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs a tool, as the postgres OS user when this process is root, bounded in time (killed by its own process when it overruns).</summary>
    private async Task<ToolRun> RunAsync(string tool, IReadOnlyList<string> args, bool asServerUser = true, bool check = true)
    {
        var runAs = asServerUser && geteuid() == 0;
        var psi = new ProcessStartInfo(runAs ? "runuser" : tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // Not the test's working dir, which the postgres user may not be allowed to enter.
            WorkingDirectory = _root ?? "/",
        };
        if (runAs) foreach (var a in new[] { "-u", OsUser, "--", tool }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var shown = string.Join(' ', psi.ArgumentList.Prepend(psi.FileName));
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + shown);
        // pg_ctl start leaves the server running with these pipes inherited: read to the end only after the tool exits.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{shown} did not finish within {ToolTimeout}\n{ServerLogTail()}");
        }
        var run = new ToolRun(process.ExitCode, await Drain(stdout), await Drain(stderr));
        if (check && run.ExitCode != 0)
            throw new InvalidOperationException($"{shown} exited {run.ExitCode}: {run.Stdout}{run.Stderr}\n{ServerLogTail()}");
        return run;
    }

    /// <summary>A tool's output, or what it had printed when a child (the server) still holds the pipe.</summary>
    private static async Task<string> Drain(Task<string> read) =>
        await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(5))) == read ? await read : "(output still held open by a child process)";

    private string ServerLogTail() =>
        _root is not null && File.Exists(LogFile) ? "--- server log ---\n" + string.Join("\n", File.ReadLines(LogFile).TakeLast(20)) : "(no server log)";

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}

/// <summary>Test classes that share one <see cref="PostgresServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}
