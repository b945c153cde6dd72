using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AkkaKv.Benchmarks -- --filter '*'
// dotnet run -c Release --project tests/AkkaKv.Benchmarks -- memory [keys]
// dotnet run -c Release --project tests/AkkaKv.Benchmarks -- cache <cache-set|cache-get|cache-get-sliding> <host:port> [requests] [clients] [keys]
if (args.Length > 0 && args[0] == "cache")
    return await AkkaKv.Benchmarks.CacheLoad.RunAsync(args);
if (args.Length > 0 && args[0] == "memory")
    AkkaKv.Benchmarks.MemoryPerKey.Run(args.Length > 1 ? int.Parse(args[1]) : 100_000);
else
    BenchmarkSwitcher.FromAssembly(typeof(AkkaKv.Benchmarks.CoreBenchmarks).Assembly).Run(args);
return 0;
