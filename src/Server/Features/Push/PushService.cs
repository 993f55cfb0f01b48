using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Fellows.Federation.Html;
using Fellows.Server.Database;
using Fellows.Federation.Http;
using Fellows.Server.Features.Mastodon;
using Lib.Net.Http.WebPush;
using Lib.Net.Http.WebPush.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Fellows.Server.Features.Push;

/// <summary>Mastodon's WebPushSubscription entity.</summary>
public sealed record ApiPushSubscription(string Id, string Endpoint, bool Standard, IReadOnlyDictionary<string, bool> Alerts, string Policy, string ServerKey);

/// <summary>A subscription as stored.</summary>
public sealed record PushSubscriptionRow
{
    public required long Id { get; init; }
    public required long AccessTokenId { get; init; }
    public required long AccountId { get; init; }
    public required string Endpoint { get; init; }
    public required string P256dh { get; init; }
    public required string Auth { get; init; }
    public required string[] Alerts { get; init; }
    public required string Policy { get; init; }
    public required string ProtectedToken { get; init; }
}

/// <summary>
/// Web Push: members' apps subscribe with their push endpoint and keys; each new notification is encrypted
/// (RFC 8291, aes128gcm) and sent with a VAPID signature by Lib.Net.Http.WebPush, through the same address filter
/// as federation, so a subscription cannot make the server call into a private network.
/// </summary>
public sealed class PushService(NpgsqlDataSource db, IDataProtectionProvider protection, FederationHttpOptions httpOptions,
    Notifications.NotificationPresenter notifications, Configuration.InstanceUrls urls, Microsoft.Extensions.Options.IOptions<Configuration.InstanceOptions> options, ILogger<PushService> logger)
{
    public static readonly string[] AlertTypes = ["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update"];
    static readonly string[] Policies = ["all", "followed", "follower", "none"];

    readonly IDataProtector _protector = protection.CreateProtector("fellows.push.token");
    readonly HttpClient _http = FederationHttp.CreateClient(httpOptions);
    (string Public, string Private)? _keys;

    /// <summary>The VAPID key pair, made on first use and shared by every node through the database.</summary>
    public async Task<(string Public, string Private)> KeysAsync(CancellationToken ct)
    {
        if (_keys is { } known) return known;
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(string PublicKey, string PrivateKey)?>(new CommandDefinition(
            "SELECT public_key, private_key FROM vapid_keys WHERE id = 1", cancellationToken: ct));
        if (row is null)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var p = key.ExportParameters(includePrivateParameters: true);
            var publicKey = Base64Url([0x04, .. p.Q.X!, .. p.Q.Y!]);
            await conn.ExecuteAsync(new CommandDefinition(
                "INSERT INTO vapid_keys (id, public_key, private_key) VALUES (1, @publicKey, @privateKey) ON CONFLICT (id) DO NOTHING",
                new { publicKey, privateKey = Base64Url(p.D!) }, cancellationToken: ct));
            row = await conn.QuerySingleAsync<(string PublicKey, string PrivateKey)>(new CommandDefinition(
                "SELECT public_key, private_key FROM vapid_keys WHERE id = 1", cancellationToken: ct));
        }
        _keys = (row.Value.PublicKey, row.Value.PrivateKey);
        return _keys.Value;
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async Task<ApiPushSubscription> PresentAsync(PushSubscriptionRow row, CancellationToken ct) =>
        new(ApiResults.Id(row.Id), row.Endpoint, true, AlertTypes.ToDictionary(t => t, row.Alerts.Contains), row.Policy, (await KeysAsync(ct)).Public);

    public async Task<PushSubscriptionRow?> FindAsync(long tokenId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<PushSubscriptionRow>(new CommandDefinition(PushQueries.ByToken, new { tokenId }, cancellationToken: ct));
    }

    /// <summary>Creates or replaces the token's subscription.</summary>
    public async Task<Common.Result<PushSubscriptionRow>> SubscribeAsync(long tokenId, long accountId, string bearerToken, ApiParams p, CancellationToken ct)
    {
        var endpoint = p.Get("subscription[endpoint]");
        var p256dh = p.Get("subscription[keys][p256dh]");
        var auth = p.Get("subscription[keys][auth]");
        if (endpoint is null || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || endpoint.Length > 2048)
            return Common.Error.Validation("Validation failed: Endpoint must be an http(s) URL");
        if (!IsKey(p256dh, 65) || !IsKey(auth, 16))
            return Common.Error.Validation("Validation failed: keys must be the subscription's p256dh (65 bytes) and auth (16 bytes) in base64url");
        var policy = p.Get("data[policy]") ?? p.Get("policy") ?? "all";
        if (!Policies.Contains(policy)) return Common.Error.Validation("Validation failed: Policy is not included in the list");
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<PushSubscriptionRow>(new CommandDefinition(PushQueries.Upsert, new
        {
            tokenId, accountId, endpoint, p256dh, auth, alerts = ReadAlerts(p, []), policy, protectedToken = _protector.Protect(bearerToken),
        }, cancellationToken: ct));
    }

    /// <summary>Changes which notifications are pushed (and the policy); the endpoint stays.</summary>
    public async Task<Common.Result<PushSubscriptionRow>> UpdateAsync(long tokenId, ApiParams p, CancellationToken ct)
    {
        var current = await FindAsync(tokenId, ct);
        if (current is null) return Common.Error.NotFound();
        var policy = p.Get("data[policy]") ?? p.Get("policy") ?? current.Policy;
        if (!Policies.Contains(policy)) return Common.Error.Validation("Validation failed: Policy is not included in the list");
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<PushSubscriptionRow>(new CommandDefinition(
            $"UPDATE push_subscriptions SET alerts = @alerts, policy = @policy WHERE access_token_id = @tokenId RETURNING {PushQueries.Columns}",
            new { tokenId, alerts = ReadAlerts(p, current.Alerts), policy }, cancellationToken: ct));
    }

    public async Task<bool> UnsubscribeAsync(long tokenId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("DELETE FROM push_subscriptions WHERE access_token_id = @tokenId", new { tokenId }, cancellationToken: ct)) > 0;
    }

    static string[] ReadAlerts(ApiParams p, string[] current)
    {
        var alerts = current.ToHashSet();
        foreach (var type in AlertTypes)
            if (p.GetBool($"data[alerts][{type}]") is { } on)
            {
                if (on) alerts.Add(type);
                else alerts.Remove(type);
            }
        return AlertTypes.Where(alerts.Contains).ToArray();
    }

    static bool IsKey(string? value, int length)
    {
        if (value is null || value.Length > 200) return false;
        try
        {
            var padded = value.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            return Convert.FromBase64String(padded).Length == length;
        }
        catch (FormatException) { return false; }
    }

    /// <summary>Pushes one notification to its member's subscriptions, once across all nodes (the first to claim it).</summary>
    public async Task PushAsync(long notificationId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var n = await conn.QuerySingleOrDefaultAsync<PushQueries.Claimed>(new CommandDefinition(PushQueries.Claim, new { id = notificationId }, cancellationToken: ct));
        if (n is null) return;
        var subscriptions = (await conn.QueryAsync<PushSubscriptionRow>(new CommandDefinition(PushQueries.ForNotification,
            // Fellows kinds go to the subscriptions that take the Mastodon kind they are shown as.
            new { accountId = n.AccountId, type = Notifications.FellowsNotifications.ClientType(n.Type), from = n.FromAccountId }, cancellationToken: ct))).ToList();
        if (subscriptions.Count == 0) return;
        // Pushed only if the member's list would show it now: not from an account they muted (with its
        // notifications) or blocked either way, nor a server they blocked, nor about a post they can no longer see.
        if (await notifications.FindAsync(n.AccountId, n.Id, ct) is null) return;
        var keys = await KeysAsync(ct);
        // VAPID wants a way to reach the server's operator: an https URL or a mailto: address.
        var contact = options.Value.ContactEmail is { Length: > 0 } email ? $"mailto:{email}"
            : urls.Base.StartsWith("https://", StringComparison.Ordinal) ? urls.Base : $"mailto:admin@{new Uri(urls.Base).Host}";
        using var vapid = new VapidAuthentication(keys.Public, keys.Private) { Subject = contact };
        var client = new PushServiceClient(_http) { DefaultAuthentication = vapid, AutoRetryAfter = false };
        var name = n.DisplayName.Length > 0 ? n.DisplayName : n.Username;
        var title = n.Type switch
        {
            "mention" => $"{name} mentioned you",
            "status" => $"{name} just posted",
            "reblog" => $"{name} boosted your post",
            "follow" => $"{name} followed you",
            "follow_request" => $"{name} asked to follow you",
            "favourite" => $"{name} favourited your post",
            "poll" => "A poll has ended",
            "update" => $"{name} edited a post",
            Notifications.FellowsNotifications.MotionReminder => "Take a position before the deadline",
            Notifications.FellowsNotifications.MotionAmended => "A motion you took a position on was amended",
            Notifications.FellowsNotifications.OutcomeReview => "Does this decision still stand?",
            Notifications.FellowsNotifications.CommitmentDue => "A commitment of yours is due",
            _ => "New notification",
        };
        var body = RemoteHtml.ToPlainText(n.Content ?? "");
        if (body.Length > 140) body = body[..139] + "…";
        foreach (var s in subscriptions)
        {
            string token;
            try { token = _protector.Unprotect(s.ProtectedToken); }
            catch (CryptographicException) { continue; }
            var payload = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["access_token"] = token, ["preferred_locale"] = "en", ["notification_id"] = ApiResults.Id(n.Id),
                ["notification_type"] = Notifications.FellowsNotifications.ClientType(n.Type), ["icon"] = n.Avatar ?? $"{urls.Base}/avatars/original/missing.png", ["title"] = title, ["body"] = body,
            });
            var subscription = new PushSubscription { Endpoint = s.Endpoint };
            subscription.SetKey(PushEncryptionKeyName.P256DH, s.P256dh);
            subscription.SetKey(PushEncryptionKeyName.Auth, s.Auth);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            try
            {
                await client.RequestPushMessageDeliveryAsync(subscription, new PushMessage(payload) { TimeToLive = 48 * 3600, Urgency = PushMessageUrgency.Normal },
                    timeout.Token);
            }
            catch (PushServiceClientException e) when (e.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Gone)
            {
                // The push service forgot this subscription: so do we.
                await conn.ExecuteAsync(new CommandDefinition("DELETE FROM push_subscriptions WHERE id = @id", new { id = s.Id }, cancellationToken: ct));
            }
            catch (Exception e) when (e is PushServiceClientException or HttpRequestException or TaskCanceledException)
            {
                logger.LogInformation("Push to {Endpoint} failed: {Message}", s.Endpoint, e.Message);
            }
        }
    }
}

