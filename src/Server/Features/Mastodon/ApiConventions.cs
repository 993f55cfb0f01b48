using System.Globalization;
using System.Threading.RateLimiting;
using Fellows.Server.Features.Auth;

namespace Fellows.Server.Features.Mastodon;

/// <summary>The <c>RateLimits</c> section: Mastodon's default of 300 API calls per 5 minutes per token (or address).</summary>
public sealed class ApiRateLimitOptions
{
    public const string Section = "RateLimits";

    public int PermitLimit { get; set; } = 300;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// What every client relies on beyond single endpoints: CORS for browser clients (with the paging and rate-limit
/// headers readable), <c>X-RateLimit-*</c> headers with a real limit behind them, and JSON 404s for anything the
/// API does not serve, whatever the method, as Mastodon answers.
/// </summary>
public static class ApiConventions
{
    public const string CorsPolicy = "mastodon-clients";

    static readonly string[] CorsPrefixes = ["/api", "/oauth", "/.well-known", "/nodeinfo"];

    public static void AddApiConventions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddCors(o => o.AddPolicy(CorsPolicy, p => p
            .AllowAnyOrigin()
            .AllowAnyHeader()
            .AllowAnyMethod()
            .WithExposedHeaders("Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")));
        services.AddOptions<ApiRateLimitOptions>().Bind(configuration.GetSection(ApiRateLimitOptions.Section))
            .Validate(o => o.PermitLimit > 0 && o.Window > TimeSpan.Zero, "RateLimits needs a positive PermitLimit and Window")
            .ValidateOnStart();
        services.AddSingleton<ApiRateLimiter>();
    }

    static bool IsApi(PathString path) => path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    /// <summary>CORS on the paths browser clients call; the rest of the site (actor documents, pages) is not opened.</summary>
    public static void UseApiCors(this WebApplication app) =>
        app.UseWhen(c => CorsPrefixes.Any(p => c.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)),
            b => b.UseCors(CorsPolicy));

    /// <summary>Runs after authentication, so a member's calls are counted against their token, not their address.</summary>
    public static void UseApiRateLimits(this WebApplication app) =>
        app.UseWhen(c => IsApi(c.Request.Path), b => b.Use(async (context, next) =>
        {
            var limiter = context.RequestServices.GetRequiredService<ApiRateLimiter>();
            if (!limiter.TryAcquire(context))
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                await context.Response.WriteAsJsonAsync(new ApiError("Too many requests"), context.RequestAborted);
                return;
            }
            await next(context);
        }));

    /// <summary>
    /// Unknown API paths, and known paths with a method they do not take, answer
    /// <c>404 {"error":"Record not found"}</c> instead of an empty 404 or a 405.
    /// </summary>
    public static void UseApiNotFound(this WebApplication app)
    {
        app.UseWhen(c => IsApi(c.Request.Path), b => b.Use(async (context, next) =>
        {
            await next(context);
            if (context.Response.HasStarted || context.Response.StatusCode is not (404 or 405) || context.Response.ContentType is not null)
                return;
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.Headers.Allow = default;
            await context.Response.WriteAsJsonAsync(new ApiError("Record not found"), context.RequestAborted);
        }));
    }

    public static void MapApiFallback(this IEndpointRouteBuilder app) =>
        app.MapFallback("/api/{**path}", () => ApiResults.NotFound()).WithName("ApiNotFound");
}

/// <summary>
/// Fixed windows aligned to the clock (so <c>X-RateLimit-Reset</c> is the same instant for every call in a window),
/// one <see cref="FixedWindowRateLimiter"/> per token or address per window. A window's limiter replenishes when the
/// window ends, after which the partitioned limiter drops it as idle, so old windows do not pile up.
/// </summary>
public sealed class ApiRateLimiter : IDisposable
{
    readonly PartitionedRateLimiter<(string Who, long Window)> _limiter;
    readonly ApiRateLimitOptions _options;

    public ApiRateLimiter(Microsoft.Extensions.Options.IOptions<ApiRateLimitOptions> options)
    {
        _options = options.Value;
        var limit = _options.PermitLimit;
        var window = _options.Window;
        _limiter = PartitionedRateLimiter.Create<(string Who, long Window), (string, long)>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limit,
                Window = window,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    /// <summary>Takes one permit and writes the <c>X-RateLimit-*</c> headers; false when none is left.</summary>
    public bool TryAcquire(HttpContext context)
    {
        // Windows are counted on the wall clock: rate limits protect the server, not business time.
        var now = DateTimeOffset.UtcNow;
        var windowTicks = _options.Window.Ticks;
        var index = now.UtcTicks / windowTicks;
        var reset = new DateTimeOffset((index + 1) * windowTicks, TimeSpan.Zero);
        var who = context.User.FindFirst(BearerAuthenticationHandler.TokenClaim)?.Value is { } token
            ? "token:" + token
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        var key = (who, index);
        using var lease = _limiter.AttemptAcquire(key);
        var remaining = _limiter.GetStatistics(key)?.CurrentAvailablePermits ?? 0;
        var headers = context.Response.Headers;
        headers["X-RateLimit-Limit"] = _options.PermitLimit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = Math.Max(0, remaining).ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = ApiResults.Date(reset);
        if (!lease.IsAcquired)
            headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((reset - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
