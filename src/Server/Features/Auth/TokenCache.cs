using Fellows.Server.Database;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;

namespace Fellows.Server.Features.Auth;

/// <summary>
/// Recently presented tokens and who they stand for, so an app's every call is not also a database round trip.
/// Any change that could end or alter a token's standing (a token revoked, rotated, expired early or deleted; a
/// member disabled, suspended, approved or removed) is announced on <see cref="Channel"/> by the triggers of
/// migration 0026 and empties the cache on every node (the node that revoked a token also empties its own at once,
/// not waiting for the notification). While a node is not listening it does not cache at all, and
/// an entry lives at most <see cref="Lifetime"/> and never past its token's expiry (in business time).
/// </summary>
public sealed class TokenCache : IDisposable
{
    public const string Channel = "fellows_tokens";
    static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    readonly MemoryCache _entries = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    long _generation;
    volatile bool _listening;

    sealed record Entry(TokenPrincipal Principal, DateTimeOffset? ExpiresAt);

    /// <summary>Bumped by every clear: an answer read before a clear is not kept after it.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public TokenPrincipal? Find(byte[] hash, DateTimeOffset now) =>
        _listening && _entries.Get(Convert.ToBase64String(hash)) is Entry entry && (entry.ExpiresAt is null || entry.ExpiresAt > now) ? entry.Principal : null;

    public void Keep(byte[] hash, TokenPrincipal principal, DateTimeOffset? expiresAt, long generation)
    {
        if (!_listening) return;
        var key = Convert.ToBase64String(hash);
        _entries.Set(key, new Entry(principal, expiresAt), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Lifetime });
        // Cleared meanwhile: what was read may already be out of date.
        if (Generation != generation) _entries.Remove(key);
    }

    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    /// <summary>Listening again (after a start or a lost connection): whatever changed meanwhile was missed.</summary>
    public void MarkListening()
    {
        Clear();
        _listening = true;
    }

    public void MarkLost()
    {
        _listening = false;
        Clear();
    }

    public void Dispose() => _entries.Dispose();
}

/// <summary>Keeps <see cref="TokenCache"/> listening for token and member changes made through any node.</summary>
public sealed class TokenCacheListener(NpgsqlDataSource db, TokenCache cache, ILogger<TokenCacheListener> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PostgresListener.RunAsync(db, [TokenCache.Channel], _ => cache.Clear(), cache.MarkListening, log, stoppingToken, cache.MarkLost);
}
