using System.Text.Json.Nodes;
using Dapper;
using Fellows.Federation;
using Fellows.Federation.Discovery;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Instance;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Discovery;

/// <summary>WebFinger, host-meta and NodeInfo: how other servers find this one and its members.</summary>
public static class DiscoveryEndpoints
{
    public static void MapDiscoveryEndpoints(this IEndpointRouteBuilder app)
    {
        var wellKnown = app.MapGroup("/.well-known").WithTags("Discovery");
        wellKnown.MapGet("/webfinger", WebFinger).WithName("WebFinger");
        wellKnown.MapGet("/host-meta", HostMetaXml).WithName("HostMeta");
        wellKnown.MapGet("/host-meta.json", HostMetaJson).WithName("HostMetaJson");
        wellKnown.MapGet("/nodeinfo", NodeInfoLinks).WithName("NodeInfoLinks");
        app.MapGet("/nodeinfo/{version}", NodeInfoDocument).WithTags("Discovery").WithName("NodeInfo");
    }

    /// <summary>
    /// Resolves <c>acct:user@domain</c> and actor or profile URLs. The instance actor answers for the bare
    /// origin too (FEP-d556). Browsers may call this from other origins, hence CORS.
    /// </summary>
    public static async Task<IResult> WebFinger(HttpContext context, string? resource, InstanceUrls urls, AccountService accounts, InstanceActor instance,
        PublicDocumentCache cache, CancellationToken ct)
    {
        context.Response.Headers.AccessControlAllowOrigin = "*";
        if (string.IsNullOrWhiteSpace(resource))
            return Results.BadRequest(new { error = "resource parameter is required" });

        byte[]? jrd;
        if (resource.StartsWith("acct:", StringComparison.OrdinalIgnoreCase) || (!resource.Contains("://", StringComparison.Ordinal) && resource.Contains('@', StringComparison.Ordinal)))
        {
            if (!AccountHandle.TryParse(resource, out var handle)) return Results.BadRequest(new { error = "malformed acct resource" });
            if (!string.Equals(handle.Host, urls.Domain, StringComparison.OrdinalIgnoreCase)) return Results.NotFound();
            // The common case, a member's handle, is answered from the cache.
            jrd = string.Equals(handle.User, urls.Domain, StringComparison.OrdinalIgnoreCase)
                ? Utf8(Render(instance.Account, urls))
                : await cache.GetOrRenderAsync(PublicDocumentCache.WebFinger, handle.User, async () => Render(await accounts.FindLocalAsync(handle.User, ct), urls));
        }
        else if (resource.TrimEnd('/') == urls.Base || resource == urls.InstanceActor)
        {
            jrd = Utf8(Render(instance.Account, urls));
        }
        else if (resource.StartsWith(urls.Base + "/", StringComparison.Ordinal))
        {
            var account = await accounts.FindByUriAsync(resource, ct);
            if (account is null && resource.StartsWith(urls.Base + "/@", StringComparison.Ordinal))
                account = await accounts.FindLocalAsync(resource[(urls.Base.Length + 2)..], ct);
            jrd = Utf8(Render(account, urls));
        }
        else jrd = null;
        return jrd is null ? Results.NotFound() : Results.Bytes(jrd, JrdContentType);
    }

    const string JrdContentType = Jrd.MediaType + "; charset=utf-8";

    static byte[]? Utf8(string? text) => text is null ? null : System.Text.Encoding.UTF8.GetBytes(text);

    /// <summary>The JRD of a local, live account; null for anyone else.</summary>
    static string? Render(Account? account, InstanceUrls urls)
    {
        if (account is null || !account.IsLocal || account.SuspendedAt is not null || account.DeletedAt is not null) return null;
        return Jrd.ForActor($"{account.Username}@{urls.Domain}", account.Uri, account.ActorType == "Person" ? account.Url : null,
            $"{urls.Base}/authorize_interaction?uri={{uri}}").ToJson().ToJsonString();
    }

    public static IResult HostMetaXml(HttpContext context, InstanceUrls urls)
    {
        context.Response.Headers.AccessControlAllowOrigin = "*";
        return Results.Text(HostMeta.Xml(urls.Base), "application/xrd+xml; charset=utf-8");
    }

    public static IResult HostMetaJson(HttpContext context, InstanceUrls urls)
    {
        context.Response.Headers.AccessControlAllowOrigin = "*";
        return Results.Text(HostMeta.Json(urls.Base).ToJsonString(), "application/json; charset=utf-8");
    }

    public static IResult NodeInfoLinks(HttpContext context, InstanceUrls urls)
    {
        context.Response.Headers.AccessControlAllowOrigin = "*";
        var doc = NodeInfo.WellKnown($"{urls.Base}/nodeinfo/2.0", $"{urls.Base}/nodeinfo/2.1");
        // FEP-2677: the instance actor is discoverable from the NodeInfo links document.
        doc["links"]!.AsArray().Add(new JsonObject
        {
            ["rel"] = "https://www.w3.org/ns/activitystreams#Application",
            ["href"] = urls.InstanceActor,
        });
        return Results.Text(doc.ToJsonString(), "application/json; charset=utf-8");
    }

    public static async Task<IResult> NodeInfoDocument(string version, HttpContext context, NpgsqlDataSource db, IOptions<InstanceOptions> options,
        TimeProvider clock, CancellationToken ct)
    {
        context.Response.Headers.AccessControlAllowOrigin = "*";
        var v = version switch { "2.0" => NodeInfoVersion.V20, "2.1" => NodeInfoVersion.V21, _ => (NodeInfoVersion?)null };
        if (v is null) return Results.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var now = clock.GetUtcNow();
        var usage = await conn.QuerySingleAsync<UsageRow>(new CommandDefinition("""
            SELECT (SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.disabled_at IS NULL AND a.suspended_at IS NULL) AS total,
                   (SELECT count(DISTINCT s.account_id) FROM statuses s WHERE s.local AND s.created_at > @month) AS month,
                   (SELECT count(DISTINCT s.account_id) FROM statuses s WHERE s.local AND s.created_at > @halfyear) AS halfyear,
                   (SELECT count(*) FROM statuses s WHERE s.local AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL) AS posts
            """, new { month = now.AddDays(-30), halfyear = now.AddDays(-180) }, cancellationToken: ct));
        var o = options.Value;
        var doc = NodeInfo.Document(new NodeInfoData
        {
            SoftwareName = "fellows",
            SoftwareVersion = FellowsVersion.Current,
            Repository = FellowsVersion.Repository,
            Homepage = FellowsVersion.Homepage,
            UsersTotal = usage.Total,
            ActiveMonth = usage.Month,
            ActiveHalfyear = usage.Halfyear,
            LocalPosts = usage.Posts,
            OpenRegistrations = o.OpenRegistrations,
            Metadata = new JsonObject
            {
                ["nodeName"] = o.Name,
                ["nodeDescription"] = o.Description,
                // Clients that pick an API by software name (megalodon's detector among them) treat a server whose
                // upstream is "mastodon" as speaking Mastodon's client API.
                ["upstream"] = new JsonObject { ["name"] = "mastodon", ["version"] = Instance.InstanceApiEndpoints.MastodonVersion },
            },
        }, v.Value);
        return Results.Text(doc.ToJsonString(), $"{NodeInfo.MediaType(v.Value)}");
    }

    sealed record UsageRow
    {
        public required long Total { get; init; }
        public required long Month { get; init; }
        public required long Halfyear { get; init; }
        public required long Posts { get; init; }
    }
}
