using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Quartz;

namespace Fellows.Server.Jobs;

public static class JobsRegistration
{
    /// <summary>The name every node of one Fellows deployment shares, so they form one Quartz cluster.</summary>
    public const string SchedulerName = "fellows";

    /// <summary>
    /// Quartz.NET on the same PostgreSQL as everything else (tables from migrations 0002 and 0003), clustered so
    /// that each firing runs on exactly one node, with the scheduled maintenance jobs. Jobs are declared here
    /// and stored in the database, so their schedule survives restarts.
    /// </summary>
    public static IServiceCollection AddJobs(this IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<JobsOptions>()
            .Bind(configuration.GetSection(JobsOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobsOptions>, JobsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        var jobs = configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        if (!jobs.Enabled) return services;

        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s => s.InstanceName = SchedulerName);
            q.UsePersistentStore(store =>
            {
                store.UsePostgres(connectionString);
                store.UseSystemTextJsonSerializer();
                store.UseClustering(c =>
                {
                    c.CheckinInterval = jobs.ClusterCheckinInterval;
                    c.CheckinMisfireThreshold = jobs.ClusterCheckinInterval * 2;
                });
                // The schema is the migrations' business; Quartz only checks it is what it expects.
                store.ConfigureStore(o =>
                {
                    o.TablePrefix = "qrtz_";
                    o.SchemaProvisioning = SchemaProvisioning.Validate;
                });
            });
            q.ScheduleJob<RetrySweepJob>(
                t => t.WithIdentity("retry-sweep", "maintenance").WithSimpleSchedule(jobs.RetrySweepInterval),
                j => j.WithIdentity(RetrySweepJob.Key));
            q.ScheduleJob<PruneJob>(
                t => t.WithIdentity("prune", "maintenance").WithSimpleSchedule(jobs.PruneInterval),
                j => j.WithIdentity(PruneJob.Key));
            q.ScheduleJob<StaleActorRefreshJob>(
                t => t.WithIdentity("stale-actor-refresh", "maintenance").WithSimpleSchedule(jobs.ActorRefreshInterval),
                j => j.WithIdentity(StaleActorRefreshJob.Key));
            // Not at start-up: a restart need not walk every feed again at once.
            q.ScheduleJob<HomeFeedTrimJob>(
                t => t.WithIdentity("home-feed-trim", "maintenance").StartAt(DateTimeOffset.UtcNow + jobs.HomeFeedTrimInterval)
                    .WithSimpleSchedule(jobs.HomeFeedTrimInterval),
                j => j.WithIdentity(HomeFeedTrimJob.Key));
            // Each open motion has its own durable job and triggers (MotionScheduler); this sweep is the safety net.
            q.ScheduleJob<Fellows.Server.Features.Motions.MotionSweepJob>(
                // Not at start-up: each motion's own triggers are persisted and fire on their own after downtime.
                t => t.WithIdentity("motion-sweep", "maintenance").StartAt(DateTimeOffset.UtcNow + jobs.MotionSweepInterval)
                    .WithSimpleSchedule(jobs.MotionSweepInterval),
                j => j.WithIdentity(Fellows.Server.Features.Motions.MotionSweepJob.Key));
            // Scheduled posts and poll ends have their own triggers too; this sweep (same cadence) catches a lost one.
            q.ScheduleJob<Fellows.Server.Features.Scheduled.DueWorkSweepJob>(
                t => t.WithIdentity("due-work-sweep", "maintenance").StartAt(DateTimeOffset.UtcNow + jobs.MotionSweepInterval)
                    .WithSimpleSchedule(jobs.MotionSweepInterval),
                j => j.WithIdentity(Fellows.Server.Features.Scheduled.DueWorkSweepJob.Key));
        });
        // A restart replaces the declared triggers; carrying their last fire time over keeps a restart from
        // firing every job again at once.
        services.Configure<QuartzOptions>(o => o.Scheduling.ScheduleTriggerRelativeToReplacedTrigger = true);
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return services;
    }
}
