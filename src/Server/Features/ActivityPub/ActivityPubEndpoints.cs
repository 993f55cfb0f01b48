using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Instance;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Npgsql;

namespace Fellows.Server.Features.ActivityPub;

/// <summary>
/// What other servers fetch: actors, their collections, notes and activities, and tombstones for what is
/// gone. Anything not public or unlisted is never served here.
/// </summary>
public static class ActivityPubEndpoints
{
    const int PageSize = 20;

    public static void MapActivityPubEndpoints(this IEndpointRouteBuilder app)
    {
        // The instance actor and the HTML profile page are never behind signatures.
        app.MapGet("/actor", InstanceActorDocument).WithTags("ActivityPub").WithName("InstanceActor");
        app.MapGet("/@{username}", ProfilePage).WithTags("ActivityPub").WithName("ProfilePage");
        var group = app.MapGroup("").WithTags("ActivityPub").AddEndpointFilter<FetchAuthorization>();
        group.MapGet("/users/{username}", Actor).WithName("Actor");
        group.MapGet("/users/{username}/outbox", Outbox).WithName("Outbox");
        group.MapGet("/users/{username}/followers", Followers).WithName("Followers");
        group.MapGet("/users/{username}/following", Following).WithName("Following");
        group.MapGet("/users/{username}/collections/featured", Featured).WithName("Featured");
        group.MapGet("/users/{username}/statuses/{id}", Note).WithName("Note");
        group.MapGet("/users/{username}/statuses/{id}/activity", NoteActivity).WithName("NoteActivity");
        group.MapGet("/users/{username}/statuses/{id}/replies", Replies).WithName("NoteReplies");
    }

    /// <summary>True when the client asked for ActivityStreams rather than a web page.</summary>
    public static bool WantsActivityJson(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        return accept.Contains("application/activity+json", StringComparison.OrdinalIgnoreCase)
            || accept.Contains("application/ld+json", StringComparison.OrdinalIgnoreCase)
            || (accept.Contains("application/json", StringComparison.OrdinalIgnoreCase) && !accept.Contains("text/html", StringComparison.OrdinalIgnoreCase));
    }

    public static IResult Json(JsonNode document, int status = 200) =>
        Results.Text(ActivityPubWriter.Serialize(document), ActivityStreams.ActivityJson + "; charset=utf-8", statusCode: status);

    // The instance actor signs our own GETs, so it must be fetchable without a signature, or two servers in
    // authorized-fetch mode would each wait for the other's key.
    public static async Task<IResult> InstanceActorDocument(InstanceActor instance, ActorDocuments actors, InstanceUrls urls, Groups.GroupService groups,
        CancellationToken ct)
    {
        var doc = await actors.BuildAsync(instance.Account, ct);
        // It names the co-op group, which vouches for this instance's members to allied co-ops.
        return doc is null ? Results.NotFound() : Json(Groups.GroupActivityPubEndpoints.Extend(ActivityPubWriter.Actor(doc), instance.Account, urls, groups));
    }

    public static async Task<IResult> Actor(string username, HttpRequest request, AccountService accounts, ActorDocuments actors, InstanceUrls urls,
        Discovery.PublicDocumentCache cache, Groups.GroupService groups, Motions.MotionLifecycle lifecycle, CancellationToken ct)
    {
        if (!WantsActivityJson(request))
            return await accounts.FindLocalAsync(username, ct) is { ActorType: not "Application", DeletedAt: null } found
                ? Results.Redirect(urls.Profile(found.Username))
                : Results.NotFound();
        // Actor documents are the most-fetched thing a server serves (every key check); keep them rendered a while.
        IResult? other = null;
        var json = await cache.GetOrRenderAsync(Discovery.PublicDocumentCache.Actor, username, async () =>
        {
            var account = await accounts.FindLocalAsync(username, ct);
            if (account is null || account.ActorType == "Application") { other = Results.NotFound(); return null; }
            if (account.DeletedAt is not null || account.SuspendedAt is not null)
            {
                other = Json(ActivityPubWriter.Tombstone(account.Uri, account.ActorType, account.DeletedAt, withContext: true), 410);
                return null;
            }
            var doc = await actors.BuildAsync(account, ct);
            if (doc is null) { other = Results.NotFound(); return null; }
            var actor = ActivityPubWriter.Actor(doc);
            if (account.ActorType == "Person") await Motions.MotionActorRecord.AddAsync(actor, account.Id, lifecycle, ct);
            return ActivityPubWriter.Serialize(Groups.GroupActivityPubEndpoints.Extend(actor, account, urls, groups));
        });
        if (json is null) return other ?? Results.NotFound();
        if (FetchAuthorization.IsUnsignedInAuthorizedMode(request.HttpContext))
            return Json(KeyOnly(JsonNode.Parse(json)!.AsObject()));
        return Results.Bytes(json, ActorContentType);
    }

