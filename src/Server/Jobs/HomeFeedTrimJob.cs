using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace Fellows.Server.Jobs;

/// <summary>
/// Keeps each member's home feed (migration 0023) to its newest <see cref="JobsOptions.HomeFeedKeep"/> rows: the feed
/// grows by a row per post per local follower, and pages older than the kept rows are read from the computed home
/// query below <c>home_feed_bounds.complete_from</c>, which this raises first (see docs/decisions/0023-home-feed.md).
/// Members are taken a batch at a time and rows deleted in slices, each its own short statement, so no lock is held
/// for long and posting, following and reading go on meanwhile.
/// </summary>
[DisallowConcurrentExecution]
public sealed class HomeFeedTrimJob(NpgsqlDataSource db, IOptions<JobsOptions> options, ILogger<HomeFeedTrimJob> log) : IJob
{
    public static readonly JobKey Key = new("home-feed-trim", "maintenance");
    const int MembersPerBatch = 200;
    const int Slice = 5000;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var (raised, deleted) = await TrimAsync(db, options.Value.HomeFeedKeep, cancellationToken);
        if (deleted > 0 && log.IsEnabled(LogLevel.Information))
            log.LogInformation("Trimmed home feeds to their newest {Keep} rows: {Members} bounds raised, {Rows} rows deleted", options.Value.HomeFeedKeep, raised, deleted);
    }

    /// <summary>One pass over every local member's feed; returns how many bounds were raised and rows deleted.</summary>
    public static async Task<(int Raised, long Deleted)> TrimAsync(NpgsqlDataSource db, int keep, CancellationToken ct)
    {
        var raised = 0;
        var deleted = 0L;
        var after = 0L;
        while (!ct.IsCancellationRequested)
        {
            BatchResult batch;
            await using (var conn = await db.OpenConnectionAsync(ct))
                batch = await conn.QuerySingleAsync<BatchResult>(new CommandDefinition(MaintenanceQueries.HomeFeedRaiseBounds,
                    new { after, members = MembersPerBatch, keep }, cancellationToken: ct, commandTimeout: 300));
            if (batch.Last is not { } last) break;
            raised += batch.Raised;
            int slice;
            do
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                slice = await conn.ExecuteAsync(new CommandDefinition(MaintenanceQueries.HomeFeedDeleteBelowBounds,
                    new { after, last, limit = Slice }, cancellationToken: ct, commandTimeout: 300));
                deleted += slice;
            } while (slice == Slice && !ct.IsCancellationRequested);
            after = last;
        }
        return (raised, deleted);
    }

    sealed record BatchResult
    {
        public long? Last { get; init; }
        public int Raised { get; init; }
    }
}
