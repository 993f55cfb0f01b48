using Fellows.Server.Common;
using Fellows.Server.Features.Auth;
using Microsoft.Extensions.Options;
using Npgsql;
using static Fellows.Server.Features.Streaming.StreamSubscription;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// Mastodon's streaming API: one multiplexed WebSocket at <c>/api/v1/streaming</c>, and one server-sent-events
/// stream per path. Both need a member's token (as Mastodon since 4.2): in the Authorization header, the
/// <c>access_token</c> parameter, or (WebSocket only) the <c>Sec-WebSocket-Protocol</c> header.
/// </summary>
/// <remarks>
/// These handlers check the token themselves rather than through a scope policy: which scope is needed depends on the
/// stream asked for, and a request that is not a WebSocket handshake gets Mastodon's not-found answer whatever its token.
/// </remarks>
public static class StreamingEndpoints
{
    public static void MapStreamingEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/streaming").WithTags("Streaming");
        group.MapGet("/health", () => Results.Text("OK", "text/plain")).WithName("StreamingHealth");
        group.MapGet("", WebSocketAsync).WithName("StreamingWebSocket");
        group.MapGet("/user", (HttpContext c) => EventStreamAsync(c, User)).WithName("StreamUser");
        group.MapGet("/user/notification", (HttpContext c) => EventStreamAsync(c, UserNotification)).WithName("StreamUserNotification");
        group.MapGet("/public", (HttpContext c) => EventStreamAsync(c, OnlyMedia(c) ? PublicMedia : Public)).WithName("StreamPublic");
        group.MapGet("/public/local", (HttpContext c) => EventStreamAsync(c, OnlyMedia(c) ? PublicLocalMedia : PublicLocal)).WithName("StreamPublicLocal");
        group.MapGet("/public/remote", (HttpContext c) => EventStreamAsync(c, OnlyMedia(c) ? PublicRemoteMedia : PublicRemote)).WithName("StreamPublicRemote");
        group.MapGet("/hashtag", (HttpContext c) => EventStreamAsync(c, Hashtag)).WithName("StreamHashtag");
        group.MapGet("/hashtag/local", (HttpContext c) => EventStreamAsync(c, HashtagLocal)).WithName("StreamHashtagLocal");
        group.MapGet("/list", (HttpContext c) => EventStreamAsync(c, List)).WithName("StreamList");
        group.MapGet("/direct", (HttpContext c) => EventStreamAsync(c, Direct)).WithName("StreamDirect");
        // "/api/v1/streaming/" (some clients add the slash) is the WebSocket too; any other path is not a stream.
        group.MapGet("/{**rest}", (HttpContext c, string? rest) => string.IsNullOrEmpty(rest)
            ? WebSocketAsync(c)
            : Results.Json(new ApiError("Unknown channel requested"), statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(c));
    }

    static bool OnlyMedia(HttpContext c) => c.Request.Query["only_media"].ToString() is "true" or "1";

