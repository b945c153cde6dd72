using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Event;
using AkkaKv.Configuration;

namespace AkkaKv.Resp;

/// <summary>
/// The node's Redis-protocol listener: System.IO.Pipelines over sockets, one async read loop and
/// one async write loop per connection (no thread per connection). A connection's pipelined
/// commands are answered in order (see <see cref="RespSession"/>); a protocol error gets Redis's
/// <c>-ERR Protocol error: ...</c> reply and closes that connection only.
/// </summary>
internal sealed class RespServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly KvSettings _settings;
    private readonly IKvBackend _backend;
    private readonly ILoggingAdapter? _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<long, (Socket Socket, Task Task)> _connections = new();
    private readonly RespNodeInfo _node;
    private readonly X509Certificate2? _certificate;
    private readonly Task _accepting;
    private long _nextConnection;
    private int _open;

    private RespServer(Socket listener, KvSettings settings, IKvBackend backend, ILoggingAdapter? log, TimeProvider time, X509Certificate2? certificate)
    {
        _certificate = certificate;
        _listener = listener;
        _settings = settings;
        _backend = backend;
        _log = log;
        _node = new RespNodeInfo(settings, LocalEndPoint.Port, time.GetUtcNow(), () => Volatile.Read(ref _open), time);
        _accepting = AcceptAsync();
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Connections currently open (rejected ones over the limit not counted).</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Binds at once (so a port in use fails the node's start) and starts accepting; with TLS when the settings name a certificate.</summary>
    /// <param name="certificate">The node's certificate when the caller has loaded it already; null: loaded from the settings.</param>
    public static RespServer Start(IPEndPoint endpoint, KvSettings settings, IKvBackend backend, ILoggingAdapter? log = null, TimeProvider? time = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        certificate ??= RespTls.Load(settings);
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endpoint);
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new RespServer(listener, settings, backend, log, time ?? TimeProvider.System, certificate);
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                _log?.Warning("RESP accept failed: {0}", e.Message);
                continue;
            }
            try
            {
                socket.NoDelay = true;
            }
            catch (SocketException)
            {
                // Reset by the client before we got to it.
                socket.Dispose();
                continue;
            }
            if (Interlocked.Increment(ref _open) > _settings.RespMaxConnections)
            {
                Interlocked.Decrement(ref _open);
                _ = RejectAsync(socket);
                continue;
            }
            var id = Interlocked.Increment(ref _nextConnection);
            _connections[id] = (socket, Task.CompletedTask);
            var task = Task.Run(() => ServeAsync(id, socket));
            _connections.TryUpdate(id, (socket, task), (socket, Task.CompletedTask));
        }
    }

    private static async Task RejectAsync(Socket socket)
    {
        try
        {
            await socket.SendAsync("-ERR max number of clients reached\r\n"u8.ToArray(), SocketFlags.None).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        finally { socket.Dispose(); }
    }

    private async Task ServeAsync(long id, Socket socket)
    {
        try
        {
            await ServeAsync(socket).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
            _connections.TryRemove(id, out _);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        await using var stream = await OpenAsync(socket, closing.Token).ConfigureAwait(false);
        if (stream is null) return;
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
        var session = new RespSession(_backend, _node, socket.RemoteEndPoint?.ToString() ?? "?", socket.LocalEndPoint?.ToString() ?? "?");
        var replies = Channel.CreateBounded<PendingReply>(new BoundedChannelOptions(_settings.RespMaxPipelined)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        var backlog = new ReplyBacklog(_settings.RespMaxOutputBufferBytes, () =>
        {
            _log?.Warning("RESP client {0}: over {1} bytes of replies wait for it to read them (akka-kv.resp.max-output-buffer-bytes); closing the connection",
                session.RemoteAddress, _settings.RespMaxOutputBufferBytes);
            // A reply can complete on another thread just as the connection ends on its own.
            try { closing.Cancel(); } catch (ObjectDisposedException) { }
        });
        var writing = WriteRepliesAsync(replies.Reader, output, backlog, closing);
        try
        {
            await ReadCommandsAsync(input, session, replies.Writer, backlog, closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or ChannelClosedException)
        {
            // The client went away or the node is stopping: nothing to answer.
        }
        catch (Exception e)
        {
            _log?.Error(e, "RESP connection {0} failed", session.RemoteAddress);
        }
        finally
        {
            replies.Writer.TryComplete();
        }
        await writing.ConfigureAwait(false);
        backlog.Stop();
        await input.CompleteAsync().ConfigureAwait(false);
        await output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>The connection's stream: the socket's, or TLS over it once the handshake is done; null when the handshake failed (the connection is closed).</summary>
    private async Task<Stream?> OpenAsync(Socket socket, CancellationToken cancel)
    {
        var network = new NetworkStream(socket, ownsSocket: true);
        if (_certificate is null) return network;
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        handshake.CancelAfter(RespTls.HandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(RespTls.ServerOptions(_certificate), handshake.Token).ConfigureAwait(false);
            return tls;
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException or OperationCanceledException or SocketException)
        {
            // A plain-text client, a client that does not trust the certificate, or one that never finishes.
            _log?.Info("RESP client {0}: TLS handshake failed ({1}); closing the connection", socket.RemoteEndPoint?.ToString() ?? "?", e.Message);
            await tls.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    private async Task ReadCommandsAsync(PipeReader input, RespSession session, ChannelWriter<PendingReply> replies, ReplyBacklog backlog, CancellationToken cancel)
    {
        // One reader per connection: it keeps its place in a command that arrives over many reads.
        var commands = new RespCommandReader(RespLimits.Of(_settings));
        // Redis's "timeout": the idle clock restarts at every read; when it runs out, the read is
        // cancelled and the connection closes without a reply.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var idleTimeout = _settings.RespIdleTimeout;
        while (true)
        {
            if (idleTimeout > TimeSpan.Zero) idle.CancelAfter(idleTimeout);
            ReadResult read;
            try
            {
                read = await input.ReadAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                _log?.Info("RESP client {0}: idle for {1} (akka-kv.resp.idle-timeout); closing the connection", session.RemoteAddress, idleTimeout);
                return;
            }
            var buffer = read.Buffer;
            var stop = false;
            while (!stop)
            {
                var status = commands.TryParse(ref buffer, out var args, out var error);
                if (status == RespParseStatus.Incomplete) break;
                PendingReply reply;
                if (status == RespParseStatus.ProtocolError)
                {
                    _log?.Info("RESP client {0}: {1}; closing the connection", session.RemoteAddress, error);
                    reply = new PendingReply(Task.FromResult(RespValue.Error("ERR " + error)), session.Protocol, CloseAfter: true);
                }
                else if (args.Length == 0) continue;
                else reply = session.Execute(args);
                backlog.Track(reply.Reply);
                if (!replies.TryWrite(reply)) await replies.WriteAsync(reply, cancel).ConfigureAwait(false);
                stop = reply.CloseAfter;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (stop || read.IsCompleted) return;
        }
    }

    private static async Task WriteRepliesAsync(ChannelReader<PendingReply> replies, PipeWriter output, ReplyBacklog backlog, CancellationTokenSource closing)
    {
        // Bytes of replies written to the output since its last flush: sent (off the backlog) once it flushes.
        long unflushed = 0;
        async ValueTask Flush()
        {
            await output.FlushAsync(closing.Token).ConfigureAwait(false);
            backlog.Sent(unflushed);
            unflushed = 0;
        }
        try
        {
            while (await replies.WaitToReadAsync(closing.Token).ConfigureAwait(false))
            {
                while (replies.TryRead(out var pending))
                {
                    if (!pending.Reply.IsCompleted)
                    {
                        // Send what is ready before waiting on the cluster for the next one.
                        await Flush().ConfigureAwait(false);
                    }
                    var value = await pending.Reply.ConfigureAwait(false);
                    RespWriter.Write(output, value, pending.Protocol);
                    unflushed += RespWriter.SizeOf(value);
                    if (pending.CloseAfter)
                    {
                        await Flush().ConfigureAwait(false);
                        return;
                    }
                }
                await Flush().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException) { }
        finally
        {
            // Stop reading too: nobody can be answered any more.
            closing.Cancel();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        foreach (var (_, (socket, _)) in _connections)
        {
            try { socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
        try
        {
            await Task.WhenAll(_connections.Values.Select(c => c.Task)).WaitAsync(NodeTimings.RespDrain).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log?.Warning("RESP: {0} connection(s) still finishing a request at shutdown", _connections.Count);
        }
    }
}
