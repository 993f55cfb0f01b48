using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fellows.Federation.Json;

namespace Fellows.Federation.Discovery;

/// <summary>A link in a JRD. A link has either <see cref="Href"/> or <see cref="Template"/> (OStatus subscribe).</summary>
public sealed record JrdLink(string Rel, string? Type = null, string? Href = null, string? Template = null);

/// <summary>A JSON Resource Descriptor (RFC 7033), the body of a WebFinger answer.</summary>
public sealed record Jrd(string Subject, IReadOnlyList<string> Aliases, IReadOnlyList<JrdLink> Links)
{
    /// <summary>The media type of a JRD.</summary>
    public const string MediaType = "application/jrd+json";

    /// <summary>The link relation of a profile page.</summary>
    public const string ProfilePageRel = "http://webfinger.net/rel/profile-page";

    /// <summary>The link relation of the ActivityPub actor (RFC 7033 <c>self</c>).</summary>
    public const string SelfRel = "self";

    /// <summary>The OStatus remote-follow template relation, still used by Mastodon's "follow from your server".</summary>
    public const string SubscribeRel = "http://ostatus.org/schema/1.0/subscribe";

    /// <summary>
    /// The ActivityPub actor id: the <c>self</c> link of type activity+json (or the ActivityStreams ld+json profile).
    /// </summary>
    public string? ActorId
    {
        get
        {
            foreach (var link in Links)
            {
                if (link.Rel == SelfRel && link.Href is not null && link.Type is { } type
                    && (type.StartsWith(ActivityStreams.ActivityJson, StringComparison.OrdinalIgnoreCase)
                        || (type.StartsWith("application/ld+json", StringComparison.OrdinalIgnoreCase)
                            && type.Contains(ActivityStreams.Context, StringComparison.Ordinal))))
                {
                    return link.Href;
                }
            }

            return null;
        }
    }

    /// <summary>The JRD for one of our actors: subject, aliases, profile page, self and subscribe template.</summary>
    public static Jrd ForActor(string handle, string actorId, string? profileUrl, string? subscribeTemplate)
    {
        var aliases = new List<string>();
        if (profileUrl is not null)
        {
            aliases.Add(profileUrl);
        }

        aliases.Add(actorId);
        var links = new List<JrdLink>();
        if (profileUrl is not null)
        {
            links.Add(new JrdLink(ProfilePageRel, "text/html", profileUrl));
        }

        links.Add(new JrdLink(SelfRel, ActivityStreams.ActivityJson, actorId));
        if (subscribeTemplate is not null)
        {
            links.Add(new JrdLink(SubscribeRel, Template: subscribeTemplate));
        }

        return new Jrd("acct:" + handle, aliases, links);
    }

    /// <summary>Writes the JRD with properties in a fixed order.</summary>
    public JsonObject ToJson()
    {
        var aliases = new JsonArray();
        foreach (var alias in Aliases)
        {
            aliases.Add(alias);
        }

        var links = new JsonArray();
        foreach (var link in Links)
        {
            var json = new JsonObject { ["rel"] = link.Rel };
            if (link.Type is not null)
            {
                json["type"] = link.Type;
            }

            if (link.Href is not null)
            {
                json["href"] = link.Href;
            }

            if (link.Template is not null)
            {
                json["template"] = link.Template;
            }

            links.Add(json);
        }

        return new JsonObject { ["subject"] = Subject, ["aliases"] = aliases, ["links"] = links };
    }

    /// <summary>Reads a remote JRD. Links without <c>rel</c> are skipped; a missing subject fails.</summary>
    public static bool TryRead(JsonElement json, [NotNullWhen(true)] out Jrd? jrd, [NotNullWhen(false)] out string? error)
    {
        jrd = null;
        if (json.GetString("subject") is not { Length: > 0 } subject)
        {
            error = "JRD has no subject";
            return false;
        }

        var aliases = new List<string>();
        foreach (var alias in json.GetItems("aliases"))
        {
            if (alias.ValueKind == JsonValueKind.String && alias.GetString() is { Length: > 0 } text)
            {
                aliases.Add(text);
            }
        }

        var links = new List<JrdLink>();
        foreach (var link in json.GetItems("links"))
        {
            if (link.GetString("rel") is { Length: > 0 } rel)
            {
                links.Add(new JrdLink(rel, link.GetString("type"), link.GetString("href"), link.GetString("template")));
            }
        }

        jrd = new Jrd(subject, aliases, links);
        error = null;
        return true;
    }
}

/// <summary>
/// A fediverse handle, <c>user@host</c>. <see cref="Host"/> is the lower-case ASCII (punycode) form and may carry a
/// port, as test and loopback instances do (<c>alice@127.0.0.1:8181</c>).
/// </summary>
public sealed record AccountHandle(string User, string Host)
{
    private static readonly IdnMapping Idn = new();

    /// <summary>The WebFinger resource, <c>acct:user@host</c>.</summary>
    public string Resource => $"acct:{User}@{Host}";

    /// <inheritdoc/>
    public override string ToString() => $"{User}@{Host}";

    /// <summary>
    /// Parses <c>acct:user@host</c>, <c>@user@host</c> or <c>user@host</c>. Internationalised host names are converted
    /// to punycode so that the same server always yields the same key.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out AccountHandle? handle)
    {
        handle = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var value = text.Trim();
        if (value.StartsWith("acct:", StringComparison.OrdinalIgnoreCase))
        {
            value = value[5..];
        }

        if (value.StartsWith('@'))
        {
            value = value[1..];
        }

        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1)
        {
            return false;
        }

        var user = value[..at];
        var host = value[(at + 1)..];
        if (user.Contains('@', StringComparison.Ordinal) || !IsValidUser(user))
        {
            return false;
        }

        if (NormaliseHost(host) is not { } normalised)
        {
            return false;
        }

        handle = new AccountHandle(user, normalised);
        return true;
    }

    /// <summary>Lower-cases and punycode-encodes a host, keeping a port; null when it is not a valid host.</summary>
    public static string? NormaliseHost(string host)
    {
        string name = host;
        string? port = null;
        if (host.StartsWith('['))
        {
            // IPv6 literal: keep as is, lower-cased.
            var close = host.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            name = host[..(close + 1)];
            if (close + 1 < host.Length)
            {
                if (host[close + 1] != ':')
                {
                    return null;
                }

                port = host[(close + 2)..];
            }
        }
        else
        {
            var colon = host.LastIndexOf(':');
            if (colon >= 0)
            {
                name = host[..colon];
                port = host[(colon + 1)..];
            }
        }

        if (port is not null && (!ushort.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number == 0))
        {
            return null;
        }

        if (!name.StartsWith('['))
        {
            try
            {
                name = Idn.GetAscii(name.TrimEnd('.')).ToLowerInvariant();
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
        else
        {
            name = name.ToLowerInvariant();
        }

        if (Uri.CheckHostName(name.Trim('[', ']')) == UriHostNameType.Unknown)
        {
            return null;
        }

        return port is null ? name : $"{name}:{port}";
    }

    private static bool IsValidUser(string user)
    {
        foreach (var c in user)
        {
            // Usernames are letters, digits, '_', '.', '-' and '~' across servers; anything else (spaces, slashes,
            // control characters) would only ever be an attempt to smuggle something into a URL.
            if (!(char.IsLetterOrDigit(c) || c is '_' or '.' or '-' or '~' or '+'))
            {
                return false;
            }
        }

        return true;
    }
}
