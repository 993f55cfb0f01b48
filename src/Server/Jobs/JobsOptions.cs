using Microsoft.Extensions.Options;

namespace Fellows.Server.Jobs;

/// <summary>The <c>Jobs</c> section: how often the scheduled maintenance runs and what it keeps.</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Turns the Quartz scheduler off (the admin command line does not run jobs).</summary>
    public bool Enabled { get; set; } = true;

    public TimeSpan RetrySweepInterval { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan ActorRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often motions whose deadline passed without their own trigger firing are moved on.</summary>
    public TimeSpan MotionSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Delivered deliveries are kept this long for the admin's view of federation, then deleted.</summary>
    public TimeSpan KeepDelivered { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Dead deliveries are kept longer: they are what an admin looks at when a peer complains.</summary>
    public TimeSpan KeepDead { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Processed inbound activities; their ids also stop replays, so this should outlast any sensible replay window.</summary>
    public TimeSpan KeepProcessedInbox { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Fanned-out outbox rows with nothing left pending.</summary>
    public TimeSpan KeepOutbox { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Remote actors not refreshed for this long are refetched.</summary>
    public TimeSpan ActorStaleAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>At most this many actors are refreshed per run, so a large backlog is worked off gently.</summary>
    public int ActorRefreshBatch { get; set; } = 100;

    /// <summary>How often each member's home feed is trimmed to its newest <see cref="HomeFeedKeep"/> rows.</summary>
    public TimeSpan HomeFeedTrimInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Rows of a member's home feed kept by the trim; older pages are computed. As many as a follow backfills
    /// (fellows_home_feed_bound(), 800, as Mastodon keeps per member): 20 pages of 40.
    /// </summary>
    public int HomeFeedKeep { get; set; } = 800;

    /// <summary>How often this node tells the Quartz cluster it is alive.</summary>
    public TimeSpan ClusterCheckinInterval { get; set; } = TimeSpan.FromSeconds(15);
}

public sealed class JobsOptionsValidator : IValidateOptions<JobsOptions>
{
    public ValidateOptionsResult Validate(string? name, JobsOptions o)
    {
        var errors = new List<string>();
        if (o.RetrySweepInterval < TimeSpan.FromSeconds(1)) errors.Add("Jobs:RetrySweepInterval must be at least a second");
        if (o.PruneInterval < TimeSpan.FromSeconds(1)) errors.Add("Jobs:PruneInterval must be at least a second");
        if (o.ActorRefreshInterval < TimeSpan.FromSeconds(1)) errors.Add("Jobs:ActorRefreshInterval must be at least a second");
        if (o.MotionSweepInterval < TimeSpan.FromSeconds(1)) errors.Add("Jobs:MotionSweepInterval must be at least a second");
        if (o.KeepDelivered < TimeSpan.Zero || o.KeepDead < TimeSpan.Zero || o.KeepProcessedInbox < TimeSpan.Zero || o.KeepOutbox < TimeSpan.Zero)
            errors.Add("Jobs:Keep* must not be negative");
        if (o.ActorStaleAfter <= TimeSpan.Zero) errors.Add("Jobs:ActorStaleAfter must be positive");
        if (o.ActorRefreshBatch < 1) errors.Add("Jobs:ActorRefreshBatch must be at least 1");
        if (o.HomeFeedTrimInterval < TimeSpan.FromSeconds(1)) errors.Add("Jobs:HomeFeedTrimInterval must be at least a second");
        if (o.HomeFeedKeep < 40) errors.Add("Jobs:HomeFeedKeep must be at least 40 (a page)");
        if (o.ClusterCheckinInterval < TimeSpan.FromSeconds(1)) errors.Add("Jobs:ClusterCheckinInterval must be at least a second");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
