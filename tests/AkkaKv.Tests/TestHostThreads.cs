using System.Runtime.CompilerServices;

namespace AkkaKv.Tests;

/// <summary>
/// On a 2-core box the thread pool starts with two workers and adds one about every half second
/// when they are busy. The test host keeps pool threads busy while it starts, so in a test run
/// alone a timer or a socket continuation in its first seconds ran up to a second late (measured:
/// the idle-timeout test's 100 ms pings stalled for 950 ms and it failed every time alone, and
/// passed every time with more workers). Tests that check timing against real clocks get enough
/// workers from the start; the node itself is not changed.
/// </summary>
internal static class TestHostThreads
{
    [ModuleInitializer]
    internal static void Init()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(io, 16));
    }
}
