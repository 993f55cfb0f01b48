using System.Globalization;
using Fellows.Server.Jobs;
using Quartz;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// Keeps one Quartz job per open motion with triggers for its deadlines (voting opens, reminder, close),
/// stored in PostgreSQL so a restart does not lose them. Quartz reads the same <see cref="TimeProvider"/> as the rest
/// of the host (so a test clock drives it); the job also checks that clock itself, so firing early does nothing.
/// </summary>
public sealed class MotionScheduler(OneShotJobs jobs, TimeProvider clock, ILogger<MotionScheduler> logger)
{
    public const string Group = "motions";

    public static JobKey JobKeyFor(long motionId) => new($"motion-{motionId.ToString(CultureInfo.InvariantCulture)}", Group);

    public async Task ScheduleAsync(MotionRow motion, CancellationToken ct)
    {
        var key = JobKeyFor(motion.Id);
        var now = clock.GetUtcNow();
        var times = new List<(string, DateTimeOffset)>();
        if (motion.Phase == Fellows.Federation.Deliberation.MotionPhase.Discussion && motion.DiscussionEndsAt is { } d) times.Add(($"{key.Name}-voting", d));
        if (motion.RemindBefore > TimeSpan.Zero && motion.VotingEndsAt - motion.RemindBefore > now) times.Add(($"{key.Name}-remind", motion.VotingEndsAt - motion.RemindBefore));
        times.Add(($"{key.Name}-close", motion.VotingEndsAt));
        var data = new Dictionary<string, string> { [MotionDeadlineJob.MotionIdKey] = motion.Id.ToString(CultureInfo.InvariantCulture) };
        await jobs.ScheduleAsync<MotionDeadlineJob>(key, data, times, ct);
        if (logger.IsEnabled(LogLevel.Debug)) logger.LogDebug("Scheduled {Count} deadlines for motion {Id}", times.Count, motion.Id);
    }

    public Task UnscheduleAsync(long motionId, CancellationToken ct) => jobs.DeleteAsync(JobKeyFor(motionId), ct);
}

/// <summary>Moves one motion on: opens voting, reminds the undecided, closes and counts.</summary>
public sealed class MotionDeadlineJob(MotionService motions) : IJob
{
    public const string MotionIdKey = "motion_id";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        if (!long.TryParse(context.MergedJobDataMap.GetString(MotionIdKey), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return;
        await motions.AdvanceAsync(id, cancellationToken);
    }
}

/// <summary>
/// The safety net: a motion whose deadline passed without its trigger firing (its trigger was lost between the
/// commit and scheduling) is moved on here.
/// </summary>
[DisallowConcurrentExecution]
public sealed class MotionSweepJob(MotionService motions, MotionLifecycle lifecycle) : IJob
{
    public static readonly JobKey Key = new("motion-sweep", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        foreach (var id in await motions.DueAsync(cancellationToken))
            await motions.AdvanceAsync(id, cancellationToken);
        await lifecycle.SweepAsync(cancellationToken);
    }
}
