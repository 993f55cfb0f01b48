namespace Fellows.Federation.Signatures;

/// <summary>
/// Case-insensitive view of a request's headers. Several lines of one header are seen as one
/// value joined with ", ", which is what both signature formats sign.
/// </summary>
public sealed class HeaderLookup
{
    private readonly Dictionary<string, string>? _headers;
    private readonly Func<string, string?>? _lookup;

    private HeaderLookup(Dictionary<string, string>? headers, Func<string, string?>? lookup) =>
        (_headers, _lookup) = (headers, lookup);

    /// <summary>Copies name/value pairs; repeated names are joined with ", " in order.</summary>
    public static HeaderLookup FromPairs(IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var dict = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
            dict[name] = dict.TryGetValue(name, out var existing) ? existing + ", " + value : value;
        return new HeaderLookup(dict, null);
    }

    /// <summary>
    /// Wraps an existing lookup without copying, e.g. over ASP.NET Core's header dictionary
    /// (<c>name =&gt; h.TryGetValue(name, out var v) ? v.ToString() : null</c>). The delegate must be
    /// case-insensitive and join repeated headers with ", ".
    /// </summary>
    public static HeaderLookup FromFunc(Func<string, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        return new HeaderLookup(null, lookup);
    }

    /// <summary>The header's value, or null when absent.</summary>
    public string? this[string name] =>
        _headers is not null ? (_headers.TryGetValue(name, out var v) ? v : null) : _lookup!(name);
}

/// <summary>An inbound request as the signature code needs to see it.</summary>
/// <param name="Method">The HTTP method as received (e.g. <c>POST</c>).</param>
/// <param name="Target">
/// The absolute target URI as the client addressed it: the public scheme and authority (not the
/// ones behind a TLS-terminating proxy), path and query.
/// </param>
/// <param name="Headers">The request headers.</param>
/// <param name="Body">The raw body bytes, exactly as received.</param>
public sealed record IncomingRequest(string Method, Uri Target, HeaderLookup Headers, ReadOnlyMemory<byte> Body)
{
    /// <summary>
    /// The request target exactly as on the wire (ASP.NET Core's <c>IHttpRequestFeature.RawTarget</c>).
    /// When set it is used instead of <see cref="Target"/>'s path and query, which <see cref="Uri"/> may have re-escaped.
    /// </summary>
    public string? RawPathAndQuery { get; init; }

    /// <summary>Builds a request from header pairs.</summary>
    public static IncomingRequest Create(string method, Uri target, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body = default) =>
        new(method, target, HeaderLookup.FromPairs(headers), body);

    internal string PathAndQuery => RawPathAndQuery ?? Target.PathAndQuery;

    // Uri.Authority drops a default port and lowercases the host, as @authority wants.
    internal string Authority => Target.Authority;
}
