using Akka.Actor;

namespace AkkaKv.Coordination;

/// <summary>
/// Props for a local, short-lived child from a plain factory. <c>Props.Create(() =&gt; new X(a, b))</c>
/// compiles each constructor argument expression into a dynamic method on every call: per request
/// that cost more CPU than the request itself (and kept the finalizer thread busy collecting the
/// methods). Coordinators are created per request, so they are built through this instead.
/// </summary>
internal static class LocalProps
{
    public static Props Of<TActor>(Func<TActor> create) where TActor : ActorBase =>
        Props.CreateBy(new FactoryProducer<TActor>(create), typeof(TActor));

    private sealed class FactoryProducer<TActor>(Func<TActor> create) : IIndirectActorProducer where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);
        public ActorBase Produce() => create();
        public void Release(ActorBase actor) { }
    }
}
