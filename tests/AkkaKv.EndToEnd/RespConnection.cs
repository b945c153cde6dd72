using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace AkkaKv.EndToEnd;

/// <summary>The node answered a RESP command with an error reply (<c>-ERR ...</c>).</summary>
public sealed class RespErrorException(string message) : Exception(message);

/// <summary>
/// One plain RESP2 connection over a raw socket, for load that must see exactly what a simple
/// client sees: a refused connect, a connection the node closed, an error reply, or no reply
/// within <see cref="ReplyTimeout"/> (<see cref="TimeoutException"/>). It never reconnects or
/// retries by itself; its caller decides. Only SET and GET: one request in flight at a time.
/// </summary>
public sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(15);

    public int Port { get; }

    private RespConnection(TcpClient tcp, int port)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        Port = port;
    }

    public static async Task<RespConnection> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(ReplyTimeout);
            await tcp.ConnectAsync("127.0.0.1", port, cts.Token);
            return new RespConnection(tcp, port);
        }
        catch (OperationCanceledException)
        {
            tcp.Dispose();
            throw new TimeoutException($"connect to RESP port {port} took over {ReplyTimeout.TotalSeconds:0} s");
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>SET; returns once the node answered <c>+OK</c>.</summary>
    public async Task SetAsync(string key, string value)
    {
        var reply = await CallAsync("SET", key, value);
        if (reply != "OK") throw new RespErrorException($"SET {key} answered '{reply}', not OK");
    }

    /// <summary>GET; the value, or null for a nil reply.</summary>
    public Task<string?> GetAsync(string key) => CallAsync("GET", key);

    private async Task<string?> CallAsync(params string[] command)
    {
        var request = new StringBuilder().Append('*').Append(command.Length).Append("\r\n");
        foreach (var part in command)
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        using var cts = new CancellationTokenSource(ReplyTimeout);
        try
        {
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cts.Token);
            var line = await ReadLineAsync(cts.Token);
            switch (line[0])
            {
                case '+': return line[1..];
                case '-': throw new RespErrorException(line[1..]);
                case '$':
                    var length = int.Parse(line.AsSpan(1), CultureInfo.InvariantCulture);
                    if (length < 0) return null;
                    var bytes = await ReadExactlyAsync(length + 2, cts.Token);
                    return Encoding.UTF8.GetString(bytes, 0, length);
                default: throw new IOException($"unexpected RESP reply '{line}'");
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no reply to {command[0]} {command[1]} from RESP port {Port} within {ReplyTimeout.TotalSeconds:0} s");
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancel)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                if (newline - _start < 2 || _buffer[newline - 1] != '\r') throw new IOException("malformed RESP reply line");
                var line = Encoding.UTF8.GetString(_buffer, _start, newline - 1 - _start);
                _start = newline + 1;
                return line;
            }
            await FillAsync(cancel);
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancel)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end) await FillAsync(cancel);
            var n = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private async Task FillAsync(CancellationToken cancel)
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new IOException("RESP reply line longer than the buffer");
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancel);
        if (read == 0) throw new IOException($"RESP port {Port} closed the connection");
        _end += read;
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
