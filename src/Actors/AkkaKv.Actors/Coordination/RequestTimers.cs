using Akka.Actor;
using Akka.Event;

namespace AkkaKv.Coordination;

/// <summary>
/// A request coordinator's timers, on <see cref="TimeProvider"/> timers instead of Akka's scheduler,
/// with the same promise as <see cref="ITimerScheduler"/>: a timer started again or cancelled never
/// delivers its old message.
/// <para>
/// Why not Akka's timers: the hashed-wheel scheduler drops a cancelled timer only when the wheel
/// reaches its deadline, and until then the registration holds the actor's cell. Every coordinator
/// starts a request-timeout timer (5 s by default) and finishes in milliseconds, so at 2,500 puts/s
/// a node held about 11,000 stopped coordinators (cell, mailbox, timers, paths: about 1.3 KB each),
/// all of which survived two collections into gen2 before they could be freed. A disposed
/// <see cref="ITimer"/> leaves its queue at once.
/// </para>
/// </summary>
internal sealed class RequestTimers
{
    private readonly TimeProvider _time;
    private readonly IActorRef _owner;
    // A coordinator runs one to four timers at a time: a short list beats a dictionary.
    private readonly List<Due> _running = new(4);

    public RequestTimers(TimeProvider time, IActorRef owner)
    {
        _time = time;
        _owner = owner;
    }

    /// <summary>Starts (or restarts) the timer <paramref name="key"/>: <paramref name="message"/> after <paramref name="delay"/>.</summary>
    public void Start(object key, object message, TimeSpan delay)
    {
        Cancel(key);
        var due = new Due(key, message, _owner, _time, delay);
        _running.Add(due);
        due.Timer = _time.CreateTimer(static state => ((Due)state!).Fire(), due, delay, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Cancels the timer <paramref name="key"/>: its message is not delivered, even if it is already on its way.</summary>
    public void Cancel(object key)
    {
        for (var i = 0; i < _running.Count; i++)
            if (_running[i].Key.Equals(key))
            {
                _running[i].Timer?.Dispose();
                _running.RemoveAt(i);
                return;
            }
    }

    /// <summary>Cancels every timer (from the coordinator's <c>PostStop</c>).</summary>
    public void CancelAll()
    {
        foreach (var due in _running) due.Timer?.Dispose();
        _running.Clear();
    }

    /// <summary>
    /// The message a fired timer brought, if the timer is still the running one of its key (then it
    /// stops running); null for one cancelled or restarted after it fired.
    /// </summary>
    public object? Accept(Due due)
    {
        var i = _running.IndexOf(due);
        if (i < 0) return null;
        _running.RemoveAt(i);
        due.Timer?.Dispose();
        return due.Message;
    }

    /// <summary>What a timer sends its coordinator when it fires; handed back to <see cref="Accept"/>.</summary>
    internal sealed class Due : IDeadLetterSuppression
    {
        private static readonly TimeSpan AtLeast = TimeSpan.FromMilliseconds(1);
        private readonly IActorRef _owner;
        private readonly TimeProvider _time;
        private readonly long _started;
        private readonly TimeSpan _delay;

        public Due(object key, object message, IActorRef owner, TimeProvider time, TimeSpan delay)
        {
            Key = key;
            Message = message;
            _owner = owner;
            _time = time;
            _delay = delay;
            _started = time.GetTimestamp();
        }

        public object Key { get; }
        public object Message { get; }
        public ITimer? Timer { get; set; }

        /// <summary>
        /// Delivers, never before the delay has passed by the provider's own high-resolution clock:
        /// the system timers count in coarse ticks (a few ms on Linux) and can fire that much early,
        /// and a timeout that fires before its time is a bug a user can see (a read repaired, a
        /// second replica asked, too soon). Early: armed again for what is left.
        /// </summary>
        public void Fire()
        {
            var left = _delay - _time.GetElapsedTime(_started);
            if (left > TimeSpan.Zero && Timer is { } timer)
            {
                timer.Change(left < AtLeast ? AtLeast : left, Timeout.InfiniteTimeSpan);
                return;
            }
            _owner.Tell(this, ActorRefs.NoSender);
        }
    }
}
