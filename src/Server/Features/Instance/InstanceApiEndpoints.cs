using System.Globalization;
using System.Security.Claims;
using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Statuses;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.Instance;

/// <summary>
/// What clients ask about the server before anything else: the instance documents (v1 and v2), peers, activity,
/// rules, the member's preferences, custom emojis and trends. Every field a client reads is present; lists that
/// Fellows does not fill (emojis, trends) are empty rather than missing.
/// </summary>
public static class InstanceApiEndpoints
{
    /// <summary>
    /// The Mastodon version clients may assume. 4.2 rather than 4.3 or later: Fellows serves no grouped
    /// notifications (v2), which clients expect from 4.3 on, and no <c>api_versions</c> above 1.
    /// </summary>
    public const string MastodonVersion = "4.2.0";

    public static string VersionString => $"{MastodonVersion} (compatible; Fellows {FellowsVersion.Current})";

    // Limits the client API enforces, reported so clients count characters the same way.
    const int MaxPinnedStatuses = 5;
    const int CharactersReservedPerUrl = 23;
    static readonly string[] Languages = ["en"];
    static readonly string[] ImageTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    public static void MapInstanceApiEndpoints(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/api/v1").WithTags("Instance");
        v1.MapGet("/instance", InstanceV1).WithName("InstanceV1");
        v1.MapGet("/instance/peers", Peers).WithName("InstancePeers");
        v1.MapGet("/instance/activity", Activity).WithName("InstanceActivity");
        v1.MapGet("/instance/rules", Rules).WithName("InstanceRules");
        v1.MapGet("/instance/extended_description", ExtendedDescription).WithName("InstanceExtendedDescription");
        v1.MapGet("/instance/domain_blocks", () => Results.Json(Array.Empty<object>())).WithName("InstanceDomainBlocks");
        // No translation service is configured (configuration.translation.enabled is false): no language pairs, as Mastodon answers then.
        v1.MapGet("/instance/translation_languages", () => Results.Json(new Dictionary<string, string[]>())).WithName("InstanceTranslationLanguages");
        v1.MapGet("/instance/languages", () => Results.Json(new[] { new { code = "en", name = "English" } })).WithName("InstanceLanguages");
        v1.MapGet("/preferences", Preferences).RequireScope("read:accounts").WithName("Preferences");
        v1.MapGet("/custom_emojis", () => Results.Json(Array.Empty<object>())).WithName("CustomEmojis");
        // Clients ask for server announcements at start; Fellows has none (co-ops decide in proposals instead).
        v1.MapGet("/announcements", () => Results.Json(Array.Empty<object>())).RequireScope("read").WithName("Announcements");
        // Trends exist so clients find them, but Fellows ranks nothing: participation, not performance.
        v1.MapGet("/trends", () => Results.Json(Array.Empty<object>())).WithName("Trends");
        v1.MapGet("/trends/tags", () => Results.Json(Array.Empty<object>())).WithName("TrendingTags");
        v1.MapGet("/trends/statuses", () => Results.Json(Array.Empty<object>())).WithName("TrendingStatuses");
        v1.MapGet("/trends/links", () => Results.Json(Array.Empty<object>())).WithName("TrendingLinks");
        app.MapGet("/api/v2/instance", InstanceV2).WithTags("Instance").WithName("InstanceV2");

        // Accounts without a picture point here (absolute URLs), so clients always have an image to show.
        app.MapGet("/avatars/original/missing.png", () => Png(DefaultImages.Avatar)).WithName("DefaultAvatar");
        app.MapGet("/headers/original/missing.png", () => Png(DefaultImages.Header)).WithName("DefaultHeader");
        app.MapGet("/instance/thumbnail.png", () => Png(DefaultImages.Thumbnail)).WithName("InstanceThumbnail");
    }

    static IResult Png(byte[] bytes) => Results.Bytes(bytes, "image/png");

