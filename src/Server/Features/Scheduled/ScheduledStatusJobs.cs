using System.Globalization;
using Fellows.Server.Features.Polls;
using Fellows.Server.Jobs;
using Quartz;

namespace Fellows.Server.Features.Scheduled;

/// <summary>One durable Quartz job per scheduled post, fired at its time; stored in PostgreSQL, so it survives a restart.</summary>
public sealed class ScheduledStatusScheduler(OneShotJobs jobs)
{
    public const string Group = "scheduled-statuses";

    public static JobKey JobKeyFor(long id) => new($"scheduled-status-{id.ToString(CultureInfo.InvariantCulture)}", Group);

    public Task ScheduleAsync(long id, DateTimeOffset at, CancellationToken ct) =>
        jobs.ScheduleAsync<ScheduledStatusJob>(
            JobKeyFor(id), new Dictionary<string, string> { [ScheduledStatusJob.IdKey] = id.ToString(CultureInfo.InvariantCulture) }, at, ct);

    public Task UnscheduleAsync(long id, CancellationToken ct) => jobs.DeleteAsync(JobKeyFor(id), ct);
}

/// <summary>Publishes one scheduled post.</summary>
public sealed class ScheduledStatusJob(ScheduledStatusService scheduled) : IJob
{
    public const string IdKey = "scheduled_status_id";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        if (!long.TryParse(context.MergedJobDataMap.GetString(IdKey), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return;
        await scheduled.PublishAsync(id, cancellationToken);
    }
}

/// <summary>
/// The safety net for scheduled posts and poll ends whose own trigger was lost (scheduling happens just after the
/// commit): anything past its time is done here, once, by one node.
/// </summary>
[DisallowConcurrentExecution]
public sealed class DueWorkSweepJob(ScheduledStatusService scheduled, PollService polls) : IJob
{
    public static readonly JobKey Key = new("due-work-sweep", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        foreach (var id in await scheduled.DueAsync(cancellationToken)) await scheduled.PublishAsync(id, cancellationToken);
        foreach (var id in await polls.DueAsync(cancellationToken)) await polls.CloseAsync(id, cancellationToken);
    }
}
