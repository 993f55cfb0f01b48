using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Fellows.Federation.Html;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Instance;
using Fellows.Server.Jobs;
using Npgsql;

namespace Fellows.Server.Features.Federation;

/// <summary>
/// Remote actors: fetched (signed by the instance actor), validated, stored, refreshed; their keys parsed once
/// and cached for the inbox's signature checks.
/// </summary>
public sealed class RemoteActors(
    NpgsqlDataSource db, ActivityPubClient client, WebFingerClient webFinger, InstanceActor instance, InstanceUrls urls,
    Tags.RemoteFeaturedTags featuredTags, TimeProvider clock, ILogger<RemoteActors> logger) : IRemoteActorRefresher
{
    static readonly TimeSpan Freshness = TimeSpan.FromDays(1);

    // A forced refresh (key rotation, Move) is honoured at most this often per actor, so a stream of badly
    // signed requests naming someone's key can't turn us into a fetch cannon against their server.
    static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromMinutes(1);
    readonly ConcurrentDictionary<string, VerificationKey> _keys = new(StringComparer.Ordinal);

    /// <summary>The account for <paramref name="actorUri"/>, fetching or refreshing it when needed; null if it can't be had.</summary>
    public Task<Account?> ResolveAsync(string actorUri, bool forceRefresh, CancellationToken ct) =>
        FindOrFetchAsync(actorUri, forceRefresh, ignoreMinimumInterval: false, ct);

    /// <summary>
    /// Fetches <paramref name="actorUri"/> now, even if it was fetched within the last minute: for a signed-in
    /// member's deliberate action (moving to an account that has just added its alias), never for network input.
    /// </summary>
    public Task<Account?> RefetchForMemberAsync(string actorUri, CancellationToken ct) =>
        FindOrFetchAsync(actorUri, forceRefresh: true, ignoreMinimumInterval: true, ct);

    async Task<Account?> FindOrFetchAsync(string actorUri, bool forceRefresh, bool ignoreMinimumInterval, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var known = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUri, new { uri = actorUri }, cancellationToken: ct));
            var age = clock.GetUtcNow() - (known?.FetchedAt ?? DateTimeOffset.MinValue);
            if (known is not null && (known.IsLocal || (age < MinimumRefreshInterval && !ignoreMinimumInterval) || (!forceRefresh && age < Freshness)))
                return known;
        }
        if (actorUri.StartsWith(urls.Base + "/", StringComparison.Ordinal)) return null;
        if (!Uri.TryCreate(actorUri, UriKind.Absolute, out var uri)) return null;
        using var result = await client.FetchAsync(uri, instance.Signer, ct);
        if (!result.IsOk)
        {
            logger.LogInformation("Fetching actor {Actor} failed: {Failure} {Message}", actorUri, result.Failure, result.Message);
            if (result.Failure == FetchFailure.Gone) await MarkDeletedAsync(actorUri, ct);
            return null;
        }
        return await StoreAsync(result.Document!.RootElement, ct);
    }

    /// <summary>The scheduled refresh: the stalest remote actors first, one at a time (each fetch is Polly-guarded).</summary>
    public async Task<int> RefreshStaleAsync(DateTimeOffset staleBefore, int limit, CancellationToken ct)
    {
        List<string> stale;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            stale = (await conn.QueryAsync<string>(new CommandDefinition("""
                SELECT uri FROM accounts
                WHERE domain IS NOT NULL AND deleted_at IS NULL AND (fetched_at IS NULL OR fetched_at < @staleBefore)
                ORDER BY fetched_at NULLS FIRST LIMIT @limit
                """, new { staleBefore, limit }, cancellationToken: ct))).ToList();
        }
        var refreshed = 0;
        foreach (var uri in stale)
            if (await ResolveAsync(uri, forceRefresh: true, ct) is not null) refreshed++;
        return refreshed;
    }

    /// <summary>Stores an actor document that has already been checked to come from its own id.</summary>
    public async Task<Account?> StoreAsync(JsonElement document, CancellationToken ct)
    {
        if (!RemoteActor.TryRead(document, out var actor, out var error))
        {
            logger.LogInformation("Not an actor: {Error}", error);
            return null;
        }
        var id = new Uri(actor.Id);
        var domain = ActivityPubClient.HostKey(id);
        var username = actor.PreferredUsername is { Length: > 0 and <= 256 } u ? u : id.Segments[^1].Trim('/');
        var fields = JsonSerializer.Serialize(actor.Fields.Take(16).Select(f => new { name = RemoteHtml.ToPlainText(f.Name), value = RemoteHtml.Sanitize(f.Value) }));
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Stores of one actor take turns. Two at once of a new actor (concurrent inbox POSTs from it) would both
        // insert, and the loser would meet the username-and-domain index, which the upsert's ON CONFLICT (uri) does
        // not arbitrate: it fails instead of updating. Waiting here, it finds the winner's row and updates it.
        await conn.ExecuteAsync(new CommandDefinition(RemoteActorQueries.LockActor, new { username, domain }, tx, cancellationToken: ct));
        var accountId = await conn.ExecuteScalarAsync<long>(new CommandDefinition(RemoteActorQueries.Upsert, new
        {
            username, domain, uri = actor.Id, url = actor.Url ?? actor.Id, actorType = actor.Type,
            displayName = Truncate(RemoteHtml.ToPlainText(actor.Name ?? ""), 200),
            note = RemoteHtml.Sanitize(actor.Summary ?? ""),
            avatar = actor.IconUrl, header = actor.ImageUrl, inbox = actor.Inbox, sharedInbox = actor.SharedInbox, outbox = actor.Outbox,
            followers = actor.Followers, following = actor.Following, featured = actor.Featured,
            locked = actor.ManuallyApprovesFollowers, bot = actor.Type is "Service" or "Application",
            discoverable = actor.Discoverable ?? false, indexable = actor.Indexable ?? false,
            alsoKnownAs = actor.AlsoKnownAs.Take(20).ToArray(), fields, now,
        }, tx, cancellationToken: ct));

        // A key speaks only for the actor that owns it (FEP-fe34 / the lesson of CVE-2024-23832).
        foreach (var key in actor.PublicKeys.Where(k => (k.Owner is null || k.Owner == actor.Id) && SameOrigin(k.Id, actor.Id)))
        {
            await conn.ExecuteAsync(new CommandDefinition(RemoteActorQueries.UpsertKey,
                new { keyId = key.Id, accountId, kind = "rsa", publicKey = key.PublicKeyPem, now }, tx, cancellationToken: ct));
            _keys.TryRemove(key.Id, out _);
        }
        foreach (var key in actor.AssertionMethods.Where(k => (k.Controller is null || k.Controller == actor.Id) && SameOrigin(k.Id, actor.Id)))
        {
            await conn.ExecuteAsync(new CommandDefinition(RemoteActorQueries.UpsertKey,
                new { keyId = key.Id, accountId, kind = "ed25519", publicKey = key.PublicKeyMultibase, now }, tx, cancellationToken: ct));
            _keys.TryRemove(key.Id, out _);
        }
        if (actor.MovedTo is { } movedTo)
        {
            await conn.ExecuteAsync(new CommandDefinition(
                "UPDATE accounts SET moved_to_account_id = (SELECT id FROM accounts WHERE uri = @movedTo) WHERE id = @accountId",
                new { movedTo, accountId }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
        var stored = await conn.AccountByIdAsync(accountId, null, ct);
        try
        {
            await featuredTags.ActorStoredAsync(stored, actor.FeaturedTags, ct);
        }
        catch (Exception e) when (e is NpgsqlException or Quartz.SchedulerException)
        {
            // The actor is stored; its featured tags are read again at the next refresh.
            logger.LogWarning(e, "Could not queue reading the featured tags of {Actor}", actor.Id);
        }
        return stored;
    }

    /// <summary>Resolves <c>user@domain</c>: an account we know, else WebFinger then the actor document.</summary>
    public async Task<Account?> ResolveHandleAsync(string username, string? domain, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var isLocal = domain is null || string.Equals(domain, urls.Domain, StringComparison.OrdinalIgnoreCase);
            var known = await conn.QuerySingleOrDefaultAsync<Account>(new CommandDefinition(AccountQueries.ByUsernameAndDomain,
                new { username, domain = isLocal ? null : domain }, cancellationToken: ct));
            if (known is not null || isLocal) return known;
        }
        var found = await webFinger.ResolveAsync($"{username}@{domain}", ct);
        return found.ActorId is { } actorId ? await ResolveAsync(actorId.AbsoluteUri, forceRefresh: false, ct) : null;
    }

    /// <summary>
    /// The verification key for <paramref name="keyId"/>. Unknown keys (and, with <paramref name="refresh"/>,
    /// known ones, for key rotation) are fetched from the key's actor.
    /// </summary>
    public async Task<VerificationKey?> GetKeyAsync(string keyId, bool refresh, CancellationToken ct)
    {
        if (!refresh && _keys.TryGetValue(keyId, out var cached)) return cached;
        var row = refresh ? null : await FindKeyAsync(keyId, ct);
        if (row is null)
        {
            // The key id is usually the actor id with a fragment; some servers give the key its own document
            // whose owner names the actor.
            var actorUri = keyId.Split('#', 2)[0];
            var account = await ResolveAsync(actorUri, forceRefresh: true, ct);
            if (account is null && Uri.TryCreate(actorUri, UriKind.Absolute, out var keyUri))
            {
                using var keyDoc = await client.FetchAsync(keyUri, instance.Signer, ct);
                if (keyDoc.IsOk && keyDoc.Document!.RootElement.TryGetProperty("owner", out var owner) && owner.ValueKind == JsonValueKind.String)
                    await ResolveAsync(owner.GetString()!, forceRefresh: true, ct);
            }
            row = await FindKeyAsync(keyId, ct);
            if (row is null) return null;
        }
        VerificationKey? key = null;
        try
        {
            key = row.Kind == "rsa"
                ? VerificationKey.TryFromPem(row.KeyId, row.OwnerUri, row.PublicKey, out var k) ? k : null
                : VerificationKey.FromMultibase(row.KeyId, row.OwnerUri, row.PublicKey);
        }
        catch (ArgumentException) { }
        catch (FormatException) { }
        if (key is not null) _keys[keyId] = key;
        return key;
    }

    async Task<KeyRow?> FindKeyAsync(string keyId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(RemoteActorQueries.KeyWithOwner, new { keyId }, cancellationToken: ct));
    }

    async Task MarkDeletedAsync(string actorUri, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("UPDATE accounts SET deleted_at = coalesce(deleted_at, @now) WHERE uri = @actorUri AND domain IS NOT NULL",
            new { actorUri, now = clock.GetUtcNow() }, cancellationToken: ct));
    }

    public static bool SameOrigin(string a, string b) =>
        Uri.TryCreate(a, UriKind.Absolute, out var x) && Uri.TryCreate(b, UriKind.Absolute, out var y)
        && x.Scheme == y.Scheme && string.Equals(x.Authority, y.Authority, StringComparison.OrdinalIgnoreCase);

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    sealed record KeyRow
    {
        public required string KeyId { get; init; }
        public required string Kind { get; init; }
        public required string PublicKey { get; init; }
        public required string OwnerUri { get; init; }
    }
}

