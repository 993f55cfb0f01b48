using System.Globalization;
using System.Text.Json;

namespace Fellows.Federation.Json;

/// <summary>
/// Tolerant accessors over compacted JSON-LD as servers really send it. ActivityStreams lets nearly every property be
/// a string, an object, an array of either, or absent, and servers use all of these. Every accessor here returns
/// "absent" (null or empty) for a shape it does not understand and never throws, so one odd field from a peer
/// cannot fail a whole activity.
/// </summary>
public static class JsonLd
{
    /// <summary>The value of property <paramref name="name"/> when this is an object that has it and it is not null.</summary>
    public static bool TryGetValue(this JsonElement element, string name, out JsonElement value)
    {
        if (element.ValueKind == JsonValueKind.Object
            && element.TryGetProperty(name, out value)
            && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Property <paramref name="name"/> when it is a string; null for any other shape.</summary>
    public static string? GetString(this JsonElement element, string name) =>
        element.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// The identifier this value stands for: the string itself, or the <c>id</c> (or, for a Link, <c>href</c>) of an object.
    /// For an array, the first element that yields one.
    /// </summary>
    public static string? AsId(this JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var text = value.GetString();
                return string.IsNullOrWhiteSpace(text) ? null : text;
            case JsonValueKind.Object:
                return value.GetString("id") ?? value.GetString("href");
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    // Only one level: an id is never an array of arrays, and recursing would let a peer choose our stack depth.
                    if (item.ValueKind is JsonValueKind.String or JsonValueKind.Object && item.AsId() is { } id)
                    {
                        return id;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>The identifier property <paramref name="name"/> refers to (see <see cref="AsId"/>).</summary>
    public static string? GetId(this JsonElement element, string name) =>
        element.TryGetValue(name, out var value) ? value.AsId() : null;

    /// <summary>Every identifier property <paramref name="name"/> refers to, whether it holds one value or an array.</summary>
    public static IReadOnlyList<string> GetIds(this JsonElement element, string name)
    {
        if (!element.TryGetValue(name, out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return value.AsId() is { } single ? [single] : [];
        }

        var ids = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind is JsonValueKind.String or JsonValueKind.Object && item.AsId() is { } id)
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    /// <summary>The values of property <paramref name="name"/>: each element of an array, the value itself otherwise.</summary>
    public static IEnumerable<JsonElement> GetItems(this JsonElement element, string name)
    {
        if (!element.TryGetValue(name, out var value))
        {
            yield break;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                yield return item;
            }
        }
        else
        {
            yield return value;
        }
    }

    /// <summary>The object property <paramref name="name"/> holds, or the first object in its array.</summary>
    public static JsonElement? GetObject(this JsonElement element, string name)
    {
        foreach (var item in element.GetItems(name))
        {
            if (item.ValueKind == JsonValueKind.Object)
            {
                return item;
            }
        }

        return null;
    }

    /// <summary>The <c>type</c> values of an object, whether <c>type</c> is a string or an array.</summary>
    public static IReadOnlyList<string> GetTypes(this JsonElement element)
    {
        if (!element.TryGetValue("type", out var value))
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString() is { Length: > 0 } single ? [single] : [];
        }

        var types = new List<string>();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } type)
                {
                    types.Add(type);
                }
            }
        }

