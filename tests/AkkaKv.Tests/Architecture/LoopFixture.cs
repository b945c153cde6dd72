// Two namespaces that refer to each other only through fully qualified names (no using line):
// the architecture test's own check that its graph sees such a loop.
namespace AkkaKv.Tests.Architecture.LoopA
{
    internal static class A
    {
        public static int Ping() => AkkaKv.Tests.Architecture.LoopB.B.Pong() + 1;
    }
}

namespace AkkaKv.Tests.Architecture.LoopB
{
    internal static class B
    {
        public static int Pong() => 0;
        public static System.Type Back() => typeof(AkkaKv.Tests.Architecture.LoopA.A);
    }
}
