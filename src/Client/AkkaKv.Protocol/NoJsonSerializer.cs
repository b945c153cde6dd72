using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace AkkaKv.Protocol;

/// <summary>
/// Takes the place of Akka's default JSON serializer (Newtonsoft, id 1, bound to
/// <c>System.Object</c>) on nodes and clients. That serializer names .NET types on the wire and
/// builds whatever a frame names: a polymorphic decoder any peer on the remoting port could feed.
/// AkkaKv's traffic all goes through its own binary serializer and Akka's typed ones, so nothing
/// needs JSON: this one refuses both ways. A frame that names id 1 is dropped by Akka.Remote with
/// this error logged (the connection and the node go on); a message with no binding fails to send
/// with the type named, instead of going out as JSON.
/// </summary>
public sealed class NoJsonSerializer : Serializer
{
    public NoJsonSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>The form Akka calls when <c>akka.actor.serialization-settings.json</c> exists (it does, for the serializer this replaces); the settings are not used.</summary>
    public NoJsonSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : base(system) { }

    /// <summary>The id of Akka's Newtonsoft JSON serializer, which frames on the wire name.</summary>
    public const int JsonId = 1;

    public override int Identifier => JsonId;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException($"AkkaKv sends nothing through Akka's JSON serializer: {obj.GetType().FullName} has no serializer binding");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException($"refused a message of {bytes.Length} bytes sent through Akka's JSON serializer (id {JsonId}): AkkaKv accepts no polymorphic serializer on the wire");
}