static class RemoteActorQueries
{
    /// <summary>
    /// Held until commit. Keyed as the accounts_username_domain index is: any two stores that could collide on it
    /// take turns (the uri index is the upsert's own arbiter, which already waits for a concurrent insert).
    /// </summary>
    public const string LockActor = "SELECT pg_advisory_xact_lock(hashtextextended('fellows-remote-actor:' || lower(@username) || '@' || lower(@domain), 0))";

    public const string Upsert = """
        INSERT INTO accounts (username, domain, uri, url, actor_type, display_name, note, avatar_url, header_url, inbox_url,
                              shared_inbox_url, outbox_url, followers_url, following_url, featured_url, locked, bot,
                              discoverable, indexable, also_known_as, fields, created_at, updated_at, fetched_at)
        VALUES (@username, @domain, @uri, @url, @actorType, @displayName, @note, @avatar, @header, @inbox,
                @sharedInbox, @outbox, @followers, @following, @featured, @locked, @bot,
                @discoverable, @indexable, @alsoKnownAs, @fields::jsonb, @now, @now, @now)
        ON CONFLICT (uri) DO UPDATE SET
            username = excluded.username, url = excluded.url, actor_type = excluded.actor_type, display_name = excluded.display_name,
            note = excluded.note, avatar_url = excluded.avatar_url, header_url = excluded.header_url, inbox_url = excluded.inbox_url,
            shared_inbox_url = excluded.shared_inbox_url, outbox_url = excluded.outbox_url, followers_url = excluded.followers_url,
            following_url = excluded.following_url, featured_url = excluded.featured_url, locked = excluded.locked, bot = excluded.bot,
            discoverable = excluded.discoverable, indexable = excluded.indexable, also_known_as = excluded.also_known_as,
            fields = excluded.fields, updated_at = excluded.updated_at, fetched_at = excluded.fetched_at, deleted_at = NULL
        WHERE accounts.domain IS NOT NULL
        RETURNING id
        """;

    public const string UpsertKey = """
        INSERT INTO account_keys (key_id, account_id, kind, public_key, created_at, fetched_at)
        VALUES (@keyId, @accountId, @kind, @publicKey, @now, @now)
        ON CONFLICT (key_id) DO UPDATE SET public_key = excluded.public_key, kind = excluded.kind, fetched_at = excluded.fetched_at
        WHERE account_keys.account_id = excluded.account_id AND account_keys.private_key IS NULL
        """;

    public const string KeyWithOwner = """
        SELECT k.key_id, k.kind, k.public_key, a.uri AS owner_uri
        FROM account_keys k JOIN accounts a ON a.id = k.account_id
        WHERE k.key_id = @keyId AND a.deleted_at IS NULL
        """;
}