    public static async Task<IResult> InstanceV2(InstanceUrls urls, IOptions<InstanceOptions> options, NpgsqlDataSource db, TimeProvider clock,
        Push.PushService push, CancellationToken ct)
    {
        var o = options.Value;
        var vapid = (await push.KeysAsync(ct)).Public;
        var stats = await StatsAsync(db, clock, ct);
        return Results.Json(new
        {
            Domain = urls.Domain,
            Title = o.Name,
            Version = VersionString,
            SourceUrl = FellowsVersion.Repository,
            Description = o.Description,
            Usage = new { Users = new { ActiveMonth = stats.ActiveMonth } },
            Thumbnail = new
            {
                Url = Thumbnail(urls),
                Blurhash = (string?)null,
                Versions = new Dictionary<string, string> { ["@1x"] = Thumbnail(urls), ["@2x"] = Thumbnail(urls) },
            },
            Icon = Array.Empty<object>(),
            Languages,
            Configuration = new
            {
                Urls = new { Streaming = Streaming(urls), Status = (string?)null, About = $"{urls.Base}/about", PrivacyPolicy = (string?)null, TermsOfService = (string?)null },
                Vapid = new { PublicKey = vapid },
                Accounts = new { MaxFeaturedTags = 10, MaxPinnedStatuses },
                Statuses = StatusLimits(),
                MediaAttachments = MediaLimits(),
                Polls = PollLimits(),
                Translation = new { Enabled = false },
                TimelinesAccess = new
                {
                    LiveFeeds = new { Local = "public", Remote = "public" },
                    HashtagFeeds = new { Local = "public", Remote = "public" },
                    TrendingLinkFeeds = new { Local = "disabled", Remote = "disabled" },
                },
            },
            Registrations = new
            {
                Enabled = o.OpenRegistrations,
                // Co-ops admit members: by default sign-up waits for an admin's approval.
                ApprovalRequired = o.ApprovalRequired,
                Message = (string?)null,
                Url = (string?)null,
                MinAge = (int?)null,
                ReasonRequired = false,
            },
            ApiVersions = new Dictionary<string, int> { ["mastodon"] = 1 },
            Contact = new { Email = o.ContactEmail, Account = (object?)null },
            Rules = RuleEntities(o),
        });
    }

    public static async Task<IResult> InstanceV1(InstanceUrls urls, IOptions<InstanceOptions> options, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var o = options.Value;
        var stats = await StatsAsync(db, clock, ct);
        return Results.Json(new
        {
            Uri = urls.Domain,
            Title = o.Name,
            ShortDescription = o.Description,
            Description = o.Description,
            Email = o.ContactEmail,
            Version = VersionString,
            Urls = new { StreamingApi = Streaming(urls) },
            Stats = new { UserCount = stats.Users, StatusCount = stats.Statuses, DomainCount = stats.Domains },
            Thumbnail = Thumbnail(urls),
            Languages,
            Registrations = o.OpenRegistrations,
            ApprovalRequired = o.ApprovalRequired,
            InvitesEnabled = false,
            Configuration = new
            {
                Accounts = new { MaxFeaturedTags = 10 },
                Statuses = StatusLimits(),
                MediaAttachments = MediaLimits(),
                Polls = PollLimits(),
            },
            ContactAccount = (object?)null,
            Rules = RuleEntities(o),
        });
    }

    public static async Task<IResult> Peers(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var domains = await conn.QueryAsync<string>(new CommandDefinition(InstanceApiQueries.Peers, cancellationToken: ct));
        return Results.Json(domains);
    }

