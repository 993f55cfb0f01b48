using System.Text.Json;
using Fellows.Server.Configuration;
using Fellows.Server.Database;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Auth;
using Fellows.Server.Features.Bookmarks;
using Fellows.Server.Features.ActivityPub;
using Fellows.Server.Features.Deliberation;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Discovery;
using Fellows.Server.Features.Federation;
using Fellows.Server.Features.Follows;
using Fellows.Server.Features.Groups;
using Fellows.Server.Features.Inbox;
using Fellows.Server.Features.Instance;
using Fellows.Server.Features.Media;
using Fellows.Server.Features.Motions;
using Fellows.Server.Features.Polls;
using Fellows.Server.Features.Scheduled;
using Fellows.Server.Features.Conversations;
using Fellows.Server.Features.OAuth;
using Fellows.Server.Features.Filters;
using Fellows.Server.Features.Lists;
using Fellows.Server.Features.Push;
using Fellows.Server.Features.Search;
using Fellows.Server.Features.Mastodon;
using Fellows.Server.Features.Notifications;
using Fellows.Server.Features.Statuses;
using Fellows.Server.Features.Streaming;
using Fellows.Server.Features.Timelines;
using Fellows.Server.Jobs;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Fellows.Server.Hosting;

/// <summary>Builds the web host. Tests build several of these in one process, so nothing here is static state.</summary>
public static class FellowsHost
{
    /// <summary>
    /// Builds a ready-to-run application: database opened (embedded or external), migrations applied, the
    /// instance actor present. <paramref name="configure"/> lets tests override services such as the clock.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure, CancellationToken ct)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);

