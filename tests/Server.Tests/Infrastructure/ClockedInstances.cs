using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Fellows.Server.Tests;

/// <summary>
/// Fellows instances on loopback that each run on their own test clock (Quartz reads it too), for tests that pass
/// deadlines by moving the clocks on instead of sleeping. Deliveries retry within seconds; the retry sweep's short
/// repeating trigger keeps Quartz's thread waiting on the test clock, so advancing the clock wakes it; the safety-net
/// sweeps (motions, scheduled posts, poll ends) stay out of the way, so each job's own trigger is what does the work.
/// </summary>
public sealed class ClockedInstances : IAsyncDisposable
{
    readonly List<(FellowsInstance Instance, FakeTimeProvider Clock)> _started = [];

    ClockedInstances()
    {
    }

    /// <summary>Starts one instance per name, in order, each on a clock set to now in whole seconds.</summary>
    public static async Task<ClockedInstances> StartAsync(params string[] names)
    {
        var run = new ClockedInstances();
        try
        {
            foreach (var name in names)
            {
                // Whole seconds: PostgreSQL keeps microseconds, so times read back compare equal to the clock's.
                var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
                var instance = await FellowsInstance.StartAsync(name, b => b.Services.AddSingleton<TimeProvider>(clock), Settings());
                run._started.Add((instance, clock));
            }
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
        return run;
    }

    static Dictionary<string, string?> Settings() => new()
    {
        ["Delivery:BackoffBase"] = "00:00:01",
        ["Delivery:BackoffCap"] = "00:00:02",
        ["Delivery:PollInterval"] = "00:00:00.300",
        ["Jobs:MotionSweepInterval"] = "30.00:00:00",
        ["Jobs:RetrySweepInterval"] = "00:00:02",
    };

    /// <summary>The instance started <paramref name="index"/>th.</summary>
    public FellowsInstance this[int index] => _started[index].Instance;

    /// <summary>The clock of the instance started <paramref name="index"/>th.</summary>
    public FakeTimeProvider ClockOf(int index) => _started[index].Clock;

    /// <summary>Moves every instance's clock on by <paramref name="by"/>.</summary>
    public void Advance(TimeSpan by)
    {
        foreach (var (_, clock) in _started)
            clock.Advance(by);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (instance, _) in _started)
            await instance.DisposeAsync();
    }
}
