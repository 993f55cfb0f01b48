using System.Globalization;
using Fellows.Server.Jobs;
using Quartz;

namespace Fellows.Server.Features.Polls;

/// <summary>
/// One durable Quartz job per poll, fired at its end (stored in PostgreSQL, so a restart keeps it). Quartz reads
/// the host's <see cref="TimeProvider"/>, so a test clock drives it; the job checks that clock too.
/// </summary>
public sealed class PollScheduler(OneShotJobs jobs, ILogger<PollScheduler> logger)
{
    public const string Group = "polls";

    public static JobKey JobKeyFor(long pollId) => new($"poll-{pollId.ToString(CultureInfo.InvariantCulture)}", Group);

    public async Task ScheduleAsync(long pollId, DateTimeOffset endsAt, CancellationToken ct)
    {
        var data = new Dictionary<string, string> { [PollExpiryJob.PollIdKey] = pollId.ToString(CultureInfo.InvariantCulture) };
        await jobs.ScheduleAsync<PollExpiryJob>(JobKeyFor(pollId), data, endsAt, ct);
        if (logger.IsEnabled(LogLevel.Debug)) logger.LogDebug("Poll {Id} closes at {At}", pollId, endsAt);
    }
}

/// <summary>Closes one poll at its end.</summary>
public sealed class PollExpiryJob(PollService polls) : IJob
{
    public const string PollIdKey = "poll_id";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        if (!long.TryParse(context.MergedJobDataMap.GetString(PollIdKey), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return;
        await polls.CloseAsync(id, cancellationToken);
    }
}
