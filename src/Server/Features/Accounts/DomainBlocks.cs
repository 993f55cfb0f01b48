using System.Globalization;
using System.Security.Claims;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Follows;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Accounts;

/// <summary>
/// A member's own domain blocks (<c>/api/v1/domain_blocks</c>): nothing from that server in their timelines or
/// notifications, no follows either way with its accounts. Unlike the instance's domain blocks this is one member's
/// choice and the server is not told, though its accounts' follows end as they would by hand (Undo, Reject).
/// </summary>
public static class DomainBlockEndpoints
{
    public static void MapDomainBlockEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/domain_blocks").WithTags("Domain blocks");
        group.MapGet("/", List).RequireScope("read:blocks").WithName("DomainBlocks");
        group.MapPost("/", Block).RequireScope("write:blocks").WithName("BlockDomain");
        group.MapDelete("/", Unblock).RequireScope("write:blocks").WithName("UnblockDomain");
    }

    /// <summary>The blocked domains as plain strings, newest first, paged by the block's id.</summary>
    public static async Task<IResult> List(HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, InstanceUrls urls, CancellationToken ct)
    {
        var page = PageRequest.From(context.Request, defaultLimit: 100, maxLimit: 200);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await page.QueryAsync<(long Id, string Domain)>(conn, DomainBlockQueries.Page, new { me = user.RequiredAccountId() }, ct);
        page.AddLinkHeader(context, urls.Base, rows, r => r.Id);
        return Results.Json(rows.Select(r => r.Domain).ToList());
    }

    public static async Task<IResult> Block(HttpRequest request, ClaimsPrincipal user, DomainBlockService blocks, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (p.Get("domain") is not { Length: > 0 } domain) return Results.Json(new ApiError("Missing parameter: domain"), statusCode: 400);
        var result = await blocks.BlockAsync(user.RequiredAccountId(), domain, ct);
        return result.IsOk ? Results.Json(new { }) : ApiResults.Error(result.Error!);
    }

    public static async Task<IResult> Unblock(HttpRequest request, ClaimsPrincipal user, DomainBlockService blocks, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (p.Get("domain") is not { Length: > 0 } domain) return Results.Json(new ApiError("Missing parameter: domain"), statusCode: 400);
        var result = await blocks.UnblockAsync(user.RequiredAccountId(), domain, ct);
        return result.IsOk ? Results.Json(new { }) : ApiResults.Error(result.Error!);
    }
}

public sealed class DomainBlockService(NpgsqlDataSource db, InstanceUrls urls, FollowService follows, TimeProvider clock)
{
    /// <summary>
    /// The domain as <c>accounts.domain</c> spells it: lower-case, IDN in ASCII (punycode), port kept when given, no
    /// scheme, path or trailing dot. Clients send what members type, so <c>https://Example.COM/about</c> is accepted.
    /// Null when it is not a host name.
    /// </summary>
    public static string? Normalize(string input)
    {
        var text = input.Trim();
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) text = text[(scheme + 3)..];
        var end = text.IndexOfAny(['/', '?', '#']);
        if (end >= 0) text = text[..end];
        if (text.Contains('@', StringComparison.Ordinal)) text = text[(text.LastIndexOf('@') + 1)..];
        string host = text, port = "";
        var colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            (host, port) = (text[..colon], text[(colon + 1)..]);
            if (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit) || int.Parse(port, CultureInfo.InvariantCulture) is 0 or > 65535) return null;
        }
        host = host.TrimEnd('.');
        if (host.Length is 0 or > 253) return null;
        try
        {
            host = new IdnMapping().GetAscii(host).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
        var labels = host.Split('.');
        if (labels.Any(l => l.Length is 0 or > 63 || l.StartsWith('-') || l.EndsWith('-') || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            return null;
        return port.Length > 0 ? $"{host}:{port}" : host;
    }

    /// <summary>
    /// Blocks a server for the member. As Mastodon does: their follows of its accounts end (Undo), its accounts'
    /// follows of them end (Reject, so those servers drop them), and pending requests either way go.
    /// </summary>
    public async Task<Result<string>> BlockAsync(long accountId, string input, CancellationToken ct)
    {
        if (Normalize(input) is not { } domain) return Error.Validation("Validation failed: Domain is not a valid host name");
        if (string.Equals(domain, urls.Domain, StringComparison.OrdinalIgnoreCase))
            return Error.Validation("Validation failed: Domain is this server's own");
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(new CommandDefinition(DomainBlockQueries.Insert, new { me = accountId, domain, now }, tx, cancellationToken: ct));
        if (inserted > 0)
        {
            var me = await conn.AccountByIdAsync(accountId, tx, ct);
            var followed = (await conn.QueryAsync<Account>(new CommandDefinition(DomainBlockQueries.FollowedOnDomain,
                new { me = accountId, domain }, tx, cancellationToken: ct))).ToList();
            foreach (var target in followed) await follows.EndFollowOfAsync(conn, tx, me, target, ct);
            var followers = (await conn.QueryAsync<Account>(new CommandDefinition(DomainBlockQueries.FollowersOnDomain,
                new { me = accountId, domain }, tx, cancellationToken: ct))).ToList();
            foreach (var follower in followers) await follows.EndFollowFromAsync(conn, tx, me, follower, ct);
        }
        await tx.CommitAsync(ct);
        return domain;
    }

    public async Task<Result<string>> UnblockAsync(long accountId, string input, CancellationToken ct)
    {
        if (Normalize(input) is not { } domain) return Error.Validation("Validation failed: Domain is not a valid host name");
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM account_domain_blocks WHERE account_id = @me AND domain = @domain",
            new { me = accountId, domain }, cancellationToken: ct));
        return domain;
    }
}

