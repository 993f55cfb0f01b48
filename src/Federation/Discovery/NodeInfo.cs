using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Fellows.Federation.Discovery;

/// <summary>The facts a NodeInfo document reports about this server.</summary>
public sealed record NodeInfoData
{
    /// <summary>Software name: lower-case letters, digits and '-', as the schema requires.</summary>
    public required string SoftwareName { get; init; }

    public required string SoftwareVersion { get; init; }

    /// <summary>Source repository (2.1 only).</summary>
    public string? Repository { get; init; }

    /// <summary>Project home page (2.1 only).</summary>
    public string? Homepage { get; init; }

    public required long UsersTotal { get; init; }
    public long? ActiveMonth { get; init; }
    public long? ActiveHalfyear { get; init; }
    public long? LocalPosts { get; init; }
    public bool OpenRegistrations { get; init; }

    /// <summary>Free-form metadata (node name, description…); written as given.</summary>
    public JsonObject? Metadata { get; init; }
}

/// <summary>The NodeInfo schema versions we serve.</summary>
public enum NodeInfoVersion
{
    /// <summary>NodeInfo 2.0, still the one most crawlers ask for.</summary>
    V20,

    /// <summary>NodeInfo 2.1, which adds software repository and homepage.</summary>
    V21,
}

/// <summary>Writes NodeInfo 2.0 / 2.1 documents and the <c>/.well-known/nodeinfo</c> discovery document.</summary>
public static class NodeInfo
{
    /// <summary>The schema URI of NodeInfo 2.0, used as the link relation.</summary>
    public const string Schema20 = "http://nodeinfo.diaspora.software/ns/schema/2.0";

    /// <summary>The schema URI of NodeInfo 2.1, used as the link relation.</summary>
    public const string Schema21 = "http://nodeinfo.diaspora.software/ns/schema/2.1";

    /// <summary>The <c>/.well-known/nodeinfo</c> document pointing at both versions.</summary>
    public static JsonObject WellKnown(string nodeInfo20Url, string nodeInfo21Url) => new()
    {
        ["links"] = new JsonArray
        {
            new JsonObject { ["rel"] = Schema20, ["href"] = nodeInfo20Url },
            new JsonObject { ["rel"] = Schema21, ["href"] = nodeInfo21Url },
        },
    };

    /// <summary>A NodeInfo document of the given version (2.1 by default).</summary>
    public static JsonObject Document(NodeInfoData data, NodeInfoVersion version = NodeInfoVersion.V21)
    {
        var software = new JsonObject { ["name"] = data.SoftwareName, ["version"] = data.SoftwareVersion };
        if (version == NodeInfoVersion.V21)
        {
            // repository and homepage were added in 2.1; 2.0 validators reject unknown keys.
            if (data.Repository is not null)
            {
                software["repository"] = data.Repository;
            }

            if (data.Homepage is not null)
            {
                software["homepage"] = data.Homepage;
            }
        }

        var users = new JsonObject { ["total"] = data.UsersTotal };
        if (data.ActiveMonth is { } month)
        {
            users["activeMonth"] = month;
        }

        if (data.ActiveHalfyear is { } halfyear)
        {
            users["activeHalfyear"] = halfyear;
        }

        var usage = new JsonObject { ["users"] = users };
        if (data.LocalPosts is { } posts)
        {
            usage["localPosts"] = posts;
        }

        return new JsonObject
        {
            ["version"] = VersionString(version),
            ["software"] = software,
            ["protocols"] = new JsonArray { "activitypub" },
            ["services"] = new JsonObject { ["inbound"] = new JsonArray(), ["outbound"] = new JsonArray() },
            ["openRegistrations"] = data.OpenRegistrations,
            ["usage"] = usage,
            ["metadata"] = data.Metadata?.DeepClone() ?? new JsonObject(),
        };
    }

    /// <summary>The profile media type a NodeInfo document is served with.</summary>
    public static string MediaType(NodeInfoVersion version) =>
        $"application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{VersionString(version)}#\"";

    /// <summary>"2.0" or "2.1".</summary>
    public static string VersionString(NodeInfoVersion version) => version == NodeInfoVersion.V20 ? "2.0" : "2.1";
}

/// <summary>
/// The <c>/.well-known/host-meta</c> document (RFC 6415). Old clients and a few servers still find WebFinger
/// through its <c>lrdd</c> template rather than assuming the well-known path.
/// </summary>
public static class HostMeta
{
    /// <summary>The XRD media type.</summary>
    public const string XrdMediaType = "application/xrd+xml";

    /// <summary>The lrdd template for <paramref name="origin"/>, e.g. <c>https://example.org</c>.</summary>
    public static string LrddTemplate(string origin) => origin.TrimEnd('/') + "/.well-known/webfinger?resource={uri}";

    /// <summary>The XRD (XML) form.</summary>
    public static string Xml(string origin)
    {
        var template = WebUtility.HtmlEncode(LrddTemplate(origin));
        var xml = new StringBuilder();
        xml.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.Append("<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n");
        xml.Append("  <Link rel=\"lrdd\" template=\"").Append(template).Append("\"/>\n");
        xml.Append("</XRD>\n");
        return xml.ToString();
    }

    /// <summary>The JRD (JSON) form, served for <c>host-meta.json</c>.</summary>
    public static JsonObject Json(string origin) => new()
    {
        ["links"] = new JsonArray
        {
            new JsonObject { ["rel"] = "lrdd", ["template"] = LrddTemplate(origin) },
        },
    };
}