static class PushQueries
{
    public const string Columns = "id, access_token_id, account_id, endpoint, p256dh, auth, alerts, policy, protected_token";

    public const string ByToken = $"SELECT {Columns} FROM push_subscriptions WHERE access_token_id = @tokenId";

    public const string Upsert = $"""
        INSERT INTO push_subscriptions (access_token_id, account_id, endpoint, p256dh, auth, alerts, policy, protected_token)
        VALUES (@tokenId, @accountId, @endpoint, @p256dh, @auth, @alerts, @policy, @protectedToken)
        ON CONFLICT (access_token_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth,
            alerts = excluded.alerts, policy = excluded.policy, protected_token = excluded.protected_token
        RETURNING {Columns}
        """;

    public sealed record Claimed
    {
        public required long Id { get; init; }
        public required long AccountId { get; init; }
        public required long FromAccountId { get; init; }
        public required string Type { get; init; }
        public required string Username { get; init; }
        public required string DisplayName { get; init; }
        public string? Avatar { get; init; }
        public string? Content { get; init; }
    }

    public const string Claim = """
        WITH n AS (UPDATE notifications SET pushed_at = now() WHERE id = @id AND pushed_at IS NULL
                   RETURNING id, account_id, from_account_id, type, status_id)
        SELECT n.id, n.account_id, n.from_account_id, n.type, a.username, a.display_name, a.avatar_url AS avatar, s.content
        FROM n JOIN accounts a ON a.id = n.from_account_id LEFT JOIN statuses s ON s.id = n.status_id
        """;