    /// <summary>The WebSocket handshake: refused with 401/403 before the upgrade when the token is not good enough.</summary>
    public static async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            // What Mastodon's main host answers when streaming is served on the same host.
            await Results.Json(new ApiError("Record not found"), statusCode: StatusCodes.Status404NotFound).ExecuteAsync(context);
            return;
        }
        var scopes = await AuthorizeAsync(context, "read:statuses", "read:notifications");
        if (scopes is null) return;
        var hub = context.RequestServices.GetRequiredService<StreamingHub>();
        if (!await ListeningAsync(context, hub)) return;

        using var connection = new StreamConnection(context.User.RequiredAccountId(), scopes);
        Error? initialError = null;
        var q = context.Request.Query;
        if (q.ContainsKey("stream"))
        {
            var requested = await OwnedAsync(Resolve(q["stream"], q["tag"], q["list"], scopes), context.User.RequiredAccountId(),
                context.RequestServices.GetRequiredService<NpgsqlDataSource>(), context.RequestAborted);
            if (requested.IsOk) connection.Subscribe(requested.Value);
            else initialError = requested.Error;
        }
        // Registered before the handshake completes, so an event committed after the client sees "open" reaches it.
        hub.Register(connection);
        try
        {
            var options = context.RequestServices.GetRequiredService<IOptions<StreamingOptions>>().Value;
            var lifetime = context.RequestServices.GetRequiredService<IHostApplicationLifetime>();
            // A client that offered protocols (the token, for browsers that cannot set headers) must get one back.
            var protocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault();
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = protocol,
                KeepAliveInterval = options.WebSocketPing,
                KeepAliveTimeout = options.WebSocketPing,
            });
            using var session = new StreamingWebSocket(socket, connection, context.RequestServices.GetRequiredService<NpgsqlDataSource>());
            await session.RunAsync(initialError, lifetime.ApplicationStopping, context.RequestAborted);
        }
        finally
        {
            hub.Unregister(connection);
        }
    }

    /// <summary>One stream as server-sent events: <c>event:</c>/<c>data:</c> pairs and <c>:thump</c> heartbeats.</summary>
    public static async Task EventStreamAsync(HttpContext context, string stream)
    {
        var q = context.Request.Query;
        var scopes = await AuthorizeAsync(context, stream == UserNotification ? "read:notifications" : "read:statuses");
        if (scopes is null) return;
        var requested = await OwnedAsync(Resolve(stream, q["tag"], q["list"], scopes), context.User.RequiredAccountId(),
            context.RequestServices.GetRequiredService<NpgsqlDataSource>(), context.RequestAborted);
        if (!requested.IsOk)
        {
            await Results.Json(new ApiError(requested.Error!.Message), statusCode: StatusCodeOf(requested.Error!)).ExecuteAsync(context);
            return;
        }
        var hub = context.RequestServices.GetRequiredService<StreamingHub>();
        if (!await ListeningAsync(context, hub)) return;

        using var connection = new StreamConnection(context.User.RequiredAccountId(), scopes);
        connection.Subscribe(requested.Value);
        hub.Register(connection);
        try
        {
            var options = context.RequestServices.GetRequiredService<IOptions<StreamingOptions>>().Value;
            var lifetime = context.RequestServices.GetRequiredService<IHostApplicationLifetime>();
            await StreamingEventStream.RunAsync(context, connection, options.EventStreamHeartbeat, lifetime.ApplicationStopping);
        }
        finally
        {
            hub.Unregister(connection);
        }
    }

    internal static int StatusCodeOf(Error error) => error.Kind switch
    {
        ErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        _ => StatusCodes.Status400BadRequest,
    };

    /// <summary>
    /// The member's scopes when the request carries a valid member token covering one of <paramref name="anyOf"/>;
    /// otherwise answers 401 (403 for a member awaiting approval) in the API's error shape and returns null.
    /// </summary>
    static async Task<string[]?> AuthorizeAsync(HttpContext context, params string[] anyOf)
    {
        (int Status, string Message)? refusal = null;
        var user = context.User;
        if (context.Items[BearerAuthenticationHandler.RefusalItem] is string pending)
            refusal = (StatusCodes.Status403Forbidden, pending);
        else if (user.Identity?.IsAuthenticated != true)
            refusal = (StatusCodes.Status401Unauthorized, BearerAuthenticationHandler.HasToken(context.Request) ? "The access token is invalid" : "Missing access token");
        else if (user.AccountId() is null)
            refusal = (StatusCodes.Status401Unauthorized, "This method requires an authenticated user");
        var scopes = user.FindAll(BearerAuthenticationHandler.ScopeClaim).Select(c => c.Value).ToArray();
        if (refusal is null && !anyOf.Any(s => Auth.Scopes.Covers(scopes, s)))
            refusal = (StatusCodes.Status401Unauthorized, "Access token does not have the required scopes");
        if (refusal is { } r)
        {
            await Results.Json(new ApiError(r.Message), statusCode: r.Status).ExecuteAsync(context);
            return null;
        }
        return scopes;
    }

    /// <summary>Waits (briefly) until this node listens for events; a stream opened before could miss the first ones.</summary>
    static async Task<bool> ListeningAsync(HttpContext context, StreamingHub hub)
    {
        try
        {
            await hub.Listening.WaitAsync(TimeSpan.FromSeconds(10), context.RequestAborted);
            return true;
        }
        catch (TimeoutException)
        {
            await Results.Json(new ApiError("Streaming is not available yet; try again shortly"), statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
            return false;
        }
    }
}
