using System.Reflection;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using AkkaKv.Codec;

namespace AkkaKv.Protocol;

/// <summary>
/// A client's serializer for the store's traffic: the client protocol and the status family
/// (<see cref="ProtocolCodec"/>). It carries the store serializer's id (<see cref="Id"/>), so a
/// node reads what it writes and the reverse; a node binds its own serializer, which knows these
/// manifests and the node-to-node ones, under the same id. A message of any other type is refused.
/// </summary>
public sealed class ProtocolSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The store's serializer id, on clients and nodes alike: journals and the wire carry it.</summary>
    public const int Id = 4711;
    public override int Identifier => Id;

    public override string Manifest(object o) =>
        ProtocolCodec.ManifestOf(o) ?? throw new ArgumentException($"the AkkaKv client protocol has no message {o.GetType().FullName}", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        var w = new KvWriter();
        if (!ProtocolCodec.TryWrite(w, obj)) throw new ArgumentException($"the AkkaKv client protocol has no message {obj.GetType().FullName}", nameof(obj));
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest) =>
        ProtocolCodec.TryRead(new KvReader(bytes), manifest) ?? throw new FormatException($"the AkkaKv client protocol has no manifest '{manifest}'");

    /// <summary>
    /// The serializer bindings a client ActorSystem needs to talk to a node
    /// (<c>hocon/client-serialization.conf</c>, embedded).
    /// </summary>
    public static readonly Config ClientConfig = ConfigurationFactory.ParseString(ReadResource("client-serialization.conf"));

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded HOCON {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