static class DomainBlockQueries
{
    public const string Insert = """
        INSERT INTO account_domain_blocks (id, account_id, domain, created_at) VALUES (fellows_id(@now), @me, @domain, @now)
        ON CONFLICT (account_id, domain) DO NOTHING
        """;

    public static readonly string Page = $"""
        SELECT x.id, x.domain FROM account_domain_blocks x
        WHERE x.account_id = @me {PageRequest.Conditions("x.id")}
        {PageRequest.OrderAndLimit("x.id")}
        """;

    public const string FollowedOnDomain = $"""
        SELECT {AccountQueries.Columns} FROM accounts a
        WHERE lower(a.domain) = @domain
          AND (EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @me AND f.target_account_id = a.id)
               OR EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = @me AND r.target_account_id = a.id))
        """;

    public const string FollowersOnDomain = $"""
        SELECT {AccountQueries.Columns} FROM accounts a
        WHERE lower(a.domain) = @domain
          AND (EXISTS (SELECT 1 FROM follows f WHERE f.target_account_id = @me AND f.account_id = a.id)
               OR EXISTS (SELECT 1 FROM follow_requests r WHERE r.target_account_id = @me AND r.account_id = a.id))
        """;

    /// <summary>
    /// An account (<c>a</c>) not on a server this instance suspended nor on one the viewer (@viewer, may be null) blocked:
    /// who may be listed or suggested to them.
    /// </summary>
    public const string AccountServerNotBlocked = """
        (a.domain IS NULL
         OR (NOT EXISTS (SELECT 1 FROM domain_blocks ib WHERE ib.domain = lower(a.domain) AND ib.severity = 'suspend')
             AND NOT EXISTS (SELECT 1 FROM account_domain_blocks db WHERE db.account_id = @viewer AND db.domain = lower(a.domain))))
        """;

    /// <summary>
    /// Nothing by an account on a server the viewer blocked, nor a boost of one. Most members block no server; the
    /// first test runs once per query (an InitPlan) and spares every row the lookup. Expects <c>s</c> and @viewer.
    /// </summary>
    public const string StatusNotBlocked = """
        (NOT EXISTS (SELECT 1 FROM account_domain_blocks d0 WHERE d0.account_id = @viewer)
         OR NOT EXISTS (SELECT 1 FROM accounts da
                        WHERE da.id IN (s.account_id, (SELECT o.account_id FROM statuses o WHERE o.id = s.reblog_of_id))
                          AND da.domain IS NOT NULL
                          AND EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.account_id = @viewer AND d.domain = lower(da.domain))))
        """;
}