    /// <summary>Live subscriptions that want this type, under their policy (everyone, people followed, followers, nobody).</summary>
    public const string ForNotification = """
        SELECT p.id, p.access_token_id, p.account_id, p.endpoint, p.p256dh, p.auth, p.alerts, p.policy, p.protected_token FROM push_subscriptions p
        JOIN oauth_access_tokens t ON t.id = p.access_token_id AND t.revoked_at IS NULL
        WHERE p.account_id = @accountId AND @type = ANY(p.alerts)
          AND (p.policy = 'all'
               OR (p.policy = 'followed' AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @accountId AND f.target_account_id = @from))
               OR (p.policy = 'follower' AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = @from AND f.target_account_id = @accountId)))
        """;
}

/// <summary>
/// Listens for new notifications (a trigger announces each) and pushes them. Announcements made while no node was
/// listening are lost, so after every (re)connect the worker also looks for recent notifications nobody has claimed
/// and pushes those: an outage of the listener delays a push, it does not drop it.
/// </summary>
public sealed class PushWorker(NpgsqlDataSource db, PushService push, ILogger<PushWorker> log) : BackgroundService
{
    /// <summary>Stands for "look for missed notifications" in the queue of ids.</summary>
    const long CatchUp = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = System.Threading.Channels.Channel.CreateUnbounded<long>();
        var sender = Task.Run(async () =>
        {
            await foreach (var id in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    if (id == CatchUp)
                    {
                        foreach (var missed in await MissedAsync(stoppingToken)) await push.PushAsync(missed, stoppingToken);
                    }
                    else await push.PushAsync(id, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // One bad subscription or message must not stop pushes for everyone else.
                    log.LogWarning(e, "Push of notification {Id} failed", id);
                }
            }
        }, stoppingToken);
        await PostgresListener.RunAsync(db, ["fellows_notification"], e =>
        {
            if (long.TryParse(e.Payload, out var id)) queue.Writer.TryWrite(id);
        }, () => queue.Writer.TryWrite(CatchUp), log, stoppingToken);
        queue.Writer.TryComplete();
        try { await sender; } catch (OperationCanceledException) { }
    }

    /// <summary>
    /// Unclaimed notifications of the last day for members with a subscription, oldest first. Older ones are no longer
    /// news worth a push (apps show them when opened); claiming keeps two nodes catching up at once from sending twice.
    /// The lower bound is the id <c>fellows_id</c> gives that moment, written out so the primary key can be used.
    /// </summary>
    async Task<IReadOnlyList<long>> MissedAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(new CommandDefinition("""
            SELECT n.id FROM notifications n
            WHERE n.id > (floor(extract(epoch FROM now() - interval '1 day') * 1000)::bigint << 16) AND n.pushed_at IS NULL
              AND n.account_id IN (SELECT account_id FROM push_subscriptions)
            ORDER BY n.id LIMIT 1000
            """, cancellationToken: ct))).ToList();
    }
}
