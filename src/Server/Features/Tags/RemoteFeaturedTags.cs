using System.Globalization;
using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Instance;
using Fellows.Server.Jobs;
using Npgsql;
using Quartz;

namespace Fellows.Server.Features.Tags;

/// <summary>
/// A remote actor's featured hashtags, read from the collection its actor names (Mastodon's <c>toot:featuredTags</c>)
/// and kept as its <c>featured_tags</c>, so <c>/api/v1/accounts/:id/featured_tags</c> shows them as for a member.
/// Read whenever the actor is stored (first seen, refreshed, or its own <c>Update</c>, which is what Mastodon sends
/// when featured tags change), in a Quartz job of its own so neither the inbox nor a lookup waits on a second fetch.
/// </summary>
public sealed class RemoteFeaturedTags(
    NpgsqlDataSource db, ActivityPubClient client, InstanceActor instance, OneShotJobs jobs, TimeProvider clock, ILogger<RemoteFeaturedTags> logger)
{
    public const string Group = "featured-tags";

    public static JobKey JobKeyFor(long accountId) => new($"featured-tags-{accountId.ToString(CultureInfo.InvariantCulture)}", Group);

    /// <summary>
    /// After <paramref name="account"/>'s actor document was stored: its collection is read soon (one job per account,
    /// so a burst of updates reads it once). An actor that names none, or one on another origin (a server speaks only
    /// for its own origin, FEP-fe34), has no featured tags.
    /// </summary>
    public async Task ActorStoredAsync(Account account, string? collection, CancellationToken ct)
    {
        if (account.IsLocal) return;
        if (collection is null || !RemoteActors.SameOrigin(collection, account.Uri))
        {
            if (collection is not null && logger.IsEnabled(LogLevel.Information))
                logger.LogInformation("Ignoring featured tags of {Actor} at {Collection}: another origin", account.Uri, collection);
            await ReplaceAsync(account.Id, [], ct);
            return;
        }
        var data = new Dictionary<string, string>
        {
            [RemoteFeaturedTagsJob.AccountIdKey] = account.Id.ToString(CultureInfo.InvariantCulture),
            [RemoteFeaturedTagsJob.CollectionKey] = collection,
        };
        await jobs.ScheduleAsync<RemoteFeaturedTagsJob>(JobKeyFor(account.Id), data, clock.GetUtcNow(), ct);
    }

    /// <summary>
    /// Fetches the collection (signed by the instance actor; at most one further page, from the same origin) and
    /// replaces the account's featured tags with its first <see cref="FeaturedTagService.MaxFeaturedTags"/> valid
    /// hashtags. A collection that is gone leaves none; one that can't be had now leaves them as they were.
    /// </summary>
    public async Task SyncAsync(long accountId, string collection, CancellationToken ct)
    {
        Account? account;
        await using (var conn = await db.OpenConnectionAsync(ct))
            account = await conn.FindAccountByIdAsync(accountId, null, ct);
        if (account is null || account.IsLocal || account.DeletedAt is not null || !RemoteActors.SameOrigin(collection, account.Uri)
            || !Uri.TryCreate(collection, UriKind.Absolute, out var uri))
            return;
        var read = await FetchAsync(uri, ct);
        if (read is null) return;
        if (read.FirstPage is { } page && RemoteActors.SameOrigin(page, account.Uri) && Uri.TryCreate(page, UriKind.Absolute, out var pageUri))
            read = await FetchAsync(pageUri, ct) ?? read;
        var names = read.Names.Select(TagEndpoints.NormalizeName).OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase).Take(FeaturedTagService.MaxFeaturedTags).ToList();
        await ReplaceAsync(accountId, names, ct);
    }

    /// <summary>What the document at <paramref name="uri"/> holds; empty if it is gone, null if it can't be had now.</summary>
    async Task<FeaturedTagCollection?> FetchAsync(Uri uri, CancellationToken ct)
    {
        using var result = await client.FetchAsync(uri, instance.Signer, ct);
        if (result.IsOk)
            // Read a few more than kept: some may not be valid hashtags here.
            return FeaturedTagCollection.Read(result.Document!.RootElement, FeaturedTagService.MaxFeaturedTags * 2);
        if (logger.IsEnabled(LogLevel.Information)) logger.LogInformation("Fetching featured tags {Uri} failed: {Failure} {Message}", uri, result.Failure, result.Message);
        return result.Failure is FetchFailure.NotFound or FetchFailure.Gone ? new FeaturedTagCollection([], null) : null;
    }

    async Task ReplaceAsync(long accountId, IReadOnlyList<string> names, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(RemoteFeaturedTagQueries.DeleteOthers,
            new { accountId, names = names.Select(n => n.ToLowerInvariant()).ToArray() }, tx, cancellationToken: ct));
        // In the collection's order, so the ids (and the API's order) follow it.
        foreach (var name in names)
            await conn.ExecuteAsync(new CommandDefinition(RemoteFeaturedTagQueries.Add, new { accountId, name, now }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }
}

/// <summary>Reads one remote account's featured tags collection (<see cref="RemoteFeaturedTags.SyncAsync"/>).</summary>
public sealed class RemoteFeaturedTagsJob(RemoteFeaturedTags tags) : IJob
{
    public const string AccountIdKey = "account_id";
    public const string CollectionKey = "collection";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var map = context.MergedJobDataMap;
        if (!long.TryParse(map.GetString(AccountIdKey), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || map.GetString(CollectionKey) is not { } collection)
            return;
        await tags.SyncAsync(id, collection, cancellationToken);
    }
}

static class RemoteFeaturedTagQueries
{
    public const string DeleteOthers = """
        DELETE FROM featured_tags ft USING tags t
        WHERE ft.account_id = @accountId AND t.id = ft.tag_id AND NOT (lower(t.name) = ANY(@names))
        """;

    public const string Add = $"""
        {TagQueries.UpsertTag}
        INSERT INTO featured_tags (id, account_id, tag_id, created_at) SELECT fellows_id(@now), @accountId, id, @now FROM tag
        ON CONFLICT (account_id, tag_id) DO NOTHING
        """;
}
