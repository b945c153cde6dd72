using System.Runtime.CompilerServices;
using AkkaKv.Coordination;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Actors;

/// <summary>
/// A coordinator's timers (<see cref="RequestTimers"/>): they deliver on time, a cancelled or
/// restarted timer never delivers its old message, and a cancelled timer holds nothing of its
/// coordinator (Akka's scheduler held a stopped coordinator until the timer's deadline).
/// </summary>
public sealed class RequestTimersSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan NoMessage = TimeSpan.FromMilliseconds(200);

    public RequestTimersSpec(ITestOutputHelper output) : base((Akka.Configuration.Config?)null, "request-timers-spec", output) { }

    /// <summary>Timers on a clock the spec advances, delivering to a probe.</summary>
    private (FakeTimeProvider Time, Akka.TestKit.TestProbe Owner, RequestTimers Timers) OnFakeTime()
    {
        var time = new FakeTimeProvider();
        var owner = CreateTestProbe();
        return (time, owner, new RequestTimers(time, owner.Ref));
    }

    [Fact]
    public void A_timer_delivers_its_message_once_its_delay_has_passed_and_not_before()
    {
        var (time, owner, timers) = OnFakeTime();
        timers.Start("overall", "timed out", TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromMilliseconds(4999));
        owner.ExpectNoMsg(NoMessage);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var due = owner.ExpectMsg<RequestTimers.Due>();
        Assert.Equal("timed out", timers.Accept(due));
        // Delivered once: accepting it again gives nothing.
        Assert.Null(timers.Accept(due));
    }

    [Fact]
    public void A_timer_cancelled_after_it_fired_does_not_deliver_its_message()
    {
        var (time, owner, timers) = OnFakeTime();
        timers.Start(("ack", 2), "ack timeout", TimeSpan.FromSeconds(1));
        timers.Start(("ack", 1), "other ack timeout", TimeSpan.FromSeconds(1));

        time.Advance(TimeSpan.FromSeconds(1));
        var fired = new[] { owner.ExpectMsg<RequestTimers.Due>(), owner.ExpectMsg<RequestTimers.Due>() };
        // The ack came in while the timeout was already in the mailbox.
        timers.Cancel(("ack", 2));
        Assert.Equal(["other ack timeout"], fired.Select(timers.Accept).Where(m => m is not null));
    }

    [Fact]
    public void A_restarted_timer_delivers_only_its_newest_message()
    {
        var (time, owner, timers) = OnFakeTime();
        timers.Start("coordinating-replica", "first", TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(2));
        var stale = owner.ExpectMsg<RequestTimers.Due>();

        timers.Start("coordinating-replica", "second", TimeSpan.FromSeconds(2));
        Assert.Null(timers.Accept(stale));
        time.Advance(TimeSpan.FromSeconds(1));
        owner.ExpectNoMsg(NoMessage);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("second", timers.Accept(owner.ExpectMsg<RequestTimers.Due>()));
    }

    [Fact]
    public void Cancelled_timers_never_fire()
    {
        var (time, owner, timers) = OnFakeTime();
        timers.Start("overall", "timed out", TimeSpan.FromSeconds(5));
        timers.Start("read-repair", "window over", TimeSpan.FromSeconds(1));
        timers.Cancel("read-repair");
        timers.CancelAll();

        time.Advance(TimeSpan.FromSeconds(10));
        owner.ExpectNoMsg(NoMessage);
    }

    [Fact]
    public void A_timer_never_delivers_before_its_delay_even_when_the_clock_s_timers_fire_early()
    {
        // The system timers count in coarse ticks and can fire a few ms early; these fire 50 ms early.
        var owner = CreateTestProbe();
        var timers = new RequestTimers(new EarlyTimers(TimeSpan.FromMilliseconds(50)), owner.Ref);
        var started = System.Diagnostics.Stopwatch.StartNew();
        timers.Start("read-repair", "window over", TimeSpan.FromMilliseconds(300));

        var due = owner.ExpectMsg<RequestTimers.Due>(TimeSpan.FromSeconds(3));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(300), $"delivered after {started.Elapsed.TotalMilliseconds} ms, before its 300 ms");
        Assert.Equal("window over", timers.Accept(due));
    }

    /// <summary>The system clock, with timers that fire <c>early</c> before their due time.</summary>
    private sealed class EarlyTimers(TimeSpan early) : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, dueTime > early ? dueTime - early : TimeSpan.Zero, period);
    }

    [Fact]
    public void A_cancelled_timer_holds_nothing_of_what_it_would_have_delivered()
    {
        // The real clock's timers: a 5-minute timer, cancelled at once, must let go of its message
        // (and with it the coordinator) now, not in five minutes.
        var timers = new RequestTimers(TimeProvider.System, CreateTestProbe().Ref);
        var message = StartWithFreshMessage(timers, "overall");
        timers.Cancel("overall");
        var stopped = StartWithFreshMessage(timers, "read-repair");
        timers.CancelAll();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(message.IsAlive, "a cancelled timer still references its message");
        Assert.False(stopped.IsAlive, "a timer cancelled by CancelAll still references its message");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference StartWithFreshMessage(RequestTimers timers, string key)
    {
        var message = new object();
        timers.Start(key, message, TimeSpan.FromMinutes(5));
        return new WeakReference(message);
    }
}
