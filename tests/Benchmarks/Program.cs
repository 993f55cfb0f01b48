using BenchmarkDotNet.Running;
using Fellows.Benchmarks.Load;
using Fellows.Benchmarks.Micro;
using Fellows.Benchmarks.Timelines;

namespace Fellows.Benchmarks;

/// <summary>
/// Two harnesses in one program. <c>load</c> starts a real Fellows server and measures it over HTTP; anything
/// else goes to BenchmarkDotNet (e.g. <c>--filter '*'</c>) for the hot paths of the protocol library.
/// Neither is a test: nothing here runs in <c>./test.sh</c>.
/// </summary>
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "load")
            return await LoadHarness.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == "deliberation")
            return await DeliberationHarness.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == "timelines")
            return await TimelineHarness.RunAsync(args[1..]);

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args, MicroConfig.Create());
        return 0;
    }
}
