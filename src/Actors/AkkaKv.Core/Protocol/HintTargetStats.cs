namespace AkkaKv.Protocol;

/// <summary>What one node holds for one target node (a line of the status's hinted-handoff section).</summary>
/// <param name="Held">Hints waiting for the target.</param>
/// <param name="Replayed">Hints delivered to it and acknowledged (since this node's journal began).</param>
/// <param name="Overflowed">Writes refused as hints because the bound was full: data the target needs repaired.</param>
public sealed record HintTargetStats(string Target, int Held, long Replayed, long Overflowed);
