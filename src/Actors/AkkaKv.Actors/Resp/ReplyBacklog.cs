namespace AkkaKv.Resp;

/// <summary>
/// The bytes of one connection's finished replies that its client has not yet been sent (Redis's
/// client output buffer). A reply counts from the moment it is ready until the flush that sends it
/// completes; a client that pipelines commands and does not read makes that grow. Past
/// <c>resp.max-output-buffer-bytes</c> the connection is closed (<c>overflow</c>, once) rather than
/// holding more: the commands' effects stand, their replies are dropped with the connection.
/// </summary>
internal sealed class ReplyBacklog(long limit, Action overflow)
{
    private long _held;
    private int _overflowed;

    /// <summary>Bytes counted now (tests and logs).</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Counts <paramref name="reply"/> from when it is ready.</summary>
    public void Track(Task<RespValue> reply)
    {
        if (reply.IsCompletedSuccessfully) Add(reply.Result);
        else
            reply.ContinueWith(static (t, state) =>
            {
                if (t.IsCompletedSuccessfully) ((ReplyBacklog)state!).Add(t.Result);
            }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The connection is closed: replies that complete from now on are not counted, and never close it again.</summary>
    public void Stop() => Interlocked.Exchange(ref _overflowed, 1);

    /// <summary>Replies of <paramref name="bytes"/> in all (as <see cref="RespWriter.SizeOf"/> counts them) went out.</summary>
    public void Sent(long bytes) => Interlocked.Add(ref _held, -bytes);

    private void Add(RespValue reply)
    {
        if (Interlocked.Add(ref _held, RespWriter.SizeOf(reply)) > limit && Interlocked.Exchange(ref _overflowed, 1) == 0) overflow();
    }
}
