using AkkaKv.Configuration;
using AkkaKv.Protocol;

namespace AkkaKv.Coordination;

/// <summary>Options with every default filled in and validated against N: what a coordinator runs with.</summary>
public sealed record ResolvedOptions(int N, int R, int W, TimeSpan Timeout, bool Sloppy)
{
    /// <summary>
    /// Fills defaults and validates 1 ≤ R, W ≤ N and a positive timeout. Returns null and an
    /// error message when the request is invalid.
    /// </summary>
    public static ResolvedOptions? Resolve(RequestOptions options, KvSettings settings, out string? error)
    {
        var n = settings.ReplicationFactor;
        var r = options.R ?? settings.DefaultR;
        var w = options.W ?? settings.DefaultW;
        var timeout = options.Timeout ?? settings.RequestTimeout;
        error = null;
        if (r < 1 || r > n) error = $"R={r} is invalid: it must be between 1 and N={n}";
        else if (w < 1 || w > n) error = $"W={w} is invalid: it must be between 1 and N={n}";
        else if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromMinutes(5)) error = $"timeout {timeout.TotalMilliseconds} ms is invalid: it must be in (0, 300000] ms";
        return error is null ? new ResolvedOptions(n, r, w, timeout, options.Sloppy ?? settings.DefaultSloppy) : null;
    }
}
