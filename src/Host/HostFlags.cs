using System.Globalization;
using AkkaKv.Hosting;

namespace AkkaKv.Host;

/// <summary>
/// The node's command line. Each flag can also come from the environment (AKKAKV_NAME,
/// AKKAKV_HOST, AKKAKV_PORT, AKKAKV_RESP_PORT, AKKAKV_SEEDS comma-separated, AKKAKV_DATA_DIR,
/// AKKAKV_CONFIG, AKKAKV_JOURNAL, AKKAKV_POSTGRES, AKKAKV_REQUIREPASS, AKKAKV_CONTEXT_KEYS, AKKAKV_TLS_CERT,
/// AKKAKV_TLS_KEY, AKKAKV_TLS_CA, AKKAKV_TLS_CLIENT_CA, AKKAKV_CLIENT_PORT, AKKAKV_INSECURE);
/// a flag wins over its variable. The journal flags become HOCON overrides applied over the
/// --config file.
/// </summary>
public static class HostFlags
{
    public const string Usage = """
        usage: akkakv-node --name <n1> [--host 127.0.0.1] [--public-host <address>] [--port 4001] [--resp-port 6381] [--seed host:port]... [--data-dir ./data/<name>] [--config extra.conf]
                           [--journal sqlite|postgresql] [--postgres "Host=...;Username=...;Password=..."] [--requirepass <password>] [--context-keys <file>] [--tls-cert <pem> --tls-key <pem> [--tls-ca <pem>]]
                           [--client-port 5001 [--tls-client-ca <pem>]] [--http-port 8001] [--insecure]

          --name      stable node name (required); a restart with the same name and data dir is the same node
          --host      bind address for Akka remoting and the RESP listener (default 127.0.0.1)
          --public-host  the address other nodes and clients reach this node at, when it is not --host (behind NAT,
                      in a container): the node's Akka address names it, its ports still bind --host (default: --host)
          --port      Akka remoting port (default 0: any free port)
          --resp-port Redis-protocol (RESP) port on --host (default 0: no RESP listener)
          --seed      a seed node host:port, repeatable; none: this node starts a new cluster
          --data-dir  where the node keeps its SQLite journal (default ./data/<name>)
          --config    a HOCON file applied over the defaults (e.g. akka-kv.request.w = 3)
          --journal   sqlite (default: <data-dir>/akkakv.db) or postgresql (this node's own database on the
                      --postgres server, akkakv_<name> unless akka-kv.storage.postgresql.database says otherwise)
          --postgres  the PostgreSQL server as an Npgsql connection string (akka-kv.storage.postgresql.connection-string);
                      --journal and --postgres win over the --config file
          --requirepass  the RESP port's password (Redis's requirepass, user "default"; akka-kv.resp.requirepass); clients
                      must AUTH before anything else. Prefer AKKAKV_REQUIREPASS: a flag shows in the process list
          --context-keys  the file of keys that sign causal contexts (akka-kv.security.context-keys-file): lines
                      "<id> <secret in base64>", the first signs, all are accepted; the same file on every node.
                      None: a public development key, refused off loopback
          --tls-cert, --tls-key  the node's certificate and private key, PEM files (akka-kv.tls.cert-file, key-file):
                      the RESP port then speaks TLS only (redis-cli --tls --cacert ca.crt). ./akkakv certs makes a dev CA
          --tls-ca    the CA of node certificates, PEM (akka-kv.tls.ca-file): Akka remoting becomes mutual TLS
                      (akka.ssl.tcp); a peer must present a certificate this CA issued for the address dialled, so a
                      process without one cannot join or send. Needs --tls-cert/--tls-key (server and client auth)
          --client-port  a second remoting port on --host for .NET clients (the akkakv CLI, KvClient): it serves only the
                      gateway's get, put, delete and status (default 0: none; clients use --port)
          --tls-client-ca  the CA of client certificates, PEM (akka-kv.tls.client-ca-file): with --tls-ca, the client
                      port accepts only certificates it issued, and the node port never does
          --http-port  an HTTP port on --host (default 0: none) serving /metrics (Prometheus text), /health/live and
                      /health/ready; HTTPS with the node's certificate when --tls-cert is set
          --insecure  start even though --host is not a loopback address and the node is not protected (protected mode
                      refuses that: remoting needs --tls-ca, contexts need --context-keys, a RESP port needs --requirepass)
        environment: AKKAKV_NAME, AKKAKV_HOST, AKKAKV_PUBLIC_HOST, AKKAKV_PORT, AKKAKV_RESP_PORT, AKKAKV_SEEDS (comma-separated), AKKAKV_DATA_DIR, AKKAKV_CONFIG,
                     AKKAKV_JOURNAL, AKKAKV_POSTGRES, AKKAKV_REQUIREPASS, AKKAKV_CONTEXT_KEYS, AKKAKV_TLS_CERT, AKKAKV_TLS_KEY, AKKAKV_TLS_CA,
                     AKKAKV_TLS_CLIENT_CA, AKKAKV_CLIENT_PORT, AKKAKV_HTTP_PORT, AKKAKV_INSECURE (1 or true)
        """;

