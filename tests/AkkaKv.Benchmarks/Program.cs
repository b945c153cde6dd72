using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/AkkaKv.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(AkkaKv.Benchmarks.CoreBenchmarks).Assembly).Run(args);
