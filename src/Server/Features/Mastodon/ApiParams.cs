using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Fellows.Server.Features.Mastodon;

/// <summary>
/// Request parameters the way Mastodon clients send them: query string, form (urlencoded or multipart) or JSON,
/// with Rails-style bracket keys (<c>media_ids[]</c>, <c>poll[options][]</c>) and <c>1</c>/<c>0</c>/<c>true</c>/<c>false</c>
/// booleans. JSON objects are flattened to the same bracket keys so one lookup serves all shapes.
/// </summary>
public sealed class ApiParams
{
    const int MaxJsonBytes = 1024 * 1024;
    readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public string? Error { get; private set; }

    /// <summary>413 for a body over the limit, 400 for one that can't be read.</summary>
    public int ErrorStatus { get; private set; } = StatusCodes.Status400BadRequest;

    public static async Task<ApiParams> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var p = new ApiParams();
        foreach (var (key, values) in request.Query)
            foreach (var v in values) p.Add(key, v ?? "");
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            foreach (var (key, values) in form)
                foreach (var v in values) p.Add(key, v ?? "");
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            // JSON bodies are small; a chunked body with no length is cut off at the same size.
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = MaxJsonBytes;
            if (request.ContentLength > MaxJsonBytes)
            {
                (p.Error, p.ErrorStatus) = ("Request body too large", StatusCodes.Status413PayloadTooLarge);
                return p;
            }
            try
            {
                using var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 16 }, ct);
                p.Flatten("", doc.RootElement);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                (p.Error, p.ErrorStatus) = ("Request body too large", StatusCodes.Status413PayloadTooLarge);
            }
            catch (JsonException)
            {
                p.Error = "Request body is not valid JSON";
            }
        }
        return p;
    }

    void Add(string key, string value)
    {
        // "ids[]" and "ids" are the same list.
        var normalized = key.EndsWith("[]", StringComparison.Ordinal) ? key[..^2] : key;
        if (!_values.TryGetValue(normalized, out var list)) _values[normalized] = list = [];
        list.Add(value);
    }

    void Flatten(string prefix, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var prop in element.EnumerateObject())
                    Flatten(prefix.Length == 0 ? prop.Name : $"{prefix}[{prop.Name}]", prop.Value);
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) Flatten(prefix, item);
                break;
            case JsonValueKind.String:
                Add(prefix, element.GetString()!);
                break;
            case JsonValueKind.True:
                Add(prefix, "true");
                break;
            case JsonValueKind.False:
                Add(prefix, "false");
                break;
            case JsonValueKind.Number:
                Add(prefix, element.GetRawText());
                break;
            default:
                break;
        }
    }

    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>
    /// A list of objects as Rails clients send it: <c>name[0][key]</c> (form, or a JSON object keyed by index) or a
    /// JSON array of objects (flattened to aligned <c>name[key]</c> lists). Empty when none are given.
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> GetObjectList(string name, params string[] keys)
    {
        var items = new List<IReadOnlyDictionary<string, string>>();
        for (var i = 0; i < 64; i++)
        {
            var item = keys.Select(k => (k, v: Get($"{name}[{i}][{k}]"))).Where(x => x.v is not null).ToDictionary(x => x.k, x => x.v!);
            if (item.Count > 0) items.Add(item);
        }
        var lists = keys.ToDictionary(k => k, k => GetList($"{name}[{k}]"));
        var count = lists.Values.Max(l => l.Count);
        for (var i = 0; i < count; i++)
            items.Add(keys.Where(k => i < lists[k].Count).ToDictionary(k => k, k => lists[k][i]));
        return items;
    }
    /// <summary>Every parameter name (bracketed keys as sent, e.g. <c>scores[a]</c>).</summary>
    public IEnumerable<string> Keys => _values.Keys;

    public string? Get(string key) => _values.TryGetValue(key, out var list) && list.Count > 0 ? list[^1] : null;

    public IReadOnlyList<string> GetList(string key) => _values.TryGetValue(key, out var list) ? list : [];

    /// <summary>
    /// The ids under <paramref name="key"/> (<c>media_ids[]</c> and the like; empty entries skipped), or the first
    /// entry that is not an id.
    /// </summary>
    public (List<long> Ids, string? NotAnId) GetIds(string key)
    {
        var ids = new List<long>();
        foreach (var text in GetList(key).Where(t => t.Length > 0))
        {
            if (ApiResults.ParseId(text) is not { } id) return (ids, text);
            ids.Add(id);
        }
        return (ids, null);
    }

    public bool? GetBool(string key) => Get(key)?.ToLowerInvariant() switch
    {
        null or "" => null,
        "1" or "true" or "on" or "yes" => true,
        "0" or "false" or "off" or "no" => false,
        _ => null,
    };

    public long? GetLong(string key) =>
        long.TryParse(Get(key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    public int? GetInt(string key) =>
        int.TryParse(Get(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
}
