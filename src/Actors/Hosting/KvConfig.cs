using System.Reflection;
using Akka.Configuration;

namespace AkkaKv.Hosting;

/// <summary>The HOCON shipped in <c>hocon/</c>, embedded in the assembly.</summary>
public static class KvConfig
{
    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded HOCON {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static readonly string StoreHocon = Resource("akka-kv.conf");
    public static readonly string ClusterHocon = Resource("cluster.conf");

    /// <summary>Just the serializer bindings: what a client ActorSystem needs to talk to a node.</summary>
    public static Config Serialization => ConfigurationFactory.ParseString(ClusterHocon).GetConfig("akka.actor") is { } actor
        ? ConfigurationFactory.ParseString("akka.actor {}").WithFallback(ConfigurationFactory.ParseString(
            "akka.actor { serializers = " + actor.GetValue("serializers") + "\nserialization-bindings = " + actor.GetValue("serialization-bindings")
            + "\nserialization-identifiers = " + actor.GetValue("serialization-identifiers") + " }"))
        : throw new InvalidOperationException("cluster.conf has no akka.actor section");
}
