// dotnet run -c Release --project tests/AkkaKv.Benchmarks/profile/allocan -- trace.nettrace
// Environment: DEPTH (frames per stack key, 5), FILTER (only allocations with a frame containing it).
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

var etlx = TraceLog.CreateFromEventPipeDataFile(args[0]);
using var log = new TraceLog(etlx);
var depth = int.Parse(Environment.GetEnvironmentVariable("DEPTH") ?? "5");
var filter = Environment.GetEnvironmentVariable("FILTER");
var byType = new Dictionary<string, long>();
var byFrame = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long total = 0;
foreach (var ev in log.Events)
{
    if (ev is not GCAllocationTickTraceData tick) continue;
    var frames = new List<string>();
    for (var frame = ev.CallStack(); frame != null; frame = frame.Caller)
        if (frame.CodeAddress.FullMethodName is { Length: > 0 } method) frames.Add(method);
    if (filter != null && !frames.Any(f => f.Contains(filter))) continue;
    var bytes = tick.AllocationAmount64;
    var type = tick.TypeName ?? "?";
    total += bytes;
    byType[type] = byType.GetValueOrDefault(type) + bytes;
    // Charged to the first frame outside the base library: who asked for the allocation.
    var owner = frames.FirstOrDefault(f => !f.StartsWith("System.") && !f.StartsWith("Microsoft.") && !f.StartsWith("Google.Protobuf")) ?? frames.FirstOrDefault() ?? "?";
    byFrame[owner] = byFrame.GetValueOrDefault(owner) + bytes;
    var stack = type + " <- " + string.Join(" <- ", frames.Take(depth));
    byStack[stack] = byStack.GetValueOrDefault(stack) + bytes;
}
Console.WriteLine($"total sampled {total / 1e6:F1} MB");
Print("by type", byType, 25);
Print("by first non-BCL frame", byFrame, 30);
Print("by stack", byStack, 30);

void Print(string title, Dictionary<string, long> bytes, int top)
{
    Console.WriteLine("== " + title);
    foreach (var (key, value) in bytes.OrderByDescending(kv => kv.Value).Take(top))
        Console.WriteLine($"{100.0 * value / Math.Max(1, total),5:F1}% {key}");
}
