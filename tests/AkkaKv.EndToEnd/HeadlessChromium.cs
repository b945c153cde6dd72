using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace AkkaKv.EndToEnd;

/// <summary>
/// Debian's <c>chromium</c> (from apt), headless, driven over the Chrome DevTools Protocol with a
/// plain <see cref="ClientWebSocket"/>: no driver package and no browser download. One page; the
/// browser is started with <c>--remote-debugging-port=0</c> and announces the port it chose in
/// <c>DevToolsActivePort</c> in its profile directory. Disposing kills the browser (by the process
/// this class started) and deletes the profile.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Binary = "/usr/bin/chromium";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly StringBuilder _stderr = new();
    private Task? _reader;
    private int _nextId;

    private HeadlessChromium(ITestOutputHelper output, Process process, string profile)
    {
        _output = output;
        _process = process;
        _profile = profile;
    }

    /// <summary>Starts the browser on <c>about:blank</c> and attaches to its page.</summary>
    /// <exception cref="InvalidOperationException">Chromium is not installed, or did not come up.</exception>
    public static async Task<HeadlessChromium> StartAsync(ITestOutputHelper output, int width, int height, TimeSpan timeout)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} is missing: this test needs Debian's chromium (apt-get install --no-install-recommends chromium; .ci/run installs it)");
        var profile = Path.Combine(Path.GetTempPath(), "akkakv-chromium-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(profile);
        var psi = new ProcessStartInfo(Binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
                     "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}",
                     $"--window-size={width},{height}", "about:blank",
                 })
            psi.ArgumentList.Add(arg);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Binary}");
        var browser = new HeadlessChromium(output, process, profile);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (browser._stderr) browser._stderr.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        output.WriteLine($"started chromium (pid {process.Id}), profile {profile}");
        try
        {
            await browser.AttachAsync(timeout);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    private async Task AttachAsync(TimeSpan timeout)
    {
        var portFile = Path.Combine(_profile, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        int? port = null;
        while (port is null)
        {
            if (_process.HasExited) throw new InvalidOperationException($"chromium exited with {_process.ExitCode} before it opened its DevTools port: {Stderr}");
            if (clock.Elapsed > timeout) throw new InvalidOperationException($"chromium did not write {portFile} within {timeout.TotalSeconds:0} s: {Stderr}");
            // The file is written whole but may be read while it is: wait for its first full line.
            if (File.Exists(portFile) && File.ReadAllLines(portFile) is [var first, ..] && int.TryParse(first, out var p)) port = p;
            else await Task.Delay(100);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? pageSocket = null;
        while (pageSocket is null)
        {
            if (clock.Elapsed > timeout) throw new InvalidOperationException($"chromium's DevTools port {port} listed no page within {timeout.TotalSeconds:0} s");
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            pageSocket = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
            if (pageSocket is null) await Task.Delay(100);
        }
        await _socket.ConnectAsync(new Uri(pageSocket), _stop.Token);
        _reader = Task.Run(ReadLoopAsync);
        await SendAsync("Page.enable");
        await SendAsync("Runtime.enable");
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>
    /// Opens <paramref name="url"/> in the page and returns once its document has loaded; fails on a
    /// navigation error (the page did not load) or when it does not load within <paramref name="timeout"/>.
    /// </summary>
    public async Task NavigateAsync(Uri url, TimeSpan timeout)
    {
        var result = await SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });
        if (result.TryGetProperty("errorText", out var error) && error.GetString() is { Length: > 0 } text)
            throw new InvalidOperationException($"chromium could not open {url}: {text}");
        // Page.navigate answers once the navigation is committed, not loaded: poll the new document.
        var clock = Stopwatch.StartNew();
        string? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                last = (await EvaluateAsync("location.href + ' ' + document.readyState")).GetString();
                if (last == $"{url} complete") return;
            }
            catch (InvalidOperationException e) when (e.Message.Contains("context", StringComparison.OrdinalIgnoreCase)) { } // the old document went away mid-evaluation
            await Task.Delay(100);
        }
        throw new TimeoutException($"chromium did not load {url} within {timeout.TotalSeconds:0} s; last: {last}");
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value as JSON (by value); throws on a script exception.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (result.TryGetProperty("exceptionDetails", out var exception))
            throw new InvalidOperationException($"the page threw evaluating {expression}: {exception}");
        var value = result.GetProperty("result");
        return value.TryGetProperty("value", out var v) ? v : default;
    }

    /// <summary>A PNG of the whole page (not only the window), as a person would see it scrolled through.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true });
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    private async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        try
        {
            return await reply.Task.WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"chromium did not answer {method} within {CommandTimeout.TotalSeconds:0} s");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Replies go to their command by id; events (no id) are not used.</summary>
    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage) continue;
                using (var doc = JsonDocument.Parse(message.ToArray()))
                {
                    var root = doc.RootElement;
                    if (root.TryGetProperty("id", out var idElement) && _pending.TryGetValue(idElement.GetInt32(), out var reply))
                    {
                        if (root.TryGetProperty("error", out var error)) reply.TrySetException(new InvalidOperationException($"chromium refused a command: {error}"));
                        else reply.TrySetResult(root.GetProperty("result").Clone());
                    }
                }
                message.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        foreach (var reply in _pending.Values) reply.TrySetException(new InvalidOperationException("chromium's DevTools connection closed"));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_reader is not null)
        {
            try { await _reader.WaitAsync(TimeSpan.FromSeconds(5)); }
            catch (TimeoutException) { }
        }
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
            _output.WriteLine($"killed chromium (pid {_process.Id})");
        }
        _process.Dispose();
        _stop.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