    const string ActorContentType = ActivityStreams.ActivityJson + "; charset=utf-8";

    static readonly string[] KeyOnlyProperties =
        ["@context", "id", "type", "preferredUsername", "inbox", "outbox", "endpoints", "publicKey", "assertionMethod", "url"];

    /// <summary>What an unsigned request sees of an actor in authorized-fetch mode: enough to verify its signatures.</summary>
    static JsonObject KeyOnly(JsonObject actor)
    {
        foreach (var key in actor.Select(p => p.Key).Where(k => !KeyOnlyProperties.Contains(k)).ToList()) actor.Remove(key);
        return actor;
    }

    public static async Task<IResult> Outbox(string username, long? max_id, string? page, AccountService accounts, NpgsqlDataSource db,
        InstanceUrls urls, NoteBuilder notes, CancellationToken ct)
    {
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null || account.ActorType == "Application") return Results.NotFound();
        var id = urls.Outbox(account.Username);
        await using var conn = await db.OpenConnectionAsync(ct);
        if (page is null && max_id is null)
        {
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(ActivityPubQueries.OutboxCount, new { accountId = account.Id }, cancellationToken: ct));
            return Json(WithContext(ActivityPubWriter.OrderedCollection(id, total, first: $"{id}?page=true")));
        }
        var rows = (await conn.QueryAsync<Status>(new CommandDefinition(ActivityPubQueries.OutboxPage,
            new { accountId = account.Id, maxId = max_id, limit = PageSize }, cancellationToken: ct))).ToList();
        // Boosts go out as Announce of the original; everything else as Create of its note.
        var originalIds = rows.Where(r => r.ReblogOfId is not null).Select(r => r.ReblogOfId!.Value).ToArray();
        var originals = (await conn.QueryAsync<Status>(new CommandDefinition(StatusQueries.ManyByIds, new { ids = originalIds }, cancellationToken: ct)))
            .ToDictionary(o => o.Id);
        var built = (await notes.BuildManyAsync(conn, account, rows.Where(r => r.ReblogOfId is null).ToList(), ct)).ToDictionary(n => n.Id);
        var items = new List<JsonNode>();
        foreach (var s in rows)
        {
            if (s.ReblogOfId is { } originalId)
            {
                if (originals.TryGetValue(originalId, out var original))
                {
                    var announce = ActivityPubWriter.Announce(s.Uri, account.Uri, original.Uri, [ActivityStreams.Public], [urls.Followers(account.Username)], s.CreatedAt);
                    // A group's outbox is its Announces of what members posted to it (FEP-1b12).
                    if (account.ActorType == "Group") announce["audience"] = account.Uri;
                    items.Add(announce);
                }
                continue;
            }
            var create = ActivityPubWriter.Create(urls.StatusActivity(account.Username, s.Id), built[s.Uri]);
            create.Remove("@context");
            items.Add(create);
        }
        var pageId = max_id is null ? $"{id}?page=true" : $"{id}?page=true&max_id={max_id}";
        return Json(WithContext(ActivityPubWriter.OrderedCollectionPage(new LocalCollectionPage
        {
            Id = pageId,
            PartOf = id,
            OrderedItems = items,
            Next = rows.Count == PageSize ? $"{id}?page=true&max_id={rows[^1].Id}" : null,
        })));
    }

    public static Task<IResult> Followers(string username, long? max_id, string? page, AccountService accounts, NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct) =>
        ActorCollection(username, max_id, page, ActivityPubQueries.FollowersCount, ActivityPubQueries.FollowersPage, urls.Followers, accounts, db, ct);

    public static Task<IResult> Following(string username, long? max_id, string? page, AccountService accounts, NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct) =>
        ActorCollection(username, max_id, page, ActivityPubQueries.FollowingCount, ActivityPubQueries.FollowingPage, urls.Following, accounts, db, ct);

    static async Task<IResult> ActorCollection(string username, long? maxId, string? page, string countSql, string pageSql, Func<string, string> idOf,
        AccountService accounts, NpgsqlDataSource db, CancellationToken ct)
    {
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null || account.ActorType == "Application") return Results.NotFound();
        var id = idOf(account.Username);
        await using var conn = await db.OpenConnectionAsync(ct);
        var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(countSql, new { accountId = account.Id }, cancellationToken: ct));
        if (page is null && maxId is null)
            return Json(WithContext(ActivityPubWriter.OrderedCollection(id, total, first: $"{id}?page=true")));
        var rows = (await conn.QueryAsync<(string Uri, long Id)>(new CommandDefinition(pageSql,
            new { accountId = account.Id, maxId, limit = PageSize * 2 }, cancellationToken: ct))).ToList();
        return Json(WithContext(ActivityPubWriter.OrderedCollectionPage(new LocalCollectionPage
        {
            Id = maxId is null ? $"{id}?page=true" : $"{id}?page=true&max_id={maxId}",
            PartOf = id,
            TotalItems = total,
            OrderedItems = rows.Select(r => (JsonNode)JsonValue.Create(r.Uri)!).ToList(),
            Next = rows.Count == PageSize * 2 ? $"{id}?page=true&max_id={rows[^1].Id}" : null,
        })));
    }

    public static async Task<IResult> Featured(string username, AccountService accounts, NpgsqlDataSource db, InstanceUrls urls, NoteBuilder notes, CancellationToken ct)
    {
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null || account.ActorType == "Application") return Results.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<Status>(new CommandDefinition(ActivityPubQueries.Pinned, new { accountId = account.Id }, cancellationToken: ct))).ToList();
        var items = (await notes.BuildManyAsync(conn, account, rows, ct))
            .Select(n => (JsonNode)ActivityPubWriter.Note(n, withContext: false)).ToList();
        return Json(WithContext(ActivityPubWriter.OrderedCollection(urls.Featured(account.Username), items.Count, orderedItems: items)));
    }

    public static async Task<IResult> Note(string username, string id, HttpRequest request, NpgsqlDataSource db, AccountService accounts,
        InstanceUrls urls, NoteBuilder notes, Motions.MotionService motions, CancellationToken ct)
    {
        var (account, status, gone) = await FindStatusAsync(username, id, request.HttpContext, db, accounts, urls, ct);
        if (gone is not null) return gone;
        if (account is null || status is null) return Results.NotFound();
        if (!WantsActivityJson(request)) return Results.Redirect(status.Url ?? status.Uri);
        // A motion's post dereferences to its Question (a fellows:Motion), as its Create carried it.
        if (await motions.QuestionAsync(status.Id, ct) is { } question) return Json(question);
        await using var conn = await db.OpenConnectionAsync(ct);
        return Json(ActivityPubWriter.Note(await BuildNoteAsync(conn, account, status, notes, ct)));
    }

    public static async Task<IResult> NoteActivity(string username, string id, HttpContext context, NpgsqlDataSource db, AccountService accounts,
        InstanceUrls urls, NoteBuilder notes, CancellationToken ct)
    {
        var (account, status, gone) = await FindStatusAsync(username, id, context, db, accounts, urls, ct);
        if (gone is not null) return gone;
        if (account is null || status is null) return Results.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        return Json(ActivityPubWriter.Create(urls.StatusActivity(account.Username, status.Id), await BuildNoteAsync(conn, account, status, notes, ct)));
    }

    public static async Task<IResult> Replies(string username, string id, HttpContext context, NpgsqlDataSource db, AccountService accounts,
        InstanceUrls urls, CancellationToken ct)
    {
        var (account, status, gone) = await FindStatusAsync(username, id, context, db, accounts, urls, ct);
        if (gone is not null) return gone;
        if (account is null || status is null) return Results.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var replies = (await conn.QueryAsync<string>(new CommandDefinition(ActivityPubQueries.PublicReplies, new { statusId = status.Id }, cancellationToken: ct))).ToList();
        return Json(WithContext(ActivityPubWriter.OrderedCollection(urls.StatusReplies(account.Username, status.Id), replies.Count,
            orderedItems: replies.Select(r => (JsonNode)JsonValue.Create(r)!).ToList())));
    }

    /// <summary>A minimal profile page until the members' web pages arrive; it is what browsers get for an actor URL.</summary>
    public static async Task<IResult> ProfilePage(string username, AccountService accounts, CancellationToken ct)
    {
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null || account.ActorType == "Application" || account.DeletedAt is not null) return Results.NotFound();
        var name = WebUtility.HtmlEncode(account.DisplayName.Length > 0 ? account.DisplayName : account.Username);
        var html = $"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>
            <link rel="alternate" type="application/activity+json" href="{WebUtility.HtmlEncode(account.Uri)}"></head>
            <body><main><h1>{name}</h1><p>@{WebUtility.HtmlEncode(account.Username)}</p><div>{account.Note}</div></main></body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8");
    }

    static async Task<(Account? Account, Status? Status, IResult? Gone)> FindStatusAsync(string username, string id, HttpContext context,
        NpgsqlDataSource db, AccountService accounts, InstanceUrls urls, CancellationToken ct)
    {
        if (ApiResults.ParseId(id) is not { } statusId) return (null, null, null);
        var account = await accounts.FindLocalAsync(username, ct);
        if (account is null) return (null, null, null);
        await using var conn = await db.OpenConnectionAsync(ct);
        var uri = urls.Status(account.Username, statusId);
        var tomb = await conn.QuerySingleOrDefaultAsync<(string FormerType, DateTime DeletedAt)?>(new CommandDefinition(ActivityPubQueries.Tombstone, new { uri }, cancellationToken: ct));
        if (tomb is { } t)
            return (account, null, Json(ActivityPubWriter.Tombstone(uri, t.FormerType, new DateTimeOffset(t.DeletedAt, TimeSpan.Zero), withContext: true), 410));
        // Followers-only and direct posts are served only to a signed request from someone in their audience
        // (a follower, or someone mentioned); an anonymous fetch sees public and unlisted posts alone. An
        // author's block hides even those from the blocked.
        var signer = FetchAuthorization.SignerOf(context);
        var status = await conn.QuerySingleOrDefaultAsync<Status>(new CommandDefinition(
            signer is null ? ActivityPubQueries.AnonymousStatus : StatusQueries.VisibleById, new { id = statusId, viewer = signer?.Id }, cancellationToken: ct));
        if (status is null || status.AccountId != account.Id || status.ReblogOfId is not null)
            return (account, null, null);
        return (account, status, null);
    }

    static async Task<LocalNote> BuildNoteAsync(NpgsqlConnection conn, Account author, Status status, NoteBuilder notes, CancellationToken ct) =>
        (await notes.BuildManyAsync(conn, author, [status], ct))[0];

    static JsonObject WithContext(JsonObject document)
    {
        if (document.ContainsKey("@context")) return document;
        var copy = new JsonObject { ["@context"] = ActivityStreams.Context };
        foreach (var (key, value) in document.ToList())
        {
            document.Remove(key);
            copy[key] = value;
        }
        return copy;
    }
}
