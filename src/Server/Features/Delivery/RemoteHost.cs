namespace Fellows.Server.Features.Delivery;

/// <summary>How hosts are spelled in <c>deliveries.host</c>, <c>remote_hosts</c> and <c>domain_blocks</c>.</summary>
public static class RemoteHost
{
    /// <summary>Lower-case host, with the port when it is not the scheme's default (<c>coop.example</c>, <c>127.0.0.1:8181</c>).</summary>
    public static string Of(Uri uri) => Fellows.Federation.Http.ActivityPubClient.HostKey(uri);

    public static string Normalize(string host) => host.Trim().TrimEnd('.').ToLowerInvariant();

    /// <summary>
    /// The host and each parent domain, without the port: a block on <c>example.com</c> covers
    /// <c>a.example.com</c>, as it does on Mastodon.
    /// </summary>
    public static IEnumerable<string> BlockCandidates(string host)
    {
        var name = Normalize(host);
        yield return name;
        // Strip a port: "host:port" has one colon; a bracketed IPv6 address keeps its own.
        var withoutPort = name.StartsWith('[')
            ? name[..(name.IndexOf(']', StringComparison.Ordinal) + 1)]
            : name.Count(c => c == ':') == 1 ? name[..name.IndexOf(':', StringComparison.Ordinal)] : name;
        if (withoutPort != name)
        {
            name = withoutPort;
            yield return name;
        }
        if (name.StartsWith('[') || System.Net.IPAddress.TryParse(name, out _)) yield break;
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        while (dot > 0 && name.IndexOf('.', dot + 1) > 0)
        {
            name = name[(dot + 1)..];
            yield return name;
            dot = name.IndexOf('.', StringComparison.Ordinal);
        }
    }
}
