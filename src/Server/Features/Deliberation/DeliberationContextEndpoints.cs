using System.Security.Cryptography;
using Fellows.Federation.Deliberation;
using Microsoft.Net.Http.Headers;

namespace Fellows.Server.Features.Deliberation;

/// <summary>
/// Serves the Fellows JSON-LD context at <see cref="DeliberationVocabulary.ContextPath"/>. Every instance serves the
/// same bytes (the file embedded in the protocol library), so documents from any instance expand alike.
/// </summary>
public static class DeliberationContextEndpoints
{
    // The context changes only with a release; a day of caching spares processors that fetch it per document,
    // and the ETag lets them revalidate for free.
    private const string CacheControl = "public, max-age=86400";

    private static readonly Lazy<string> ETag = new(() =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(DeliberationVocabulary.ContextDocument.Span))[..32] + "\"");

    public static void MapDeliberationContextEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(DeliberationVocabulary.ContextPath, Context).WithTags("Deliberation").WithName("FellowsContext");
    }

    /// <summary>The context as <c>application/ld+json</c>, cacheable, readable from any origin (JSON-LD processors in browsers).</summary>
    public static IResult Context(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        headers.CacheControl = CacheControl;
        headers.ETag = ETag.Value;
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
            && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Equals(ETag.Value)))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(DeliberationVocabulary.ContextDocument.ToArray(), DeliberationVocabulary.ContextMediaType);
    }
}
