namespace AkkaKv.Placement;

/// <summary>
/// The store's feature levels, gossiped with membership as each node's
/// <c>akka.cluster.app-version</c> (set in <c>hocon/cluster.conf</c>). A node writes a kind of
/// version that older nodes cannot read (a counter, a hash) only while every member is at the level that
/// reads it: during a rolling upgrade the write is refused with a clear error instead of being
/// misread by an older replica. Levels compare as <see cref="Version"/>s; a level that does not
/// parse (a node from before levels gossips its assembly version, or nothing) counts as older.
/// </summary>
public static class FeatureLevel
{
    /// <summary>This build's level; <c>hocon/cluster.conf</c>'s app-version must equal it (a test checks).</summary>
    public const string Current = "1.4.0";

    /// <summary>The first level that reads counter versions (<c>INCR</c>).</summary>
    public const string Counters = "1.1.0";

    /// <summary>The first level that reads hash versions (<c>HSET</c>).</summary>
    public const string Hashes = "1.2.0";

    /// <summary>The first level that applies a transaction's operations (<c>MULTI</c>/<c>EXEC</c>) at the coordinating replica.</summary>
    public const string Transactions = "1.3.0";

    /// <summary>
    /// The first level whose courier takes requests to replica slots in batches (one remote message
    /// for many requests to the same node): a node sends batches only to nodes at this level.
    /// </summary>
    public const string Batches = "1.4.0";

    /// <summary>True when <paramref name="appVersion"/> is at least <paramref name="required"/>.</summary>
    public static bool AtLeast(string appVersion, string required)
    {
        var plain = appVersion.Split('-', 2)[0];
        return Version.TryParse(plain, out var have) && Version.TryParse(required, out var need) && have >= need;
    }

    /// <summary>
    /// Why a write of <paramref name="what"/> (needing <paramref name="required"/>) must be refused
    /// while <paramref name="members"/> are the cluster, or null: it names the members below the level.
    /// </summary>
    public static string? Refusal(Membership members, string required, string what)
    {
        // IsRefusal recognizes this text: keep the two together.
        var older = members.Members.Where(m => !AtLeast(m.AppVersion, required)).Select(m => $"{m.Node} ({(m.AppVersion.Length == 0 ? "unknown" : m.AppVersion)})").Distinct().ToList();
        return older.Count == 0 ? null
            : $"{what}{NeedsEveryNode}{required} or later, and {string.Join(", ", older)} {(older.Count == 1 ? "is" : "are")} older: finish upgrading every node first";
    }

    private const string NeedsEveryNode = " needs every node at feature level ";

    /// <summary>True when <paramref name="reason"/> is a <see cref="Refusal"/>: the write was refused because a member is older.</summary>
    public static bool IsRefusal(string reason) => reason.Contains(NeedsEveryNode, StringComparison.Ordinal);
}