        var bootLog = (string message) => Console.Error.WriteLine($"fellows: {message}");
        var database = await DatabaseBootstrap.OpenAsync(builder.Configuration, bootLog, ct);
        try
        {
            AddServices(builder, database.ConnectionString);
            var app = builder.Build();
            // Behind a TLS proxy on the same machine: client addresses and scheme come from X-Forwarded-*.
            app.UseForwardedHeaders(new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto });
            if (database.Embedded is { } embedded)
            {
                // Stop the cluster we started when the host stops, after everything using it has shut down.
                app.Lifetime.ApplicationStopped.Register(() =>
                {
                    // Close pooled connections first so they do not break when the cluster goes away.
                    app.Services.GetRequiredService<NpgsqlDataSource>().Clear();
                    embedded.DisposeAsync().AsTask().GetAwaiter().GetResult();
                });
            }
            await InitialiseAsync(app.Services, ct);
            MapEndpoints(app);
            return app;
        }
        catch
        {
            if (database.Embedded is not null) await database.Embedded.DisposeAsync();
            throw;
        }
    }

    public static void AddServices(WebApplicationBuilder builder, string connectionString)
    {
        var services = builder.Services;
        services.AddOptions<InstanceOptions>()
            .Bind(builder.Configuration.GetSection(InstanceOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<InstanceUrls>();
        var instance = builder.Configuration.GetSection(InstanceOptions.Section).Get<InstanceOptions>() ?? new InstanceOptions();
        services.AddDataProtection()
            .SetApplicationName("fellows")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(instance.DataDirectoryFullPath, "keys")));
        services.TryAddSingleton(TimeProvider.System);
        services.AddNpgsqlDataSource(WithAutoPrepare(connectionString));

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
        });

        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddSingleton<IAuthorizationHandler, ScopeRequirementHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, JsonAuthorizationResultHandler>();

        services.AddSingleton<TokenCache>();
        services.AddHostedService<TokenCacheListener>();
        services.AddSingleton<TokenService>();
        services.AddOAuth(instance);
        services.AddSingleton<AccountService>();
        services.AddSingleton<AccountPresenter>();
        services.AddSingleton<InstanceActor>();
        services.AddSingleton<StatusService>();
        services.AddSingleton<StatusEdits>();
        services.AddOptions<RenderedStatusOptions>().Bind(builder.Configuration.GetSection(RenderedStatusOptions.Section))
            .Validate(o => o.Megabytes >= 0, "RenderedStatuses:Megabytes cannot be negative").ValidateOnStart();
        services.AddSingleton<RenderedStatuses>();
        services.AddSingleton<StatusPresenter>();
        services.AddSingleton<FollowService>();
        services.AddSingleton<FollowMigration>();
        services.AddSingleton<Features.Accounts.DomainBlockService>();
        services.AddSingleton<Features.Tags.FeaturedTagService>();
        services.AddSingleton<Features.Tags.RemoteFeaturedTags>();
        services.AddSingleton<PublicDocumentCache>();
        services.AddSingleton<PushService>();
        services.AddHostedService<PushWorker>();
        services.AddSingleton<MediaStore>();
        services.AddSingleton<MediaService>();
        services.AddSingleton<MediaPresenter>();
        services.AddHostedService<MediaWorker>();
        services.AddSingleton<ProfileService>();
        services.AddSingleton<AccountMoves>();
        services.AddSingleton<NotificationPresenter>();
        services.AddApiConventions(builder.Configuration);
        services.AddSingleton<MotionPublisher>();
        services.AddSingleton<Jobs.OneShotJobs>();
        services.AddSingleton<MotionScheduler>();
        services.AddSingleton<MotionService>();
        services.AddSingleton<MotionPresenter>();
        services.AddSingleton<MotionInbox>();
        services.AddSingleton<Features.Polls.PollScheduler>();
        services.AddSingleton<Features.Polls.PollService>();
        services.AddSingleton<Features.Scheduled.ScheduledStatusScheduler>();
        services.AddSingleton<Features.Scheduled.ScheduledStatusService>();
        services.AddSingleton<Features.Conversations.ConversationPresenter>();
        services.AddSingleton<Features.Groups.GroupService>();
        services.AddSingleton<Features.Groups.GroupAnnouncer>();
        services.AddSingleton<Features.Groups.CoopVouching>();
        services.AddSingleton<MotionFollowUpScheduler>();
        services.AddSingleton<MotionLifecycle>();
        services.AddSingleton<MotionLifecycleInbox>();
        // The deliberation API's OpenAPI document, served at /api/fellows/v1/openapi.json.
        services.AddOpenApi(o => o.ShouldInclude = d => d.GroupName == "fellows");
        // Federation first: its signed delivery sender replaces the queue's default seam.
        services.AddFederation();

        // Outbound delivery (transactional outbox, fan-out, delivery workers) and scheduled jobs (Quartz).
        services.AddDelivery(builder.Configuration);
        // Streaming API: every node listens for the database's announcements and serves its own connections.
        services.TryAddSingleton<Features.Streaming.INotificationRenderer, StreamingNotificationRenderer>();
        services.AddStreaming(builder.Configuration);
        services.AddJobs(builder.Configuration, connectionString);
    }

    /// <summary>
    /// Lets Npgsql prepare the statements a connection runs repeatedly (the inbox's lookups and insert, account
    /// lookups for WebFinger and actor documents), so PostgreSQL stops parsing and planning them on every request.
    /// A connection string that says anything about auto-preparation (e.g. <c>Max Auto Prepare=0</c> behind a
    /// pooler that cannot carry prepared statements) is left as it is.
    /// Prepared statements are still planned for their parameters (<c>plan_cache_mode=force_custom_plan</c>, asked
    /// for by the connection so it holds on any PostgreSQL): after five runs PostgreSQL may settle on a generic plan,
    /// in which the optional filters (<c>@maxId IS NULL OR s.id &lt; @maxId</c>) and the paging order cannot fold to
    /// index plans, and the timelines sort every matching row again (docs/benchmarks.md).
    /// </summary>
    public static string WithAutoPrepare(string connectionString)
    {
        // The generic builder keeps only the keys that were written, so "said anything" can be told from a default.
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (written.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Contains("autoprepare", StringComparison.OrdinalIgnoreCase)))
            return connectionString;
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 64, AutoPrepareMinUsages = 2 };
        if (builder.Options?.Contains("plan_cache_mode", StringComparison.Ordinal) != true)
            builder.Options = $"{builder.Options} -c plan_cache_mode=force_custom_plan".TrimStart();
        return builder.ConnectionString;
    }

    static async Task InitialiseAsync(IServiceProvider services, CancellationToken ct)
    {
        var db = services.GetRequiredService<NpgsqlDataSource>();
        await Migrator.MigrateAsync(db, ct);
        await services.GetRequiredService<InstanceActor>().EnsureAsync(ct);
        await services.GetRequiredService<Features.Groups.GroupService>().EnsureCoopAsync(ct);
        await services.GetRequiredService<StoredSignatureSchemes>().LoadAsync(ct);
    }

    static void MapEndpoints(WebApplication app)
    {
        app.UseWebSockets();
        app.UseApiCors();
        app.UseApiNotFound();
        app.UseAuthentication();
        app.UseApiRateLimits();
        app.UseAuthorization();
        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        app.MapDiscoveryEndpoints();
        app.MapActivityPubEndpoints();
        app.MapInboxEndpoints();
        app.MapAccountEndpoints();
        app.MapProfileEndpoints();
        app.MapStatusEndpoints();
        app.MapMediaEndpoints();
        app.MapTimelineEndpoints();
        app.MapSearchEndpoints();
        app.MapListEndpoints();
        app.MapFilterEndpoints();
        app.MapPushEndpoints();
        app.MapStreamingEndpoints();
        app.MapDeliberationContextEndpoints();
        app.MapMotionEndpoints();
        app.MapPollEndpoints();
        app.MapScheduledStatusEndpoints();
        app.MapConversationEndpoints();
        app.MapGroupEndpoints();
        app.MapGroupActivityPubEndpoints();
        app.MapMotionLifecycleEndpoints();
        app.MapOpenApi(MotionEndpoints.Prefix + "/openapi.json").AllowAnonymous();
        app.MapOAuth();
        app.MapInstanceApiEndpoints();
        app.MapNotificationEndpoints();
        app.MapBookmarkEndpoints();
        app.MapAccountListEndpoints();
        app.MapDomainBlockEndpoints();
        app.MapEndorsementEndpoints();
        app.MapSuggestionEndpoints();
        app.MapDirectoryEndpoints();
        Features.Tags.FeaturedTagEndpoints.MapFeaturedTagEndpoints(app);
        Features.Tags.TagEndpoints.MapTagEndpoints(app);
        Features.Statuses.ConversationMuteEndpoints.MapConversationMuteEndpoints(app);
        app.MapApiFallback();
    }
}
