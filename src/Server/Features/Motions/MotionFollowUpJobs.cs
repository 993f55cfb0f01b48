using System.Globalization;
using Fellows.Server.Jobs;
using Quartz;

namespace Fellows.Server.Features.Motions;

/// <summary>
/// One-off Quartz jobs, stored in PostgreSQL, for what comes after a motion closes: the outcome's review date and
/// each commitment's due date. Like <see cref="MotionScheduler"/> they run on the host's business clock, and the
/// work checks that clock itself, so a trigger that fires early or twice does nothing; the motion sweep catches
/// any that was never stored.
/// </summary>
public sealed class MotionFollowUpScheduler(OneShotJobs jobs)
{
    public const string Group = "motion-follow-ups";

    public static JobKey ReviewKey(long motionId) => new($"review-{motionId.ToString(CultureInfo.InvariantCulture)}", Group);

    public static JobKey CommitmentKey(long commitmentId) => new($"commitment-{commitmentId.ToString(CultureInfo.InvariantCulture)}", Group);

    public Task ScheduleReviewAsync(long motionId, DateTimeOffset at, CancellationToken ct) =>
        ScheduleAsync(ReviewKey(motionId), MotionFollowUpJob.Review, motionId, at, ct);

    public Task ScheduleCommitmentDueAsync(long commitmentId, DateTimeOffset at, CancellationToken ct) =>
        ScheduleAsync(CommitmentKey(commitmentId), MotionFollowUpJob.CommitmentDue, commitmentId, at, ct);

    public Task UnscheduleAsync(JobKey key, CancellationToken ct) => jobs.DeleteAsync(key, ct);

    Task ScheduleAsync(JobKey key, string kind, long id, DateTimeOffset at, CancellationToken ct) =>
        jobs.ScheduleAsync<MotionFollowUpJob>(
            key,
            new Dictionary<string, string> { [MotionFollowUpJob.KindKey] = kind, [MotionFollowUpJob.IdKey] = id.ToString(CultureInfo.InvariantCulture) },
            at,
            ct);
}

/// <summary>Asks members to review an outcome, or reminds a member of an overdue commitment.</summary>
public sealed class MotionFollowUpJob(MotionLifecycle lifecycle) : IJob
{
    public const string KindKey = "kind";
    public const string IdKey = "id";
    public const string Review = "review";
    public const string CommitmentDue = "commitment-due";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var data = context.MergedJobDataMap;
        if (!long.TryParse(data.GetString(IdKey), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return;
        switch (data.GetString(KindKey))
        {
            case Review: await lifecycle.ReviewAsync(id, cancellationToken); break;
            case CommitmentDue: await lifecycle.CommitmentDueAsync(id, cancellationToken); break;
        }
    }
}
