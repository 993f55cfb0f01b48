using System.Globalization;
using Quartz;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// Keeps one durable Quartz job per open motion with triggers for its deadlines (voting opens, reminder, close),
/// stored in PostgreSQL so a restart does not lose them. Quartz reads the same <see cref="TimeProvider"/> as the rest
/// of the host (so a test clock drives it); the job also checks that clock itself, so firing early does nothing.
/// </summary>
public sealed class MotionScheduler(IServiceProvider services, TimeProvider clock, ILogger<MotionScheduler> logger)
{
    public const string Group = "motions";

    public static JobKey JobKeyFor(long motionId) => new($"motion-{motionId.ToString(CultureInfo.InvariantCulture)}", Group);

    ISchedulerFactory? Factory => services.GetService<ISchedulerFactory>();

    public async Task ScheduleAsync(MotionRow motion, CancellationToken ct)
    {
        if (Factory is not { } factory) return;
        var scheduler = await factory.GetScheduler(ct);
        var key = JobKeyFor(motion.Id);
        var job = JobBuilder.Create<MotionDeadlineJob>()
            .WithIdentity(key)
            .UsingJobData(MotionDeadlineJob.MotionIdKey, motion.Id.ToString(CultureInfo.InvariantCulture))
            .StoreDurably()
            .RequestRecovery()
            .Build();
        var now = clock.GetUtcNow();
        var triggers = new List<ITrigger>();
        void At(string name, DateTimeOffset due)
        {
            var fireAt = due < now ? now : due;
            triggers.Add(TriggerBuilder.Create()
                .WithIdentity($"{key.Name}-{name}", Group)
                .ForJob(key)
                .StartAt(fireAt)
                // A one-shot simple trigger's default misfire policy fires as soon as the scheduler is back.
                .Build());
        }
        if (motion.Phase == Fellows.Federation.Deliberation.MotionPhase.Discussion && motion.DiscussionEndsAt is { } d) At("voting", d);
        if (motion.RemindBefore > TimeSpan.Zero && motion.VotingEndsAt - motion.RemindBefore > now) At("remind", motion.VotingEndsAt - motion.RemindBefore);
        At("close", motion.VotingEndsAt);
        await scheduler.ScheduleJob(job, triggers, new ScheduleJobOptions { Replace = true }, ct);
        if (logger.IsEnabled(LogLevel.Debug)) logger.LogDebug("Scheduled {Count} deadlines for motion {Id}", triggers.Count, motion.Id);
    }

    public async Task UnscheduleAsync(long motionId, CancellationToken ct)
    {
        if (Factory is not { } factory) return;
        var scheduler = await factory.GetScheduler(ct);
        await scheduler.DeleteJob(JobKeyFor(motionId), ct);
    }
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
