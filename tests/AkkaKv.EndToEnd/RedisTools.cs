using System.Diagnostics;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>What a finished tool run printed.</summary>
public sealed record ToolRun(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the real Redis tools (<c>redis-cli</c>, <c>redis-benchmark</c>, Debian package
/// <c>redis-tools</c>) as processes, each bounded in time and killed (by its own process, never by
/// name) when it overruns. A missing tool fails the test that needs it, with how to install it:
/// these tests are not optional, and <c>.ci/run</c> installs the package.
/// </summary>
public static class RedisTools
{
    public static string Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(
            $"{tool} is not on PATH: install Debian's redis-tools (apt-get install -y redis-tools; .ci/run does this on CI)", tool);
    }

    public static Task<ToolRun> RunAsync(ITestOutputHelper output, string tool, IEnumerable<string> args, TimeSpan timeout, string? input = null) =>
        RunProcessAsync(output, Find(tool), tool, args, timeout, input: input);

    /// <summary>
    /// Runs any program (<paramref name="fileName"/>, shown as <paramref name="shownAs"/>) to its
    /// exit, with <paramref name="environment"/> added to ours; killed with its children and a
    /// <see cref="TimeoutException"/> (carrying what it printed) when it overruns. <paramref name="input"/>
    /// is what it reads on stdin, then end-of-file.
    /// </summary>
    public static async Task<ToolRun> RunProcessAsync(ITestOutputHelper output, string fileName, string shownAs, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null, string? input = null)
    {
        var tool = shownAs;
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var shown = $"$ {tool} {string.Join(' ', psi.ArgumentList.Select(Quote))}" + (input is null ? "" : $" <<< '{input.TrimEnd('\n').Replace("\n", "; ")}'");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + tool);
        // A tool that asks for more input than given sees end-of-file instead of hanging.
        if (input is not null) await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var partial = await stdout + await stderr;
            output.WriteLine($"{shown}  (killed after {timeout})\n{partial}");
            throw new TimeoutException($"{shown} did not finish within {timeout}; it printed: {partial}");
        }
        var run = new ToolRun(process.ExitCode, await stdout, await stderr);
        output.WriteLine($"{shown}  (exit {run.ExitCode})\n{run.Stdout}{run.Stderr}");
        return run;
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_.:/=,".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}

/// <summary><c>redis-cli</c> against one node, on 127.0.0.1.</summary>
public sealed class RedisCli(ITestOutputHelper output, int port)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs one command with <c>--no-raw</c> (the terminal format: quoted bulk strings, <c>(error)</c>, <c>(nil)</c>, numbered arrays) and parses the reply.</summary>
    public async Task<CliReply> CallAsync(params string[] command)
    {
        var run = await RunAsync(["--no-raw", .. command]);
        return CliReply.Parse(run.Stdout);
    }

    /// <summary>
    /// Runs <paramref name="commands"/> (one per line, as a user types them) on one connection with
    /// <c>--no-raw</c>, as <c>redis-cli &lt; file</c> does, and returns what it printed: every reply, in order.
    /// </summary>
    public async Task<string> ScriptAsync(params string[] commands)
    {
        var run = await RedisTools.RunAsync(output, "redis-cli", ["-h", "127.0.0.1", "-p", port.ToString(), "--no-raw"], Timeout,
            string.Join("\n", commands) + "\n");
        if (run.ExitCode != 0) throw new InvalidOperationException($"redis-cli exited {run.ExitCode}: {run.Stdout}{run.Stderr}");
        return run.Stdout;
    }

    /// <summary>Runs one command with <c>--raw</c> (bulk strings printed as they are) and returns what it printed.</summary>
    public async Task<string> RawAsync(params string[] command) => (await RunAsync(["--raw", .. command])).Stdout;

    private async Task<ToolRun> RunAsync(string[] args)
    {
        var run = await RedisTools.RunAsync(output, "redis-cli", ["-h", "127.0.0.1", "-p", port.ToString(), .. args], Timeout);
        if (run.ExitCode != 0) throw new InvalidOperationException($"redis-cli exited {run.ExitCode}: {run.Stdout}{run.Stderr}");
        return run;
    }
}
