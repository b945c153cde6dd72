namespace AkkaKv;

/// <summary>
/// Marker for every message and persisted event of the store. HOCON binds it to the store's
/// serializer (<c>hocon/serialization.conf</c> on a node, the protocol serializer on a client),
/// so Akka's default JSON serializer carries none of the store's traffic.
/// </summary>
public interface IKvMessage;
