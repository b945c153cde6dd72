using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Xunit;
using Xunit.Abstractions;

namespace AkkaKv.Tests.Architecture;

/// <summary>
/// The structure the compiler cannot check by itself: folders (namespaces) depend in one
/// direction, the core carries no Akka, the client carries nothing of the server, and the
/// node-to-node protocols are internal. Read from the compiled assemblies.
/// </summary>
public sealed class ArchitectureTests(ITestOutputHelper output)
{
    private static readonly string Bin = AppContext.BaseDirectory;

    /// <summary>Every assembly of the store, client and tools included.</summary>
    private static readonly string[] Ours = ["AkkaKv.Core", "AkkaKv.Protocol", "AkkaKv.Actors", "AkkaKv.Client", "akkakv-cli", "akkakv-node"];

    private static string PathOf(string assembly) => Path.Combine(Bin, assembly + ".dll");

    [Fact]
    public void Folders_depend_on_each_other_in_one_direction_only()
    {
        var edges = TypeReferenceGraph.NamespaceEdges(Ours.Select(PathOf), "AkkaKv");
        foreach (var (from, to) in edges.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            output.WriteLine($"{from} -> {string.Join(", ", to)}");
        Assert.True(edges.Count >= 12, $"expected the store's folders, found {edges.Count} namespaces");
        var cycles = TypeReferenceGraph.Cycles(edges);
        Assert.True(cycles.Count == 0, "folder loops: " + string.Join("; ", cycles.Select(c => string.Join(" <-> ", c))));
    }

    [Fact]
    public void The_graph_sees_a_loop_made_only_of_fully_qualified_references()
    {
        // The check must fail on a loop that no using line shows: two namespaces of this test
        // assembly refer to each other through fully qualified names only.
        var edges = TypeReferenceGraph.NamespaceEdges([typeof(ArchitectureTests).Assembly.Location], "AkkaKv.Tests.Architecture.Loop");
        Assert.Contains(("AkkaKv.Tests.Architecture.LoopA", "AkkaKv.Tests.Architecture.LoopB"), TypeReferenceGraph.TwoCycles(edges));
    }

    [Fact]
    public void The_core_references_no_Akka_assembly()
    {
        var references = ReferencesOf(PathOf("AkkaKv.Core"));
        Assert.DoesNotContain(references, r => r.StartsWith("Akka", StringComparison.Ordinal) && !r.StartsWith("AkkaKv", StringComparison.Ordinal));
        Assert.DoesNotContain(references, r => r.StartsWith("AkkaKv", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("AkkaKv.Client")]
    [InlineData("akkakv-cli")]
    [InlineData("AkkaKv.Protocol")]
    public void A_client_references_no_Sharding_Persistence_SQLite_or_server_assembly(string assembly)
    {
        var closure = Closure(assembly);
        output.WriteLine($"{assembly} loads: {string.Join(", ", closure.Order(StringComparer.Ordinal))}");
        Assert.Contains("AkkaKv.Protocol", closure);
        string[] server = ["AkkaKv.Actors", "akkakv-node", "Akka.Cluster.Sharding", "Akka.Cluster.Tools", "Akka.Cluster", "Akka.DistributedData", "Akka.Persistence",
            "Akka.Persistence.Sql", "Microsoft.Data.Sqlite", "linq2db", "SQLitePCLRaw.core"];
        Assert.Empty(closure.Intersect(server));
        Assert.DoesNotContain(closure, a => a.StartsWith("Akka.Persistence", StringComparison.Ordinal) || a.Contains("Sqlite", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Node_to_node_messages_are_internal_to_the_server()
    {
        var server = typeof(AkkaKv.Replica.ReplicaActor).Assembly;
        var messages = server.GetTypes().Where(t => typeof(IKvMessage).IsAssignableFrom(t) && !t.IsInterface).ToList();
        Assert.NotEmpty(messages);
        Assert.Empty(messages.Where(t => t.IsPublic).Select(t => t.FullName));
    }

    private static IReadOnlyList<string> ReferencesOf(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        return md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name)).ToList();
    }

    /// <summary>Every assembly <paramref name="root"/> needs, following references among those deployed beside it (the framework's are left out).</summary>
    private static HashSet<string> Closure(string root)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { root };
        var queue = new Queue<string>([root]);
        while (queue.TryDequeue(out var name))
        {
            var path = PathOf(name);
            if (!File.Exists(path)) continue;
            foreach (var reference in ReferencesOf(path))
                if (File.Exists(PathOf(reference)) && seen.Add(reference)) queue.Enqueue(reference);
        }
        return seen;
    }
}
