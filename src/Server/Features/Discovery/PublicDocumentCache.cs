using Microsoft.Extensions.Caching.Memory;

namespace Fellows.Server.Features.Discovery;

/// <summary>
/// The most-fetched public documents (WebFinger answers and actor documents of members), kept rendered for a short
/// while: other servers ask for them on every first contact and every key check. A member's own changes drop
/// their entries at once on this node; other nodes, and changes made from the command line, catch up within
/// <see cref="Lifetime"/>.
/// </summary>
public sealed class PublicDocumentCache : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 20_000 });

    static string Key(string kind, string username) => $"{kind}:{username.ToLowerInvariant()}";

    /// <summary>
    /// The cached document as UTF-8, or the one <paramref name="render"/> makes (null is not cached: not found,
    /// gone). Kept as bytes so a hit is written to the response as it is, without encoding the text again.
    /// </summary>
    public async Task<byte[]?> GetOrRenderAsync(string kind, string username, Func<Task<string?>> render)
    {
        var key = Key(kind, username);
        if (_cache.TryGetValue(key, out byte[]? cached)) return cached;
        var rendered = await render();
        if (rendered is null) return null;
        var bytes = System.Text.Encoding.UTF8.GetBytes(rendered);
        _cache.Set(key, bytes, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = Lifetime, Size = 1 });
        return bytes;
    }

    /// <summary>Forgets everything cached for a member (after a profile edit, alias, move or key change).</summary>
    public void Invalidate(string username)
    {
        foreach (var kind in Kinds) _cache.Remove(Key(kind, username));
    }

    public const string WebFinger = "webfinger", Actor = "actor";
    static readonly string[] Kinds = [WebFinger, Actor];

    public void Dispose() => _cache.Dispose();
}
