using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Fellows.Benchmarks.Micro;

/// <summary>
/// One short job for every benchmark class: in process (no per-benchmark project rebuild, which alone takes minutes
/// on a 2-core box), few iterations, and ratios to each class's baseline, which is what we report because the
/// machine is shared and absolute times drift between runs.
/// </summary>
public static class MicroConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(8)
            .WithId("Short"))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(StatisticColumn.Median)
        .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
        .WithOption(ConfigOptions.JoinSummary, false);
}

/// <summary>A clock stuck at one instant, so signatures made in set-up stay inside the verifier's window.</summary>
sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
