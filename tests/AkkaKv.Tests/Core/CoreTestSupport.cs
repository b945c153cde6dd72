using AkkaKv.Configuration;
using AkkaKv.Hosting;

namespace AkkaKv.Tests.Core;

/// <summary>Shared helpers for the pure-core tests.</summary>
internal static class CoreTestSupport
{
    /// <summary>The node config a plain node gets: the shipped defaults plus node name and data dir.</summary>
    public static Akka.Configuration.Config DefaultNodeConfig(string? extraHocon = null, string nodeName = "n1") =>
        AkkaKvHosting.NodeConfig(new NodeOptions { NodeName = nodeName, DataDir = "/tmp/x", ExtraHocon = extraHocon });

    public static KvSettings DefaultSettings() => KvSettings.FromConfig(DefaultNodeConfig());

    public static Bytes B(string text) => Bytes.FromUtf8(text);
    public static Bytes B(params byte[] data) => Bytes.From(data);
}
