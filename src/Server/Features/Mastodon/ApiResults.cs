using System.Globalization;
using Dapper;
using Fellows.Server.Common;
using Fellows.Server.Features.Auth;
using Npgsql;

namespace Fellows.Server.Features.Mastodon;

/// <summary>Mastodon API conventions: the error shape and status codes, date format, id strings.</summary>
public static class ApiResults
{
    public static IResult Error(Error error) => error.Kind switch
    {
        ErrorKind.Validation => Results.Json(new ApiError(error.Message), statusCode: StatusCodes.Status422UnprocessableEntity),
        ErrorKind.NotFound => Results.Json(new ApiError(error.Message), statusCode: StatusCodes.Status404NotFound),
        ErrorKind.Conflict => Results.Json(new ApiError(error.Message), statusCode: StatusCodes.Status422UnprocessableEntity),
        ErrorKind.Forbidden => Results.Json(new ApiError(error.Message), statusCode: StatusCodes.Status403Forbidden),
        ErrorKind.Unauthorized => Results.Json(new ApiError(error.Message), statusCode: StatusCodes.Status401Unauthorized),
        _ => Results.Json(new ApiError(error.Message), statusCode: StatusCodes.Status503ServiceUnavailable),
    };

    public static IResult From<T>(Result<T> result) => result.IsOk ? Results.Json(result.Value) : Error(result.Error!);

    public static IResult NotFound() => Error(Common.Error.NotFound());

    /// <summary>Mastodon's timestamp format: <c>2026-11-26T12:00:00.000Z</c>.</summary>
    public static string Date(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string? Date(DateTimeOffset? value) => value is { } v ? Date(v) : null;

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    public static long? ParseId(string? id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;
}

/// <summary>max_id / since_id / min_id / limit, and the Link header that pages on.</summary>
public sealed record PageRequest(long? MaxId, long? SinceId, long? MinId, int Limit)
{
    public static PageRequest From(HttpRequest request, int defaultLimit = 20, int maxLimit = 40)
    {
        var q = request.Query;
        var limit = int.TryParse(q["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, maxLimit) : defaultLimit;
        return new PageRequest(ApiResults.ParseId(q["max_id"]), ApiResults.ParseId(q["since_id"]), ApiResults.ParseId(q["min_id"]), limit);
    }

    /// <summary>
    /// The paging conditions on <paramref name="column"/>, an id that grows with time: the item's own, or that of the
    /// follow, bookmark or block when a list is ordered by when it was made (the Link header then carries those ids,
    /// as in Mastodon). Queries add them to their WHERE clause.
    /// </summary>
    public static string Conditions(string column) => $"""
        AND (@maxId::bigint IS NULL OR {column} < @maxId)
        AND (@sinceId::bigint IS NULL OR {column} > @sinceId)
        AND (@minId::bigint IS NULL OR {column} > @minId)
        """;

    /// <summary>
    /// Newest first (oldest first from min_id), and the limit; queries end with it. Written so that PostgreSQL folds
    /// it to a plain <c>ORDER BY column DESC</c> (or <c>column</c> from min_id) once the parameter is known: the CASE
    /// whose condition is true becomes the column and the other a constant, which sorts nothing. An index on the
    /// column can then answer the order and stop after the page (an expression such as <c>-x.id</c> would sort
    /// every matching row).
    /// </summary>
    public static string OrderAndLimit(string column) => $"""
        ORDER BY CASE WHEN @minId::bigint IS NULL THEN {column} END DESC, CASE WHEN @minId::bigint IS NOT NULL THEN {column} END
        LIMIT @limit
        """;

    /// <summary>
    /// Runs a page query (<paramref name="args"/> and @maxId, @sinceId, @minId, @limit); the rows come newest first
    /// (a min_id page is read oldest first and turned round).
    /// </summary>
    public async Task<List<T>> QueryAsync<T>(NpgsqlConnection conn, string sql, object? args, CancellationToken ct)
    {
        var parameters = new DynamicParameters(args);
        parameters.AddDynamicParams(new { MaxId, SinceId, MinId, Limit });
        var rows = (await conn.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: ct))).ToList();
        if (MinId is not null) rows.Reverse();
        return rows;
    }

    /// <summary>The Link header for a page of rows (newest first), each paged by its <paramref name="cursor"/>.</summary>
    public void AddLinkHeader<T>(HttpContext context, string baseUrl, IReadOnlyList<T> rows, Func<T, long> cursor)
    {
        if (rows.Count > 0) AddLinkHeader(context, baseUrl, cursor(rows[0]), cursor(rows[^1]), rows.Count);
    }

    /// <summary>
    /// Adds a Link header with absolute URLs keeping the request's other parameters. As in Mastodon, rel="next" is
    /// offered only after a full page (<paramref name="count"/> equal to the limit), so clients that follow it stop
    /// without asking for an empty page; rel="prev" is always offered, since newer items may arrive.
    /// </summary>
    public void AddLinkHeader(HttpContext context, string baseUrl, long? newestId, long? oldestId, int count)
    {
        if (newestId is null || oldestId is null) return;
        var path = context.Request.Path.Value;
        var kept = context.Request.Query
            .Where(kv => kv.Key is not ("max_id" or "since_id" or "min_id"))
            .SelectMany(kv => kv.Value.Select(v => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(v ?? "")}"))
            .ToList();
        string Url(string key, long id) =>
            $"{baseUrl}{path}?{string.Join('&', kept.Append($"{key}={id.ToString(CultureInfo.InvariantCulture)}"))}";
        var prev = $"<{Url("min_id", newestId.Value)}>; rel=\"prev\"";
        context.Response.Headers.Append("Link", count >= Limit ? $"<{Url("max_id", oldestId.Value)}>; rel=\"next\", {prev}" : prev);
    }
}