    /// <summary>The values <c>--journal</c> takes: those of <c>akka-kv.storage.journal</c>.</summary>
    public static readonly IReadOnlyList<string> Journals = ["sqlite", "postgresql"];

    private static int PortOf(string flag, string? text) =>
        text is null ? 0
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number <= 65535 ? number
        : throw new ArgumentException($"{flag} '{text}' is not a port number");

    public static NodeOptions Parse(string[] args, Func<string, string?> env)
    {
        string? name = env("AKKAKV_NAME"), host = env("AKKAKV_HOST"), port = env("AKKAKV_PORT"), respPort = env("AKKAKV_RESP_PORT"), dataDir = env("AKKAKV_DATA_DIR"), config = env("AKKAKV_CONFIG");
        // Set but empty counts as unset, so scripts can pass these through as they are.
        string? journal = NonEmpty(env("AKKAKV_JOURNAL")), postgres = NonEmpty(env("AKKAKV_POSTGRES"));
        string journalFrom = "AKKAKV_JOURNAL", postgresFrom = "AKKAKV_POSTGRES";
        string? requirePass = NonEmpty(env("AKKAKV_REQUIREPASS")), contextKeys = NonEmpty(env("AKKAKV_CONTEXT_KEYS"));
        var contextKeysFrom = "AKKAKV_CONTEXT_KEYS";
        string? tlsCert = NonEmpty(env("AKKAKV_TLS_CERT")), tlsKey = NonEmpty(env("AKKAKV_TLS_KEY"));
        string? tlsCa = NonEmpty(env("AKKAKV_TLS_CA")), tlsClientCa = NonEmpty(env("AKKAKV_TLS_CLIENT_CA")), clientPort = NonEmpty(env("AKKAKV_CLIENT_PORT"));
        string? httpPort = NonEmpty(env("AKKAKV_HTTP_PORT")), publicHost = NonEmpty(env("AKKAKV_PUBLIC_HOST"));
        var insecureText = NonEmpty(env("AKKAKV_INSECURE"));
        var insecure = insecureText switch
        {
            null or "0" or "false" => false,
            "1" or "true" => true,
            _ => throw new ArgumentException($"AKKAKV_INSECURE '{insecureText}' must be 1, true, 0 or false"),
        };
        var seeds = new List<string>();
        var envSeeds = env("AKKAKV_SEEDS");
        var flagSeeds = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--name": name = Value(); break;
                case "--host": host = Value(); break;
                case "--public-host": publicHost = Value(); break;
                case "--port": port = Value(); break;
                case "--resp-port": respPort = Value(); break;
                case "--seed": flagSeeds.Add(Value()); break;
                case "--data-dir": dataDir = Value(); break;
                case "--config": config = Value(); break;
                case "--journal": journal = Value(); journalFrom = "--journal"; break;
                case "--postgres": postgres = Value(); postgresFrom = "--postgres"; break;
                case "--requirepass":
                    requirePass = Value();
                    if (requirePass.Length == 0) throw new ArgumentException("--requirepass needs a non-empty password");
                    break;
                case "--context-keys": contextKeys = Value(); contextKeysFrom = "--context-keys"; break;
                case "--tls-cert": tlsCert = Value(); break;
                case "--tls-key": tlsKey = Value(); break;
                case "--tls-ca": tlsCa = Value(); break;
                case "--tls-client-ca": tlsClientCa = Value(); break;
                case "--client-port": clientPort = Value(); break;
                case "--http-port": httpPort = Value(); break;
                case "--insecure": insecure = true; break;
                default: throw new ArgumentException($"unknown flag '{args[i]}'");
            }
        }
        seeds.AddRange(flagSeeds.Count > 0 ? flagSeeds : (envSeeds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("--name is required (a stable node name such as n1)");
        var portNumber = PortOf("--port", port);
        var respPortNumber = PortOf("--resp-port", respPort);
        var clientPortNumber = PortOf("--client-port", clientPort);
        var httpPortNumber = PortOf("--http-port", httpPort);
        foreach (var seed in seeds)
            if (seed.LastIndexOf(':') is var colon && (colon <= 0 || !int.TryParse(seed[(colon + 1)..], out _)))
                throw new ArgumentException($"--seed '{seed}' must be host:port");
        if (journal is not null && !Journals.Contains(journal))
            throw new ArgumentException($"{journalFrom} '{journal}' must be {string.Join(" or ", Journals)}");
        if (postgres is not null && string.IsNullOrWhiteSpace(postgres))
            throw new ArgumentException($"{postgresFrom} needs a PostgreSQL connection string (e.g. \"Host=127.0.0.1;Port=5432;Username=akkakv;Password=...\")");
        var overrides = new List<string>();
        if (journal is not null) overrides.Add($"akka-kv.storage.journal = {journal}");
        if (postgres is not null) overrides.Add($"akka-kv.storage.postgresql.connection-string = {HoconString(postgres)}");
        if (contextKeys is not null)
        {
            if (!File.Exists(contextKeys)) throw new ArgumentException($"{contextKeysFrom} '{contextKeys}': no such file");
            overrides.Add($"akka-kv.security.context-keys-file = {HoconString(Path.GetFullPath(contextKeys))}");
        }
        if (tlsCert is not null || tlsKey is not null)
        {
            if (tlsCert is null || tlsKey is null) throw new ArgumentException("--tls-cert and --tls-key go together: the node's PEM certificate and its PEM private key");
            foreach (var (flag, file) in new[] { ("--tls-cert", tlsCert), ("--tls-key", tlsKey) })
                if (!File.Exists(file)) throw new ArgumentException($"{flag} '{file}': no such file");
            overrides.Add($"akka-kv.tls.cert-file = {HoconString(Path.GetFullPath(tlsCert))}");
            overrides.Add($"akka-kv.tls.key-file = {HoconString(Path.GetFullPath(tlsKey))}");
        }
        foreach (var (flag, file, key) in new[] { ("--tls-ca", tlsCa, "ca-file"), ("--tls-client-ca", tlsClientCa, "client-ca-file") })
        {
            if (file is null) continue;
            if (!File.Exists(file)) throw new ArgumentException($"{flag} '{file}': no such file");
            overrides.Add($"akka-kv.tls.{key} = {HoconString(Path.GetFullPath(file))}");
        }
        if (requirePass is not null) overrides.Add($"akka-kv.resp.requirepass = {HoconString(requirePass)}");
        var fileHocon = config is null ? null
            : File.Exists(config) ? File.ReadAllText(config)
            : throw new ArgumentException($"--config '{config}': no such file");
        return new NodeOptions
        {
            NodeName = name,
            Host = host ?? "127.0.0.1",
            PublicHost = publicHost is null || publicHost == (host ?? "127.0.0.1") ? null
                : Uri.CheckHostName(publicHost.Trim('[', ']')) != UriHostNameType.Unknown ? publicHost
                : throw new ArgumentException($"--public-host '{publicHost}' is not a host name or an IP address"),
            Port = portNumber,
            RespPort = respPortNumber,
            ClientPort = clientPortNumber,
            HttpPort = httpPortNumber,
            Seeds = seeds,
            DataDir = dataDir ?? Path.Combine("data", name),
            Insecure = insecure,
            // Later keys win in HOCON: the journal and password flags over the --config file.
            ExtraHocon = overrides.Count == 0 ? fileHocon : string.Join("\n", [fileHocon ?? "", .. overrides]),
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>A HOCON quoted string holding exactly <paramref name="value"/> (JSON escapes: a connection string may hold quotes, backslashes, '#', '${').</summary>
    internal static string HoconString(string value)
    {
        var quoted = new System.Text.StringBuilder("\"");
        foreach (var c in value)
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return quoted.Append('"').ToString();
    }
}
