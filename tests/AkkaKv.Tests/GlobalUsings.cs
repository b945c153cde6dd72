// The namespaces of the store's capabilities, for every spec (the subjects moved between folders
// and assemblies when the core was split out; specs name types, not where they live).
global using AkkaKv.Codec;
global using AkkaKv.Configuration;
global using AkkaKv.Merkle;
global using AkkaKv.Placement;
global using AkkaKv.Protocol;
global using AkkaKv.Replica;
global using AkkaKv.Ring;
global using AkkaKv.Versioning;
