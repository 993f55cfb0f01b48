using Dapper;
using Fellows.Server.Configuration;
using Fellows.Server.Features.Accounts;
using Fellows.Server.Features.Delivery;
using Fellows.Server.Features.Federation;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Fellows.Server.Features.ActivityPub;

/// <summary>
/// Signed GETs ("authorized fetch"). A signed request is verified whatever the mode: a bad signature is a 401, a
/// suspended domain a 403, and a good one names who is asking, so a follower's server can fetch a followers-only
/// post. With <c>Instance:AuthorizedFetch</c> on, unsigned requests for ActivityPub documents are refused, except
/// the instance actor and a key-only view of each actor, which must stay fetchable to break the chicken-and-egg of
/// two servers each waiting for the other's key.
/// </summary>
public sealed class FetchAuthorization(RequestSignatures signatures, RemoteActors actors, NpgsqlDataSource db, IOptions<InstanceOptions> options)
    : IEndpointFilter
{
    const string SignerKey = "fellows.fetch.signer";
    const string UnsignedKey = "fellows.fetch.unsigned";

    public bool Required => options.Value.AuthorizedFetch;

    /// <summary>The verified account that signed the request, or null for an anonymous one.</summary>
    public static Account? SignerOf(HttpContext context) => context.Items[SignerKey] as Account;

    /// <summary>True when the request carried no signature and this server requires one (the actor gets a key-only view).</summary>
    public static bool IsUnsignedInAuthorizedMode(HttpContext context) => context.Items.ContainsKey(UnsignedKey);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var ct = http.RequestAborted;
        if (!RequestSignatures.IsSigned(http.Request))
        {
            if (Required)
            {
                var endpoint = http.GetEndpoint()?.Metadata.GetMetadata<EndpointNameMetadata>()?.EndpointName;
                var wantsJson = ActivityPubEndpoints.WantsActivityJson(http.Request);
                // A browser asking for an actor or a note is sent to its web page; the actor document stays
                // readable in a key-only form; everything else needs a signature.
                if (endpoint is "Actor" or "Note" && !wantsJson) return await next(context);
                if (endpoint != "Actor") return Refuse(401, "this server requires signed requests (authorized fetch)");
                http.Items[UnsignedKey] = true;
            }
            return await next(context);
        }

        var check = await signatures.VerifyAsync(signatures.Describe(http), ct);
        if (check.Key is not { } key) return Refuse(401, check.Failure!);
        if (Uri.TryCreate(key.OwnerId, UriKind.Absolute, out var owner))
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var blocked = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM domain_blocks WHERE domain = ANY(@candidates) AND severity = 'suspend')",
                new { candidates = RemoteHost.BlockCandidates(RemoteHost.Of(owner)).ToArray() }, cancellationToken: ct));
            if (blocked) return Refuse(403, "domain is blocked");
        }
        http.Items[SignerKey] = await actors.ResolveAsync(key.OwnerId, forceRefresh: false, ct);
        return await next(context);
    }

    static IResult Refuse(int status, string reason) => Results.Json(new { error = reason }, statusCode: status);
}
