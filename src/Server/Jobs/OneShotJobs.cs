using Quartz;

namespace Fellows.Server.Jobs;

/// <summary>
/// Schedules, replaces and deletes one-shot Quartz jobs (a scheduled post, a poll's end, a motion's deadlines and
/// follow-ups): one job per key, stored in PostgreSQL so a restart keeps it, with recovery requested. Scheduling a key
/// again replaces its job and triggers. A time already past on the host's business clock fires at once. Does nothing
/// on a host that runs without Quartz.
/// </summary>
public sealed class OneShotJobs(IServiceProvider services, TimeProvider clock)
{
    /// <summary>Schedules <typeparamref name="TJob"/> under <paramref name="key"/> to fire once at <paramref name="at"/>.</summary>
    public Task ScheduleAsync<TJob>(JobKey key, IReadOnlyDictionary<string, string> data, DateTimeOffset at, CancellationToken ct)
        where TJob : IJob =>
        ScheduleAsync<TJob>(key, data, [(key.Name, at)], ct);

    /// <summary>Schedules <typeparamref name="TJob"/> under <paramref name="key"/> with one trigger per named time.</summary>
    public async Task ScheduleAsync<TJob>(
        JobKey key, IReadOnlyDictionary<string, string> data, IReadOnlyCollection<(string Trigger, DateTimeOffset At)> times, CancellationToken ct)
        where TJob : IJob
    {
        if (services.GetService<ISchedulerFactory>() is not { } factory) return;
        var scheduler = await factory.GetScheduler(ct);
        var builder = JobBuilder.Create<TJob>().WithIdentity(key).RequestRecovery();
        foreach (var (name, value) in data)
            builder = builder.UsingJobData(name, value);
        var now = clock.GetUtcNow();
        // One that comes due while no scheduler runs fires as soon as one is back (a one-shot trigger's default misfire policy).
        var triggers = times
            .Select(t => TriggerBuilder.Create().WithIdentity(t.Trigger, key.Group).ForJob(key).StartAt(t.At < now ? now : t.At).Build())
            .ToArray();
        await scheduler.ScheduleJob(builder.Build(), triggers, new ScheduleJobOptions { Replace = true }, ct);
    }

    /// <summary>Deletes the job under <paramref name="key"/> and its triggers, if any.</summary>
    public async Task DeleteAsync(JobKey key, CancellationToken ct)
    {
        if (services.GetService<ISchedulerFactory>() is not { } factory) return;
        await (await factory.GetScheduler(ct)).DeleteJob(key, ct);
    }
}
