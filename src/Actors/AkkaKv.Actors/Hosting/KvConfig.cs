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

    public static readonly string SerializationHocon = Resource("serialization.conf");

    /// <summary>Just the serializer bindings: what a client ActorSystem needs to talk to a node.</summary>
    public static readonly Config Serialization = ConfigurationFactory.ParseString(SerializationHocon);
}