        return types;
    }

    /// <summary>
    /// The first <c>type</c> of an object, skipping JSON-LD expanded IRIs when a short name is also given
    /// (some servers send <c>["Person", "https://example/ns#Bot"]</c>).
    /// </summary>
    public static string? GetPrimaryType(this JsonElement element)
    {
        var types = element.GetTypes();
        foreach (var type in types)
        {
            if (!type.Contains(':', StringComparison.Ordinal))
            {
                return type;
            }
        }

        return types.Count > 0 ? StripAsPrefix(types[0]) : null;
    }

    /// <summary>True when one of the object's types is <paramref name="type"/> (also as <c>as:Type</c> or the full IRI).</summary>
    public static bool HasType(this JsonElement element, string type)
    {
        foreach (var candidate in element.GetTypes())
        {
            if (string.Equals(StripAsPrefix(candidate), type, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Property <paramref name="name"/> as a boolean. Accepts <c>"true"</c>/<c>"false"</c> strings, which some
    /// servers emit for Mastodon's extension flags.
    /// </summary>
    public static bool? GetBoolean(this JsonElement element, string name)
    {
        if (!element.TryGetValue(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(value.GetString(), out var parsed) => parsed,
            _ => null,
        };
    }

    /// <summary>Property <paramref name="name"/> as an integer, from a JSON number or a numeric string.</summary>
    public static long? GetInt64(this JsonElement element, string name)
    {
        if (!element.TryGetValue(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetInt64(out var whole))
            {
                return whole;
            }

            // Some servers write sizes as 1500.0.
            return value.TryGetDouble(out var real) && real is >= long.MinValue and <= long.MaxValue ? (long)real : null;
        }

        return value.ValueKind == JsonValueKind.String
            && long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
    }

    /// <summary>Property <paramref name="name"/> as an ISO 8601 timestamp, normalised to UTC.</summary>
    public static DateTimeOffset? GetDateTime(this JsonElement element, string name)
    {
        var text = element.GetString(name);
        return text is not null
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : null;
    }

    /// <summary>A JSON-LD language map (<c>contentMap</c>, <c>nameMap</c>, <c>summaryMap</c>) as language tag → text.</summary>
    public static IReadOnlyDictionary<string, string> GetLanguageMap(this JsonElement element, string mapName)
    {
        if (!element.TryGetValue(mapName, out var map) || map.ValueKind != JsonValueKind.Object)
        {
            return EmptyMap;
        }

        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind == JsonValueKind.String && entry.Value.GetString() is { } text)
            {
                result.TryAdd(entry.Name, text);
            }
        }

        return result;
    }

    /// <summary>
    /// Natural-language property <paramref name="name"/> (for example <c>content</c>), falling back to its language map
    /// <c><paramref name="name"/>Map</c> when the plain value is missing (Friendica, and Mastodon for some objects,
    /// may send only the map). From a map, <paramref name="preferredLanguage"/> wins, then "und", then the first entry.
    /// </summary>
    public static string? GetNaturalLanguage(this JsonElement element, string name, string? preferredLanguage = null)
    {
        if (element.GetString(name) is { } plain)
        {
            return plain;
        }

        var map = element.GetLanguageMap(name + "Map");
        if (map.Count == 0)
        {
            return null;
        }

        if (preferredLanguage is not null && map.TryGetValue(preferredLanguage, out var preferred))
        {
            return preferred;
        }

        return map.TryGetValue("und", out var undetermined) ? undetermined : map.Values.First();
    }

    /// <summary>
    /// The web address in property <paramref name="name"/> (usually <c>url</c>): a string, a Link object's <c>href</c>,
    /// or from an array the Link whose <c>mediaType</c> is text/html (PeerTube lists its HLS playlists and torrents beside
    /// the watch page). Only http and https addresses are returned: anything else would end up in an href we render.
    /// </summary>
    public static string? GetUrl(this JsonElement element, string name)
    {
        if (!element.TryGetValue(name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return HttpUrlOf(value);
        }

        string? first = null;
        foreach (var item in value.EnumerateArray())
        {
            var url = HttpUrlOf(item);
            if (url is null)
            {
                continue;
            }

            if (item.ValueKind == JsonValueKind.Object
                && item.GetString("mediaType") is { } mediaType
                && mediaType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase))
            {
                return url;
            }

            first ??= url;
        }

        return first;
    }

    /// <summary>
    /// The address of the image in property <paramref name="name"/> (<c>icon</c>, <c>image</c>): an Image object's
    /// <c>url</c> (itself a string or Link), a bare string, or the first usable entry of an array.
    /// </summary>
    public static string? GetImageUrl(this JsonElement element, string name)
    {
        foreach (var item in element.GetItems(name))
        {
            var url = item.ValueKind switch
            {
                JsonValueKind.String => HttpUrl(item.GetString()),
                JsonValueKind.Object => item.GetUrl("url") ?? HttpUrl(item.GetString("href")),
                _ => null,
            };
            if (url is not null)
            {
                return url;
            }
        }

        return null;
    }

    /// <summary><paramref name="text"/> when it is an absolute http or https URI, otherwise null.</summary>
    public static string? HttpUrl(string? text) =>
        text is not null
        && Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? text
            : null;

    private static string? HttpUrlOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => HttpUrl(value.GetString()),
        JsonValueKind.Object => HttpUrl(value.GetString("href") ?? value.GetString("url") ?? value.GetString("id")),
        _ => null,
    };

    private static string StripAsPrefix(string type)
    {
        if (type.StartsWith("as:", StringComparison.Ordinal))
        {
            return type[3..];
        }

        const string full = ActivityStreams.Context + "#";
        return type.StartsWith(full, StringComparison.Ordinal) ? type[full.Length..] : type;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMap = new Dictionary<string, string>();
}
