using System.Security.Cryptography;
using Fellows.Federation.Json;
using Fellows.Federation.Signatures;
using Fellows.Federation.Vocabulary;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Federation;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;

namespace Fellows.Server.Features.Inbox;

/// <summary>
/// Personal and shared inboxes: size cap, JSON limits, signature, origin, then the raw activity is stored
/// durably and answered 202; the inbox worker applies it. Nothing here trusts the body before the signature.
/// </summary>
public static class InboxEndpoints
{
    public static void MapInboxEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Inbox");
        group.MapPost("/inbox", Receive).WithName("SharedInbox");
        group.MapPost("/actor/inbox", Receive).WithName("InstanceActorInbox");
        group.MapPost("/users/{username}/inbox", Receive).WithName("PersonalInbox");
    }

    static IResult Refuse(int status, string reason) => Results.Json(new { error = reason }, statusCode: status);

    public static async Task<IResult> Receive(HttpContext context, string? username, InboxTargets targets,
        RequestSignatures signatures, InboxWriter writer, TimeProvider clock, ILogger<InboxMarker> logger, CancellationToken ct)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = JsonLimits.MaxBytes;
        ReadOnlyMemory<byte> body;
        try
        {
            // Sized from Content-Length when the sender gave one, and read in place: no growing, no copy at the end.
            var buffer = new MemoryStream((int)Math.Min(context.Request.ContentLength ?? 4096, JsonLimits.MaxBytes + 1L));
            await context.Request.Body.CopyToAsync(buffer, ct);
            body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Refuse(413, "body too large");
        }
        if (body.Length > JsonLimits.MaxBytes) return Refuse(413, "body too large");

        var parsed = JsonLimits.Parse(body);
        if (!parsed.IsSuccess) return Refuse(parsed.Failure == JsonReadFailure.TooLarge ? 413 : 400, parsed.Error!);
        using var document = parsed.Document!;
        if (!RemoteActivity.TryRead(document.RootElement, out var activity, out var error)) return Refuse(400, error);

        if (!Uri.TryCreate(activity.Actor, UriKind.Absolute, out var actorUri)) return Refuse(400, "actor is not a URL");
        // One look before the (possibly expensive) signature check: is the actor's domain, or a parent domain,
        // suspended here, and does the addressed inbox exist? Concurrent POSTs share the round trip.
        var target = await targets.FindAsync(RemoteHost.Of(actorUri), username, ct);
        if (target.Blocked) return Refuse(403, "domain is blocked");
        if (username is not null && target.RecipientId is null) return Results.NotFound();

        // Signature, in either format; the key is fetched when unknown and refetched once if it no longer verifies.
        var check = await signatures.VerifyAsync(signatures.Describe(context, body), ct);
        if (check.Key is not { } key)
        {
            // An actor deleting itself is usually already gone (410), so its key can't be fetched: nothing of
            // ours can be affected by a Delete we can't verify of an actor we don't know. Accept it quietly.
            if (check.KeyUnavailable && activity.Type == "Delete" && activity.ObjectId == activity.Actor)
                return Results.Accepted();
            return Refuse(401, check.Failure!);
        }
        var keyId = key.KeyId;
        var now = clock.GetUtcNow();

        // Origin: the key speaks only for its own actor.
        if (!key.IsOwnedBy(activity.Actor))
        {
            logger.LogWarning("Key {KeyId} of {Owner} signed an activity of {Actor}", keyId, key.OwnerId, activity.Actor);
            return Refuse(401, "signing key does not belong to the activity's actor");
        }
        if (activity.Id is { } activityId && !RemoteActors.SameOrigin(activityId, activity.Actor))
            return Refuse(400, "activity id is not on the actor's origin");

        // Activities without an id (transient ones) are identified by their content, so a replay is still caught.
        var id = activity.Id ?? "urn:sha256:" + Convert.ToHexStringLower(SHA256.HashData(body.Span));
        // Answered only once the row has committed (the writer batches concurrent POSTs into one transaction);
        // a replay is answered 202 too, and stored once.
        try
        {
            await writer.StoreAsync(new InboxRow(id, activity.Type, activity.Actor, keyId, target.RecipientId,
                System.Text.Encoding.UTF8.GetString(body.Span), now), ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning(e, "Could not store {Type} {Id}", activity.Type, id);
            return Refuse(503, "the activity could not be stored; try again later");
        }
        return Results.Accepted();
    }

    /// <summary>Category type for the inbox logger.</summary>
    public sealed class InboxMarker;
}

static class InboxQueries
{
    /// <summary>
    /// Sent in the same round trip before <see cref="Targets"/> and <see cref="InsertMany"/>, which then run in the
    /// same implicit transaction with PostgreSQL's cached generic plan. The connection asks for a fresh plan on every
    /// execution (<c>plan_cache_mode=force_custom_plan</c>, for the timelines' optional filters); these two take
    /// only arrays, so a fresh plan is never better, and planning them was about a quarter of PostgreSQL's CPU per
    /// inbox POST (docs/benchmarks.md). Local to the transaction: the pooled connection keeps its own setting.
    /// </summary>
    public const string GenericPlan = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true);\n";

    /// <summary>
    /// One batch of <see cref="InboxTargets"/>: per POST (by its 1-based position), whether any of its actor's
    /// block candidates is suspended, and the addressed local account.
    /// </summary>
    public const string Targets = """
        SELECT r.ord,
               EXISTS (SELECT 1 FROM unnest(@candidateOrds::int[], @candidates::text[]) AS c (ord, domain)
                       JOIN domain_blocks d ON d.domain = c.domain AND d.severity = 'suspend'
                       WHERE c.ord = r.ord) AS blocked,
               (SELECT a.id FROM accounts a
                WHERE r.username IS NOT NULL AND lower(a.username) = lower(r.username) AND a.domain IS NULL) AS recipient_id
        FROM unnest(@usernames::text[]) WITH ORDINALITY AS r (username, ord)
        """;

    /// <summary>
    /// One batch of the <see cref="InboxWriter"/>: replays collide on the activity id and are dropped (no id comes
    /// back for them), also two rows of one id in the same batch. No NOTIFY here: see <see cref="InboxSignals"/>.
    /// </summary>
    public const string InsertMany = """
        INSERT INTO inbox_activities (activity_id, activity_type, actor_uri, key_id, recipient_account_id, body, received_at, next_attempt_at)
        SELECT r.activity_id, r.activity_type, r.actor_uri, r.key_id, r.recipient_account_id, r.body, r.received_at, r.received_at
        FROM unnest(@ids::text[], @types::text[], @actors::text[], @keys::text[], @recipients::bigint[], @bodies::text[], @times::timestamptz[])
             AS r (activity_id, activity_type, actor_uri, key_id, recipient_account_id, body, received_at)
        ON CONFLICT (activity_id) DO NOTHING
        RETURNING activity_id
        """;

    public const string Claim = """
        UPDATE inbox_activities SET attempts = attempts + 1, next_attempt_at = @leaseUntil
        WHERE id IN (SELECT id FROM inbox_activities WHERE state = 0 AND next_attempt_at <= @now
                     ORDER BY id LIMIT @batch FOR UPDATE SKIP LOCKED)
        RETURNING id, activity_id, activity_type, actor_uri, recipient_account_id, body, attempts
        """;

    public const string Done = "UPDATE inbox_activities SET state = 1, processed_at = @now, last_error = NULL WHERE id = ANY(@ids)";
    public const string Failed = "UPDATE inbox_activities SET state = CASE WHEN attempts >= 5 THEN 2 ELSE 0 END, next_attempt_at = @retryAt, last_error = @error WHERE id = @id";
}
