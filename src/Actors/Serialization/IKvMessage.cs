namespace AkkaKv.Serialization;

/// <summary>
/// Marker for every message and persisted event of the store. It binds them all to
/// <see cref="KvSerializer"/> (see <c>hocon/serialization.conf</c>), so Akka's default JSON
/// serializer carries none of the store's traffic.
/// </summary>
public interface IKvMessage;
