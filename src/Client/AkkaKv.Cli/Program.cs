using System.Diagnostics;
using System.Globalization;
using AkkaKv;
using AkkaKv.Cli;
using AkkaKv.Client;
using AkkaKv.Protocol;

const string usage = """
    usage: ./akkakv [--nodes host:port,...] <command> [options]

      get <key> [--r N] [--timeout ms]                    read; prints value(s), sibling count, context, replicas
      put <key> <value> [--context C] [--w N] [--timeout ms] [--sloppy 0|1] [--overwrite 0|1]
                                                          write; prints acks, siblings and the new context.
                                                          Without --context the value becomes a sibling of what
                                                          is there; --overwrite 1 supersedes it instead
      delete <key> [--context C] [--w N] [--timeout ms] [--overwrite 0|1]
                                                          write a tombstone over what a read returns (or over the
                                                          versions the --context covers)
      status [--json]                                     the node's view: members, reachability, slots per node,
                                                          hints, anti-entropy; --json: the same as one JSON object
      leave <node> [--wait] [--max-wait s] [--force]      graceful decommission: <node> hands its hints over, pushes its
                                                          replicas to their peers, hands its slots off and exits; --wait
                                                          prints the transfers every second until it is gone and they are
                                                          done (at most --max-wait s, default 3600: then exit 3); --force:
                                                          even if fewer than N members would remain
      down <node>                                         remove an unreachable (dead) node now; its slots start again on
                                                          the other nodes and catch up from their peers
      transfers                                           slots waiting to move and catching up: keys and bytes done and
                                                          left, rate, ETA
      loadgen [--duration s] [--concurrency c] [--keys k] [--value-size b] [--get-ratio f] [--seed n] [--r N] [--w N] [--sloppy 0|1] [--timeout ms]
                                                          bounded load; prints puts/s, gets/s, p50/p99, availability
      fill [--keys k] [--from n] [--concurrency c] [--value-size b] [--w N] [--timeout ms]
                                                          write each of the loadgen keys load-<from>..load-<from+k-1>
                                                          once (overwrite); exits 3 if any put failed
      certs [--dir certs] [--hosts 127.0.0.1,localhost,::1] [--days 365]
                                                          a development CA and certificates: ca.crt/key signs
                                                          node.crt/key (for --tls-cert/--tls-key, valid for
                                                          --hosts); client-ca.crt/key signs client.crt/key

    --nodes defaults to $AKKAKV_NODES, else 127.0.0.1:4001,127.0.0.1:4002,127.0.0.1:4003
    --tls-cert client.crt --tls-key client.key --tls-ca ca.crt: mutual TLS to nodes started with --tls-ca; --nodes
      then names their client ports (--client-port), which accept certificates of the client CA (--tls-client-ca)
    exit codes: 0 ok, 1 not found (get), 2 usage, 3 request failed, 4 no node answered
    """;

var argList = args.ToList();
var nodes = (Environment.GetEnvironmentVariable("AKKAKV_NODES") ?? "127.0.0.1:4001,127.0.0.1:4002,127.0.0.1:4003")
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
var flags = new Dictionary<string, string>(StringComparer.Ordinal);
var positional = new List<string>();
for (var i = 0; i < argList.Count; i++)
{
    if (argList[i] is "-h" or "--help") { Console.WriteLine(usage); return 0; }
    if (argList[i] is "--json" or "--wait" or "--force")
    {
        // A switch: it takes no value.
        flags[argList[i][2..]] = "1";
        continue;
    }
    if (argList[i].StartsWith("--", StringComparison.Ordinal))
    {
        if (i + 1 >= argList.Count) { Console.Error.WriteLine($"akkakv: {argList[i]} needs a value\n{usage}"); return 2; }
        flags[argList[i][2..]] = argList[++i];
    }
    else positional.Add(argList[i]);
}
if (flags.Remove("nodes", out var nodeList)) nodes = nodeList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (positional.Count == 0) { Console.Error.WriteLine(usage); return 2; }

string[] knownFlags = ["json", "wait", "max-wait", "force", "r", "w", "timeout", "sloppy", "context", "overwrite", "duration", "concurrency", "keys", "value-size", "get-ratio", "seed", "from", "dir", "hosts", "days", "tls-cert", "tls-key", "tls-ca"];
if (flags.Keys.FirstOrDefault(f => !knownFlags.Contains(f)) is { } unknown) { Console.Error.WriteLine($"akkakv: unknown flag --{unknown}\n{usage}"); return 2; }
int? IntFlag(string name) => !flags.TryGetValue(name, out var v) ? null
    : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
    : throw new FormatException($"--{name} '{v}' is not a whole number");
RequestOptions Options() => new(
    R: IntFlag("r"), W: IntFlag("w"),
    Timeout: IntFlag("timeout") is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
    Sloppy: flags.TryGetValue("sloppy", out var s) ? s == "1" : null,
    Overwrite: flags.TryGetValue("overwrite", out var o) ? o == "1" : null);

if (positional is ["certs"])
{
    try
    {
        var hosts = (flags.GetValueOrDefault("hosts") ?? "127.0.0.1,localhost,::1").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var days = IntFlag("days") ?? 365;
        if (days < 1) throw new FormatException("--days must be at least 1");
        var written = DevCertificates.Create(flags.GetValueOrDefault("dir") ?? "certs", hosts, TimeSpan.FromDays(days));
        foreach (var file in written.Files) Console.WriteLine($"wrote {file}");
        Console.WriteLine($"node certificate for {string.Join(", ", hosts)}, valid {days} days: start nodes with --tls-cert node.crt --tls-key node.key; redis-cli --tls --cacert ca.crt");
        return 0;
    }
    catch (FormatException e)
    {
        Console.Error.WriteLine($"akkakv: {e.Message}");
        return 2;
    }
    catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"akkakv certs: {e.Message}");
        return 1;
    }
}

