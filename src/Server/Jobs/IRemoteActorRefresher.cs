namespace Fellows.Server.Jobs;

/// <summary>
/// Refetches remote actors whose copy is stale (profile, keys, inboxes). The federation layer implements it
/// (<c>RemoteActors</c>).
/// </summary>
public interface IRemoteActorRefresher
{
    /// <summary>Refreshes at most <paramref name="limit"/> remote actors last fetched before <paramref name="staleBefore"/>; returns how many.</summary>
    Task<int> RefreshStaleAsync(DateTimeOffset staleBefore, int limit, CancellationToken ct);
}