    /// <summary>Twelve weeks, newest first, counts as strings as Mastodon sends them.</summary>
    public static async Task<IResult> Activity(NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // Weeks start on Monday at midnight UTC.
        var today = now.UtcDateTime.Date;
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var starts = Enumerable.Range(0, 12).Select(i => new DateTimeOffset(monday.AddDays(-7 * i), TimeSpan.Zero)).ToArray();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<ActivityRow>(new CommandDefinition(InstanceApiQueries.Activity,
            new { since = starts[^1] }, cancellationToken: ct))).ToDictionary(r => r.Week.UtcDateTime.Date);
        return Results.Json(starts.Select(s =>
        {
            var row = rows.GetValueOrDefault(s.UtcDateTime.Date);
            return new
            {
                Week = s.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                Statuses = (row?.Statuses ?? 0).ToString(CultureInfo.InvariantCulture),
                Logins = (row?.Logins ?? 0).ToString(CultureInfo.InvariantCulture),
                Registrations = (row?.Registrations ?? 0).ToString(CultureInfo.InvariantCulture),
            };
        }));
    }

    public static IResult Rules(IOptions<InstanceOptions> options) => Results.Json(RuleEntities(options.Value));

    public static IResult ExtendedDescription(IOptions<InstanceOptions> options, TimeProvider clock) =>
        Results.Json(new
        {
            UpdatedAt = ApiResults.Date(clock.GetUtcNow()),
            Content = $"<p>{System.Net.WebUtility.HtmlEncode(options.Value.Description)}</p>",
        });

    /// <summary>The member's posting defaults (set through update_credentials' <c>source</c>) and reading preferences.</summary>
    public static async Task<IResult> Preferences(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleAsync<(string? Locale, short Visibility, bool Sensitive, string? Language)>(new CommandDefinition(
            "SELECT locale, default_visibility, default_sensitive, default_language FROM users WHERE account_id = @id",
            new { id = user.RequiredAccountId() }, cancellationToken: ct));
        // Keys contain colons, so a dictionary rather than named properties.
        return Results.Json(new Dictionary<string, object?>
        {
            ["posting:default:visibility"] = ((Visibility)row.Visibility).ToApi(),
            ["posting:default:sensitive"] = row.Sensitive,
            ["posting:default:language"] = row.Language ?? row.Locale,
            ["posting:default:quote_policy"] = "nobody",
            ["reading:expand:media"] = "default",
            ["reading:expand:spoilers"] = false,
            ["reading:autoplay:gifs"] = false,
        });
    }

    static string Thumbnail(InstanceUrls urls) => $"{urls.Base}/instance/thumbnail.png";

    /// <summary>The base URL with ws(s) for http(s): where clients open the streaming API.</summary>
    static string Streaming(InstanceUrls urls) =>
        urls.Base.StartsWith("https://", StringComparison.Ordinal) ? "wss://" + urls.Base["https://".Length..] : "ws://" + urls.Base["http://".Length..];

    static object StatusLimits() => new
    {
        MaxCharacters = Statuses.StatusService.MaxCharacters,
        MaxMediaAttachments = 4,
        CharactersReservedPerUrl,
    };

    static object MediaLimits() => new
    {
        SupportedMimeTypes = ImageTypes,
        DescriptionLimit = 1500,
        ImageSizeLimit = 16 * 1024 * 1024,
        ImageMatrixLimit = 33_177_600,
        VideoSizeLimit = 0,
        VideoFrameRateLimit = 0,
        VideoMatrixLimit = 0,
    };

    static object PollLimits() => new
    {
        MaxOptions = Polls.PollLimits.MaxOptions,
        MaxCharactersPerOption = Polls.PollLimits.MaxCharactersPerOption,
        MinExpiration = Polls.PollLimits.MinExpiration,
        MaxExpiration = Polls.PollLimits.MaxExpiration,
    };

    static IReadOnlyList<object> RuleEntities(InstanceOptions o) =>
        o.Rules.Select((text, i) => (object)new { Id = (i + 1).ToString(CultureInfo.InvariantCulture), Text = text, Hint = "" }).ToList();

    static async Task<StatsRow> StatsAsync(NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<StatsRow>(new CommandDefinition(InstanceApiQueries.Stats,
            new { month = clock.GetUtcNow().AddDays(-30) }, cancellationToken: ct));
    }

    sealed record StatsRow
    {
        public required long Users { get; init; }
        public required long Statuses { get; init; }
        public required long Domains { get; init; }
        public required long ActiveMonth { get; init; }
    }

    sealed record ActivityRow
    {
        public required DateTimeOffset Week { get; init; }
        public required long Statuses { get; init; }
        public required long Logins { get; init; }
        public required long Registrations { get; init; }
    }
}