// Mutual TLS to the nodes' client ports: all three flags, or none.
KvClientTls? tls = null;
string[] tlsFlags = ["tls-cert", "tls-key", "tls-ca"];
if (tlsFlags.Any(flags.ContainsKey))
{
    if (!tlsFlags.All(flags.ContainsKey)) { Console.Error.WriteLine("akkakv: --tls-cert, --tls-key and --tls-ca go together: the client's certificate and key, and the CA of the node certificates"); return 2; }
    tls = new KvClientTls(flags["tls-cert"], flags["tls-key"], flags["tls-ca"]);
}
KvClient client;
try { client = new KvClient(nodes, tls: tls); }
catch (AkkaKv.Configuration.KvSettingsException e) { Console.Error.WriteLine($"akkakv: {e.Message}"); return 2; }
await using var owned = client;
try
{
    switch (positional[0], positional.Count)
    {
        case ("get", 2):
        {
            var r = await client.GetAsync(Bytes.FromUtf8(positional[1]), Options());
            if (!r.Found) Console.WriteLine("(not found)");
            for (var i = 0; i < r.Values.Count; i++)
                Console.WriteLine(r.Values.Count == 1 ? $"value: {r.Values[i]}" : $"value[{i}]: {r.Values[i]}");
            foreach (var (field, value) in r.Hash ?? new Dictionary<Bytes, Bytes>())
                Console.WriteLine($"field {field}: {value}");
            Console.WriteLine($"siblings: {r.Siblings}");
            Console.WriteLine($"context: {r.Context}");
            Console.WriteLine($"replicas: {string.Join(", ", r.Replicas.Select(x => $"{x.Slot}@{x.Node} {x.State.ToString().ToLowerInvariant()}"))}");
            Console.WriteLine($"served-by: {r.ServedBy}");
            return r.Found ? 0 : 1;
        }
        case ("put", 3):
        {
            var w = await client.PutAsync(Bytes.FromUtf8(positional[1]), Bytes.FromUtf8(positional[2]), flags.GetValueOrDefault("context"), Options());
            Console.WriteLine($"OK acks: {w.Acks}");
            Console.WriteLine($"siblings: {w.Siblings}");
            Console.WriteLine($"context: {w.Context}");
            return 0;
        }
        case ("delete", 2):
        {
            // Without a context, read first: the tombstone then supersedes exactly what was read.
            var options = Options();
            var context = flags.GetValueOrDefault("context");
            if (context is null && options.Overwrite != true)
                context = (await client.GetAsync(Bytes.FromUtf8(positional[1]), options with { R = null })).Context;
            var w = await client.DeleteAsync(Bytes.FromUtf8(positional[1]), context, options);
            Console.WriteLine($"OK acks: {w.Acks}");
            Console.WriteLine($"siblings: {w.Siblings}");
            Console.WriteLine($"context: {w.Context}");
            return 0;
        }
        case ("status", 1):
        {
            var st = await client.StatusAsync();
            Console.Write(flags.ContainsKey("json") ? StatusJson.Render(st) : StatusText.Render(st));
            return 0;
        }
        case ("transfers", 1):
            Console.Write(TransferText.Render(await client.TransfersAsync()));
            return 0;
        case ("leave", 2):
        {
            var reply = await client.LeaveAsync(positional[1], flags.ContainsKey("force"));
            if (!reply.Accepted) { Console.Error.WriteLine($"akkakv leave: refused: {reply.Message}"); return 3; }
            Console.WriteLine(reply.Message);
            return flags.ContainsKey("wait") ? await Membership.WaitForLeaveAsync(client, positional[1], TimeSpan.FromSeconds(IntFlag("max-wait") ?? 3600)) : 0;
        }
        case ("down", 2):
        {
            var reply = await client.DownAsync(positional[1]);
            if (!reply.Accepted) { Console.Error.WriteLine($"akkakv down: refused: {reply.Message}"); return 3; }
            Console.WriteLine(reply.Message);
            return 0;
        }
        case ("loadgen", 1):
        {
            var load = new LoadGenerator(client,
                duration: TimeSpan.FromSeconds(IntFlag("duration") ?? 30),
                concurrency: IntFlag("concurrency") ?? 16,
                keys: IntFlag("keys") ?? 10_000,
                valueSize: IntFlag("value-size") ?? 100,
                getRatio: flags.TryGetValue("get-ratio", out var gr) ? double.Parse(gr, CultureInfo.InvariantCulture) : 0.5,
                seed: IntFlag("seed") ?? Environment.TickCount,
                options: Options());
            var report = await load.RunAsync();
            Console.Write(report);
            return 0;
        }
        case ("fill", 1):
        {
            var (report, failures) = await LoadGenerator.FillAsync(client, from: IntFlag("from") ?? 0, keys: IntFlag("keys") ?? 10_000,
                concurrency: IntFlag("concurrency") ?? 16, valueSize: IntFlag("value-size") ?? 100, options: Options());
            Console.Write(report);
            return failures == 0 ? 0 : 3;
        }
        default:
            Console.Error.WriteLine(usage);
            return 2;
    }
}
catch (KvRequestException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 3;
}
catch (KvUnavailableException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 4;
}
catch (FormatException e)
{
    Console.Error.WriteLine($"akkakv: {e.Message}");
    return 2;
}
