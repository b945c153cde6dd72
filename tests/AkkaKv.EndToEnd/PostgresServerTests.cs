using Xunit;

namespace AkkaKv.EndToEnd;

/// <summary>Where the fixture looks for PostgreSQL, over fake directory trees (no server started).</summary>
public sealed class PostgresServerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "akkakv-pgbin-" + Guid.NewGuid().ToString("N")[..8]);

    private string FakeBin(string relative, bool complete = true)
    {
        var dir = Path.Combine(_root, relative);
        Directory.CreateDirectory(dir);
        foreach (var tool in complete ? new[] { "initdb", "pg_ctl", "postgres" } : ["psql"]) File.WriteAllText(Path.Combine(dir, tool), "");
        return dir;
    }

    [Fact]
    public void The_newest_debian_version_with_every_server_binary_is_used()
    {
        FakeBin("lib/9.6/bin");
        var v15 = FakeBin("lib/15/bin");
        FakeBin("lib/16/bin", complete: false); // a client-only install
        FakeBin("lib/13/bin");
        Assert.Equal(v15, PostgresServer.FindBinaries(Path.Combine(_root, "lib"), FakeBin("path")));
    }

    [Fact]
    public void Without_a_debian_install_the_path_is_searched()
    {
        var onPath = FakeBin("usr/bin");
        Assert.Equal(onPath, PostgresServer.FindBinaries(Path.Combine(_root, "nothing"), string.Join(Path.PathSeparator, FakeBin("clients", complete: false), onPath)));
    }

    [Fact]
    public void Missing_binaries_fail_with_how_to_install_them()
    {
        var e = Assert.Throws<FileNotFoundException>(() => PostgresServer.FindBinaries(Path.Combine(_root, "nothing"), FakeBin("clients", complete: false)));
        Assert.Contains("initdb, pg_ctl, postgres", e.Message);
        Assert.Contains("apt-get install -y --no-install-recommends postgresql", e.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
