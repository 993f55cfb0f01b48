using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Deliberation;
using Fellows.Federation.Vocabulary;

namespace Fellows.Federation.Groups;

/// <summary>
/// A co-op group's statement that an actor is one of its members (<c>fellows:Membership</c>): what lets another
/// server check that a remote voter is vouched for by their home co-op. The group signs it with an
/// <c>eddsa-jcs-2022</c> integrity proof (FEP-8b32) made with the group's own Ed25519 key, so it can be checked
/// without trusting the connection it came over, and it carries an <c>endTime</c> after which it no longer counts.
/// </summary>
/// <param name="Id">Where the attestation is fetched: the group's membership endpoint with <c>?member=</c>.</param>
/// <param name="Group">The Group actor that vouches (<c>attributedTo</c>).</param>
/// <param name="Member">The actor vouched for (<c>member</c>).</param>
/// <param name="Published">When it was issued.</param>
/// <param name="EndTime">When it stops counting.</param>
public sealed record MembershipAttestation(string Id, string Group, string Member, DateTimeOffset Published, DateTimeOffset EndTime)
{
    /// <summary>The extension type, as a compact IRI so plain ActivityStreams readers see an unknown object.</summary>
    public const string Type = "fellows:Membership";

    /// <summary>The actor property naming the endpoint that answers attestations (<c>fellows:membership</c>).</summary>
    public const string EndpointProperty = "membership";

    /// <summary>The actor property naming the members collection (<c>fellows:members</c>).</summary>
    public const string MembersProperty = "members";

    /// <summary>The instance actor's property naming its co-op group (<c>fellows:coop</c>).</summary>
    public const string CoopProperty = "coop";

    /// <summary>The attestation URL for <paramref name="member"/> at a group's <paramref name="endpoint"/>.</summary>
    public static string UrlFor(string endpoint, string member) =>
        $"{endpoint}{(endpoint.Contains('?', StringComparison.Ordinal) ? '&' : '?')}member={Uri.EscapeDataString(member)}";

    /// <summary>The unsigned document; sign it with <see cref="Proofs.IntegrityProof.Sign"/> before serving.</summary>
    public JsonObject ToDocument(string contextUrl) => new()
    {
        ["@context"] = DeliberationVocabulary.DocumentContext(contextUrl),
        ["id"] = Id,
        ["type"] = Type,
        ["attributedTo"] = Group,
        [MemberProperty] = Member,
        ["published"] = ActivityPubWriter.Timestamp(Published),
        ["endTime"] = ActivityPubWriter.Timestamp(EndTime),
    };

    /// <summary>The attestation's property naming the member (<c>fellows:member</c>).</summary>
    public const string MemberProperty = "member";

    /// <summary>
    /// Reads an attestation's fields. The proof is not checked here: verify it with the group's key and check
    /// <see cref="Group"/>, <see cref="Member"/> and <see cref="EndTime"/> against what was asked.
    /// </summary>
    public static bool TryRead(JsonElement document, [NotNullWhen(true)] out MembershipAttestation? attestation, [NotNullWhen(false)] out string? error)
    {
        attestation = null;
        if (document.ValueKind != JsonValueKind.Object) { error = "not an object"; return false; }
        if (!HasType(document)) { error = "not a fellows:Membership"; return false; }
        var id = String(document, "id");
        var group = String(document, "attributedTo");
        var member = String(document, MemberProperty);
        if (id is null || group is null || member is null) { error = "id, attributedTo and member are required"; return false; }
        if (!DateTimeOffset.TryParse(String(document, "published"), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var published)
            || !DateTimeOffset.TryParse(String(document, "endTime"), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var end))
        {
            error = "published and endTime must be dates";
            return false;
        }
        attestation = new MembershipAttestation(id, group, member, published, end);
        error = null;
        return true;
    }

    static bool HasType(JsonElement document)
    {
        if (!document.TryGetProperty("type", out var type)) return false;
        static bool Is(JsonElement t) => t.ValueKind == JsonValueKind.String
            && t.GetString() is Type or "Membership" or DeliberationVocabulary.Namespace + "Membership";
        return type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Any(Is) : Is(type);
    }

    static string? String(JsonElement document, string name) =>
        document.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
