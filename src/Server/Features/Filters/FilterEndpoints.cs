using System.Security.Claims;
using Dapper;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Npgsql;

namespace Fellows.Server.Features.Filters;

/// <summary>
/// Filters v2 (and the v1 list clients still read): a member's words and posts to warn about or hide, per context.
/// Statuses carry the matches in <c>filtered</c>; clients act on the filter's action for the context they show.
/// </summary>
public static class FilterEndpoints
{
    static readonly string[] Contexts = ["home", "notifications", "public", "thread", "account"];
    static readonly string[] Actions = ["warn", "hide", "blur"];
    const int MaxFilters = 100, MaxKeywords = 100, MaxTitle = 256, MaxKeyword = 512;

    public static void MapFilterEndpoints(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/api/v2/filters").WithTags("Filters");
        v2.MapGet("/", All).RequireScope("read:filters").WithName("Filters");
        v2.MapPost("/", Create).RequireScope("write:filters").WithName("CreateFilter");
        v2.MapGet("/{id:long}", Get).RequireScope("read:filters").WithName("GetFilter");
        v2.MapPut("/{id:long}", Update).RequireScope("write:filters").WithName("UpdateFilter");
        v2.MapDelete("/{id:long}", Delete).RequireScope("write:filters").WithName("DeleteFilter");
        v2.MapGet("/{id:long}/keywords", async (long id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
            await OwnAsync(db, user, id, ct) is { } f ? Results.Json(f.Keywords) : ApiResults.NotFound()).RequireScope("read:filters").WithName("FilterKeywords");
        v2.MapPost("/{id:long}/keywords", AddKeyword).RequireScope("write:filters").WithName("AddFilterKeyword");
        v2.MapGet("/keywords/{keywordId:long}", GetKeyword).RequireScope("read:filters").WithName("GetFilterKeyword");
        v2.MapPut("/keywords/{keywordId:long}", UpdateKeyword).RequireScope("write:filters").WithName("UpdateFilterKeyword");
        v2.MapDelete("/keywords/{keywordId:long}", DeleteKeyword).RequireScope("write:filters").WithName("DeleteFilterKeyword");
        v2.MapGet("/{id:long}/statuses", async (long id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
            await OwnAsync(db, user, id, ct) is { } f ? Results.Json(f.Statuses) : ApiResults.NotFound()).RequireScope("read:filters").WithName("FilterStatuses");
        v2.MapPost("/{id:long}/statuses", AddStatus).RequireScope("write:filters").WithName("AddFilterStatus");
        v2.MapGet("/statuses/{entryId:long}", GetStatus).RequireScope("read:filters").WithName("GetFilterStatus");
        v2.MapDelete("/statuses/{entryId:long}", DeleteStatus).RequireScope("write:filters").WithName("DeleteFilterStatus");
        var v1 = app.MapGroup("/api/v1/filters").WithTags("Filters");
        v1.MapGet("/", V1).RequireScope("read:filters").WithName("FiltersV1");
        v1.MapPost("/", CreateV1).RequireScope("write:filters").WithName("CreateFilterV1");
        v1.MapGet("/{id:long}", GetV1).RequireScope("read:filters").WithName("GetFilterV1");
        v1.MapPut("/{id:long}", UpdateV1).RequireScope("write:filters").WithName("UpdateFilterV1");
        v1.MapDelete("/{id:long}", DeleteV1).RequireScope("write:filters").WithName("DeleteFilterV1");
    }

    static IResult Invalid(string message) => Results.Json(new ApiError($"Validation failed: {message}"), statusCode: 422);

    static async Task<ApiFilter?> OwnAsync(NpgsqlDataSource db, ClaimsPrincipal user, long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await FilterStore.LoadAsync(conn, user.RequiredAccountId(), id, ct)).SingleOrDefault();
    }

    public static async Task<IResult> All(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return Results.Json(await FilterStore.LoadAsync(conn, user.RequiredAccountId(), null, ct));
    }

    public static async Task<IResult> Get(long id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
        await OwnAsync(db, user, id, ct) is { } filter ? Results.Json(filter) : ApiResults.NotFound();

    /// <summary>The filter's settings from a request; null members are left unchanged on update.</summary>
    sealed record FilterInput(string? Title, string[]? Context, string? Action, DateTimeOffset? ExpiresAt, bool ClearExpiry);

    static (FilterInput? Input, IResult? Error) ReadInput(ApiParams p, TimeProvider clock, bool creating)
    {
        var title = p.Get("title")?.Trim();
        if (creating && string.IsNullOrEmpty(title)) return (null, Invalid("Title can't be blank"));
        if (title is { Length: 0 } && !creating) return (null, Invalid("Title can't be blank"));
        if (title is { Length: > MaxTitle }) return (null, Invalid("Title is too long"));
        string[]? context = p.Has("context") ? p.GetList("context").Distinct().ToArray() : null;
        if (creating && (context is null || context.Length == 0)) return (null, Invalid("Context can't be blank"));
        if (context is not null && (context.Length == 0 || context.Any(c => !Contexts.Contains(c)))) return (null, Invalid("Context includes an unknown context"));
        var action = p.Get("filter_action");
        if (action is not null && !Actions.Contains(action)) return (null, Invalid("Filter action is not included in the list"));
        DateTimeOffset? expiresAt = null;
        var clear = false;
        if (p.Get("expires_in") is { } expiresIn)
        {
            if (expiresIn.Length == 0) clear = true;
            else if (int.TryParse(expiresIn, out var seconds) && seconds > 0) expiresAt = clock.GetUtcNow().AddSeconds(seconds);
            else return (null, Invalid("Expires in must be a number of seconds"));
        }
        return (new FilterInput(title, context, action, expiresAt, clear), null);
    }

    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var (input, error) = ReadInput(p, clock, creating: true);
        if (error is not null) return error;
        var keywords = p.GetObjectList("keywords_attributes", "keyword", "whole_word");
        if (keywords.Count > MaxKeywords || keywords.Any(k => k.GetValueOrDefault("keyword", "").Trim() is { Length: 0 or > MaxKeyword }))
            return Invalid("Keywords must be 1 to 512 characters, at most 100 of them");
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await InsertFilterAsync(conn, tx, me, input!, ct);
        if (id is null) return Invalid($"at most {MaxFilters} filters");
        foreach (var k in keywords)
            await InsertKeywordAsync(conn, tx, id.Value, k.GetValueOrDefault("keyword", "").Trim(), k.GetValueOrDefault("whole_word"), ct);
        await tx.CommitAsync(ct);
        return Results.Json((await FilterStore.LoadAsync(conn, me, id, ct)).Single());
    }

    /// <summary>A new filter of the member's (v2, or the one a v1 filter stands for); null when they have the most allowed.</summary>
    static Task<long?> InsertFilterAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long me, FilterInput input, CancellationToken ct) =>
        conn.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO filters (account_id, title, context, filter_action, expires_at)
            SELECT @me, @title, @context, @action, @expiresAt WHERE (SELECT count(*) FROM filters WHERE account_id = @me) < @max
            RETURNING id
            """, new { me, title = input.Title, context = input.Context, action = input.Action ?? "warn", expiresAt = input.ExpiresAt, max = MaxFilters },
            tx, cancellationToken: ct));

    static Task InsertKeywordAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long filterId, string keyword, string? wholeWord, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition("INSERT INTO filter_keywords (filter_id, keyword, whole_word) VALUES (@filterId, @keyword, @wholeWord)",
            new { filterId, keyword, wholeWord = wholeWord is null || wholeWord is "true" or "1" }, tx, cancellationToken: ct));

    public static async Task<IResult> Update(long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var (input, error) = ReadInput(p, clock, creating: false);
        if (error is not null) return error;
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var changed = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE filters SET title = coalesce(@title, title), context = coalesce(@context, context), filter_action = coalesce(@action, filter_action),
                expires_at = CASE WHEN @clear THEN NULL ELSE coalesce(@expiresAt, expires_at) END
            WHERE id = @id AND account_id = @me
            """, new { id, me, title = input!.Title, context = input.Context, action = input.Action, expiresAt = input.ExpiresAt, clear = input.ClearExpiry },
            tx, cancellationToken: ct));
        if (changed == 0) return ApiResults.NotFound();
        // keywords_attributes: with an id, change it (or drop it with _destroy); without, add it.
        foreach (var k in p.GetObjectList("keywords_attributes", "id", "keyword", "whole_word", "_destroy"))
        {
            var keyword = k.GetValueOrDefault("keyword")?.Trim();
            if (k.TryGetValue("id", out var kid) && ApiResults.ParseId(kid) is { } keywordId)
            {
                if (k.GetValueOrDefault("_destroy") is "true" or "1")
                    await conn.ExecuteAsync(new CommandDefinition("DELETE FROM filter_keywords WHERE id = @keywordId AND filter_id = @id", new { keywordId, id }, tx, cancellationToken: ct));
                else if (keyword is { Length: > 0 and <= MaxKeyword } || k.ContainsKey("whole_word"))
                    await conn.ExecuteAsync(new CommandDefinition("""
                        UPDATE filter_keywords SET keyword = coalesce(@keyword, keyword), whole_word = coalesce(@wholeWord, whole_word)
                        WHERE id = @keywordId AND filter_id = @id
                        """, new
                    {
                        keywordId, id, keyword = keyword is { Length: > 0 } ? keyword : null,
                        wholeWord = k.GetValueOrDefault("whole_word") is { } w ? w is "true" or "1" : (bool?)null,
                    }, tx, cancellationToken: ct));
            }
            else if (keyword is { Length: > 0 and <= MaxKeyword })
                await InsertKeywordAsync(conn, tx, id, keyword, k.GetValueOrDefault("whole_word"), ct);
            else return Invalid("Keywords must be 1 to 512 characters");
        }
        await tx.CommitAsync(ct);
        return Results.Json((await FilterStore.LoadAsync(conn, me, id, ct)).Single());
    }

    public static async Task<IResult> Delete(long id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var deleted = await conn.ExecuteAsync(new CommandDefinition("DELETE FROM filters WHERE id = @id AND account_id = @me",
            new { id, me = user.RequiredAccountId() }, cancellationToken: ct));
        return deleted > 0 ? Results.Json(new { }) : ApiResults.NotFound();
    }

    public static async Task<IResult> AddKeyword(long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (p.Get("keyword")?.Trim() is not { Length: > 0 and <= MaxKeyword } keyword) return Invalid("Keyword can't be blank");
        if (await OwnAsync(db, user, id, ct) is null) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        await InsertKeywordAsync(conn, null, id, keyword, p.Get("whole_word"), ct);
        var filter = (await FilterStore.LoadAsync(conn, user.RequiredAccountId(), id, ct)).Single();
        return Results.Json(filter.Keywords[^1]);
    }

    /// <summary>One keyword of one of the member's own filters; another member's is not found.</summary>
    public static async Task<IResult> GetKeyword(long keywordId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var keyword = await conn.QuerySingleOrDefaultAsync<(long Id, string Keyword, bool WholeWord)?>(new CommandDefinition("""
            SELECT k.id, k.keyword, k.whole_word FROM filter_keywords k JOIN filters f ON f.id = k.filter_id WHERE k.id = @keywordId AND f.account_id = @me
            """, new { keywordId, me = user.RequiredAccountId() }, cancellationToken: ct));
        return keyword is { } k ? Results.Json(new ApiFilterKeyword(ApiResults.Id(k.Id), k.Keyword, k.WholeWord)) : ApiResults.NotFound();
    }

    /// <summary>Changes a keyword's words or whole-word matching (Tusky edits filters keyword by keyword).</summary>
    public static async Task<IResult> UpdateKeyword(long keywordId, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var keyword = p.Get("keyword")?.Trim();
        if (keyword is { Length: 0 or > MaxKeyword }) return Invalid("Keyword must be 1 to 512 characters");
        var wholeWord = p.GetBool("whole_word");
        await using var conn = await db.OpenConnectionAsync(ct);
        var changed = await conn.QuerySingleOrDefaultAsync<(long Id, string Keyword, bool WholeWord)?>(new CommandDefinition("""
            UPDATE filter_keywords k SET keyword = coalesce(@keyword, k.keyword), whole_word = coalesce(@wholeWord, k.whole_word)
            FROM filters f WHERE k.id = @keywordId AND f.id = k.filter_id AND f.account_id = @me
            RETURNING k.id, k.keyword, k.whole_word
            """, new { keywordId, keyword, wholeWord, me = user.RequiredAccountId() }, cancellationToken: ct));
        return changed is { } k ? Results.Json(new ApiFilterKeyword(ApiResults.Id(k.Id), k.Keyword, k.WholeWord)) : ApiResults.NotFound();
    }

    public static async Task<IResult> GetStatus(long entryId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var entry = await conn.QuerySingleOrDefaultAsync<(long Id, long StatusId)?>(new CommandDefinition("""
            SELECT s.id, s.status_id FROM filter_statuses s JOIN filters f ON f.id = s.filter_id WHERE s.id = @entryId AND f.account_id = @me
            """, new { entryId, me = user.RequiredAccountId() }, cancellationToken: ct));
        return entry is { } e ? Results.Json(new ApiFilterStatus(ApiResults.Id(e.Id), ApiResults.Id(e.StatusId))) : ApiResults.NotFound();
    }

    public static async Task<IResult> DeleteKeyword(long keywordId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var deleted = await conn.ExecuteAsync(new CommandDefinition("""
            DELETE FROM filter_keywords k USING filters f WHERE k.id = @keywordId AND f.id = k.filter_id AND f.account_id = @me
            """, new { keywordId, me = user.RequiredAccountId() }, cancellationToken: ct));
        return deleted > 0 ? Results.Json(new { }) : ApiResults.NotFound();
    }

    public static async Task<IResult> AddStatus(long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        if (ApiResults.ParseId(p.Get("status_id")) is not { } statusId) return Invalid("Status can't be blank");
        if (await OwnAsync(db, user, id, ct) is null) return ApiResults.NotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        var entryId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO filter_statuses (filter_id, status_id) SELECT @id, s.id FROM statuses s WHERE s.id = @statusId
            ON CONFLICT (filter_id, status_id) DO UPDATE SET status_id = excluded.status_id RETURNING id
            """, new { id, statusId }, cancellationToken: ct));
        return entryId is { } e ? Results.Json(new ApiFilterStatus(ApiResults.Id(e), ApiResults.Id(statusId))) : ApiResults.NotFound();
    }

    public static async Task<IResult> DeleteStatus(long entryId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var deleted = await conn.ExecuteAsync(new CommandDefinition("""
            DELETE FROM filter_statuses s USING filters f WHERE s.id = @entryId AND f.id = s.filter_id AND f.account_id = @me
            """, new { entryId, me = user.RequiredAccountId() }, cancellationToken: ct));
        return deleted > 0 ? Results.Json(new { }) : ApiResults.NotFound();
    }

    /// <summary>Mastodon's v1 Filter: one keyword of a filter, with its filter's context, expiry and action.</summary>
    public sealed record ApiFilterV1(string Id, string Phrase, IReadOnlyList<string> Context, bool WholeWord, string? ExpiresAt, bool Irreversible);

    static IEnumerable<ApiFilterV1> AsV1(ApiFilter f) =>
        f.Keywords.Select(k => new ApiFilterV1(k.Id, k.Keyword, f.Context, k.WholeWord, f.ExpiresAt, f.FilterAction == "hide"));

    /// <summary>The v1 view: one entry per keyword, <c>irreversible</c> for filters that hide.</summary>
    public static async Task<IResult> V1(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var filters = await FilterStore.LoadAsync(conn, user.RequiredAccountId(), null, ct);
        return Results.Json(filters.SelectMany(AsV1).ToList());
    }

    /// <summary>The member's own filter that holds keyword <paramref name="keywordId"/> (a v1 filter's id is its keyword's).</summary>
    static async Task<long?> FilterOfKeywordAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long me, long keywordId, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT f.id FROM filter_keywords k JOIN filters f ON f.id = k.filter_id WHERE k.id = @keywordId AND f.account_id = @me",
            new { keywordId, me }, tx, cancellationToken: ct));

    static async Task<ApiFilterV1?> LoadV1Async(NpgsqlConnection conn, long me, long filterId, long keywordId, CancellationToken ct) =>
        (await FilterStore.LoadAsync(conn, me, filterId, ct)).SelectMany(AsV1).SingleOrDefault(f => f.Id == ApiResults.Id(keywordId));

    public static async Task<IResult> GetV1(long id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        return await FilterOfKeywordAsync(conn, null, me, id, ct) is { } filterId && await LoadV1Async(conn, me, filterId, id, ct) is { } found
            ? Results.Json(found) : ApiResults.NotFound();
    }

    /// <summary>
    /// The v1 settings as v2 input: <c>irreversible</c> is the hide action, <c>expires_in</c> as in v2. Megalodon (and
    /// clients built on it) and older apps create and change filters this way.
    /// </summary>
    static (string? Phrase, FilterInput? Input, IResult? Error) ReadV1(ApiParams p, TimeProvider clock, bool creating)
    {
        var phrase = p.Get("phrase")?.Trim();
        if ((creating || phrase is not null) && phrase is not { Length: > 0 and <= MaxKeyword }) return (null, null, Invalid("Phrase must be 1 to 512 characters"));
        string[]? context = p.Has("context") ? p.GetList("context").Distinct().ToArray() : null;
        if (creating && (context is null || context.Length == 0)) return (null, null, Invalid("Context can't be blank"));
        if (context is not null && (context.Length == 0 || context.Any(c => !Contexts.Contains(c)))) return (null, null, Invalid("Context includes an unknown context"));
        var action = p.GetBool("irreversible") is { } irreversible ? irreversible ? "hide" : "warn" : null;
        DateTimeOffset? expiresAt = null;
        var clear = false;
        if (p.Get("expires_in") is { } expiresIn)
        {
            if (expiresIn.Length == 0) clear = true;
            else if (int.TryParse(expiresIn, out var seconds) && seconds > 0) expiresAt = clock.GetUtcNow().AddSeconds(seconds);
            else return (null, null, Invalid("Expires in must be a number of seconds"));
        }
        return (phrase, new FilterInput(phrase is { Length: > MaxTitle } ? phrase[..MaxTitle] : phrase, context, action, expiresAt, clear), null);
    }

    /// <summary>A v1 filter is a filter of one keyword, titled by its phrase.</summary>
    public static async Task<IResult> CreateV1(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var (phrase, input, error) = ReadV1(p, clock, creating: true);
        if (error is not null) return error;
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var filterId = await InsertFilterAsync(conn, tx, me, input!, ct);
        if (filterId is null) return Invalid($"at most {MaxFilters} filters");
        var keywordId = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            "INSERT INTO filter_keywords (filter_id, keyword, whole_word) VALUES (@filterId, @phrase, @wholeWord) RETURNING id",
            new { filterId, phrase, wholeWord = p.GetBool("whole_word") ?? true }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return Results.Json(await LoadV1Async(conn, me, filterId.Value, keywordId, ct));
    }

    /// <summary>Changes the keyword (phrase, whole word) and its filter's context, action and expiry.</summary>
    public static async Task<IResult> UpdateV1(long id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var p = await ApiParams.ReadAsync(request, ct);
        if (p.Error is not null) return Results.Json(new ApiError(p.Error), statusCode: p.ErrorStatus);
        var (phrase, input, error) = ReadV1(p, clock, creating: false);
        if (error is not null) return error;
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await FilterOfKeywordAsync(conn, tx, me, id, ct) is not { } filterId) return ApiResults.NotFound();
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE filter_keywords SET keyword = coalesce(@phrase, keyword), whole_word = coalesce(@wholeWord, whole_word) WHERE id = @id;
            UPDATE filters SET context = coalesce(@context, context), filter_action = coalesce(@action, filter_action),
                expires_at = CASE WHEN @clear THEN NULL ELSE coalesce(@expiresAt, expires_at) END
            WHERE id = @filterId;
            """, new
        {
            id, filterId, phrase, wholeWord = p.GetBool("whole_word"), context = input!.Context, action = input.Action, expiresAt = input.ExpiresAt,
            clear = input.ClearExpiry,
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return Results.Json(await LoadV1Async(conn, me, filterId, id, ct));
    }

    /// <summary>Removes the keyword, and its filter with it when nothing else is left in it.</summary>
    public static async Task<IResult> DeleteV1(long id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        var me = user.RequiredAccountId();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await FilterOfKeywordAsync(conn, tx, me, id, ct) is not { } filterId) return ApiResults.NotFound();
        await conn.ExecuteAsync(new CommandDefinition("""
            DELETE FROM filter_keywords WHERE id = @id;
            DELETE FROM filters f WHERE f.id = @filterId
                AND NOT EXISTS (SELECT 1 FROM filter_keywords k WHERE k.filter_id = f.id)
                AND NOT EXISTS (SELECT 1 FROM filter_statuses s WHERE s.filter_id = f.id);
            """, new { id, filterId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return Results.Json(new { });
    }
}
