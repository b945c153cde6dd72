using System.Net;
using System.Net.Sockets;

namespace AkkaKv.Tests.Resp;

/// <summary>
/// A raw-socket RESP client for tests: sends exact bytes and reads exact replies. Every read is
/// bounded by <see cref="Timeout"/>, so a server that never answers fails the test instead of hanging it.
/// </summary>
internal sealed class RespTestClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _filled;

    private RespTestClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RespTestClient> ConnectAsync(IPEndPoint endpoint)
    {
        var tcp = new TcpClient(endpoint.AddressFamily) { NoDelay = true };
        using var cancel = new CancellationTokenSource(Timeout);
        await tcp.ConnectAsync(endpoint, cancel.Token);
        return new RespTestClient(tcp);
    }

    /// <summary>Bytes the server sent that no read has taken yet (in the socket or in this client's buffer).</summary>
    public int Unread => _filled + _tcp.Available;

    public async Task SendAsync(byte[] data)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        await _stream.WriteAsync(data, cancel.Token);
    }

    public Task SendAsync(string latin1) => SendAsync(RespTestSupport.Latin1(latin1));

    /// <summary>Sends one multibulk command and reads its reply.</summary>
    public async Task<RespReply> CallAsync(params string[] args)
    {
        await SendAsync(RespTestSupport.Command(args));
        return await ReadAsync();
    }

    public async Task<RespReply> CallAsync(params byte[][] args)
    {
        await SendAsync(RespTestSupport.Command(args));
        return await ReadAsync();
    }

    /// <summary>Reads exactly one reply; fails if none is complete within <see cref="Timeout"/> or the server closes first.</summary>
    public async Task<RespReply> ReadAsync()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        while (true)
        {
            if (RespReplyReader.TryRead(_buffer.AsSpan(0, _filled), out var reply, out var consumed))
            {
                Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _filled - consumed);
                _filled -= consumed;
                return reply;
            }
            if (_filled == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer.AsMemory(_filled), cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no complete reply within {Timeout}; have: '{RespTestSupport.Latin1(_buffer.AsSpan(0, _filled))}'");
            }
            if (read == 0) throw new IOException($"the server closed the connection before a complete reply; have: '{RespTestSupport.Latin1(_buffer.AsSpan(0, _filled))}'");
            _filled += read;
        }
    }

    /// <summary>Waits (bounded) until the server closes the connection, asserting it sends nothing more first.</summary>
    public async Task AssertClosedByServerAsync()
    {
        if (_filled > 0) throw new InvalidOperationException($"unexpected bytes before close: '{RespTestSupport.Latin1(_buffer.AsSpan(0, _filled))}'");
        using var cancel = new CancellationTokenSource(Timeout);
        var scratch = new byte[1024];
        int read;
        try
        {
            read = await _stream.ReadAsync(scratch, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not close the connection within {Timeout}");
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return; // closed with unread input: a reset is a close too
        }
        if (read != 0) throw new InvalidOperationException($"expected the server to close the connection, got '{RespTestSupport.Latin1(scratch.AsSpan(0, read))}'");
    }

    /// <summary>Half-closes: the server sees end of input but can still answer.</summary>
    public void ShutdownSend() => _tcp.Client.Shutdown(SocketShutdown.Send);

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
