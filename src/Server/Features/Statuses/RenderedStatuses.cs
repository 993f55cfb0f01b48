using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Fellows.Server.Features.Statuses;

/// <summary>The <c>RenderedStatuses</c> section: how much memory the rendered-status cache may hold.</summary>
public sealed class RenderedStatusOptions
{
    public const string Section = "RenderedStatuses";

    /// <summary>Megabytes of rendered JSON kept per node (statuses and their authors); 0 turns the cache off.</summary>
    public int Megabytes { get; set; } = 64;
}

/// <summary>
/// The part of each status's and account's API entity that is the same for every viewer, as JSON, kept in memory
/// by id with the version of the rows it was rendered from (PostgreSQL's <c>xmin</c>: any write to the row changes
/// it). A page reads the current versions with its viewer's marks in one round trip and renders only what changed,
/// so nothing is ever invalidated by hand: a stale part simply no longer matches. Each node keeps its own.
/// </summary>
/// <remarks>
/// A part holds everything the row and the tables written with it give (content, media, mentions, tags for a
/// status; profile and counts for an account); migration 0026 makes the writes that change those without touching
/// the row (a media description, a commitment kept, a followers-only post moving <c>last_status_at</c>) touch it.
/// </remarks>
public sealed class RenderedStatuses : IDisposable
{
    readonly MemoryCache? _statuses;
    readonly MemoryCache? _accounts;
    long _hits;
    long _misses;

    public RenderedStatuses(IOptions<RenderedStatusOptions> options)
    {
        var bytes = Math.Max(0, options.Value.Megabytes) * 1024L * 1024L;
        if (bytes == 0) return;
        // Statuses far outnumber the accounts that wrote them.
        _statuses = new MemoryCache(new MemoryCacheOptions { SizeLimit = bytes / 4 * 3 });
        _accounts = new MemoryCache(new MemoryCacheOptions { SizeLimit = bytes / 4 });
    }

    /// <summary>A status without its closing brace and without the parts that differ by viewer or live elsewhere
    /// (account, counts, marks, filters, poll, reblog); <paramref name="FilterText"/> is what keyword filters read, and
    /// <paramref name="HasPoll"/> whether it carries a poll (or is a motion's post), whose entity is read per viewer.</summary>
    public sealed record StatusPart(long Version, byte[] Json, string FilterText, bool HasPoll);

    /// <summary>An account entity as any viewer but the account itself sees it.</summary>
    public sealed record AccountPart(long Version, long StatsVersion, byte[] Json);

    public bool Enabled => _statuses is not null;

    /// <summary>Parts served from memory and parts rendered, since the node started (for tests and benchmarks).</summary>
    public (long Hits, long Misses) Counts => (Interlocked.Read(ref _hits), Interlocked.Read(ref _misses));

    public StatusPart? Status(long id, long version) =>
        Count(_statuses?.Get(id) is StatusPart part && part.Version == version ? part : null);

    public AccountPart? Account(long id, long version, long statsVersion) =>
        Count(_accounts?.Get(id) is AccountPart part && part.Version == version && part.StatsVersion == statsVersion ? part : null);

    /// <summary>An account's entity as the account itself sees it (with its follower count), kept under its negated id.</summary>
    public AccountPart? OwnAccount(long id, long version, long statsVersion) => Account(-id, version, statsVersion);

    public void KeepOwn(long id, AccountPart part) => Keep(-id, part);

    public void Keep(long id, StatusPart part) =>
        _statuses?.Set(id, part, new MemoryCacheEntryOptions { Size = part.Json.Length + part.FilterText.Length * 2 + 64 });

    public void Keep(long id, AccountPart part) =>
        _accounts?.Set(id, part, new MemoryCacheEntryOptions { Size = part.Json.Length + 64 });

    T? Count<T>(T? part) where T : class
    {
        if (part is null) Interlocked.Increment(ref _misses);
        else Interlocked.Increment(ref _hits);
        return part;
    }

    public void Dispose()
    {
        _statuses?.Dispose();
        _accounts?.Dispose();
    }
}
