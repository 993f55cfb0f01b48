using System.Collections.Concurrent;
using System.Threading.Channels;
using Dapper;
using Fellows.Federation.Http;
using Fellows.Federation.Signatures;
using Fellows.Server.Features.Delivery;
using Npgsql;

namespace Fellows.Server.Features.Federation;

/// <summary>
/// Which signature format each remote host accepted, kept in memory for the signing client (which asks on every
/// request) and written behind to <c>remote_hosts.signature_scheme</c>, so a restart does not double-knock every
/// host again.
/// </summary>
public sealed class StoredSignatureSchemes(NpgsqlDataSource db, ILogger<StoredSignatureSchemes> logger)
    : BackgroundService, ISignatureSchemePreferences
{
    readonly ConcurrentDictionary<string, SignatureScheme> _schemes = new(StringComparer.OrdinalIgnoreCase);
    readonly Channel<(string Host, SignatureScheme Scheme)> _changes =
        Channel.CreateBounded<(string, SignatureScheme)>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

    public SignatureScheme? Get(string host) => _schemes.TryGetValue(host, out var scheme) ? scheme : null;

    public void Remember(string host, SignatureScheme scheme)
    {
        if (_schemes.TryGetValue(host, out var known) && known == scheme) return;
        _schemes[host] = scheme;
        _changes.Writer.TryWrite((host, scheme));
    }

    /// <summary>Loads what earlier runs learned; called once at start-up.</summary>
    public async Task LoadAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string Host, string Scheme)>(new CommandDefinition(
            "SELECT host, signature_scheme FROM remote_hosts WHERE signature_scheme IS NOT NULL", cancellationToken: ct));
        foreach (var (host, scheme) in rows)
            if (Enum.TryParse<SignatureScheme>(scheme, out var parsed)) _schemes.TryAdd(host, parsed);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (host, scheme) in _changes.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await using var conn = await db.OpenConnectionAsync(stoppingToken);
                    await conn.ExecuteAsync(new CommandDefinition("""
                        INSERT INTO remote_hosts (host, signature_scheme) VALUES (@host, @scheme)
                        ON CONFLICT (host) DO UPDATE SET signature_scheme = excluded.signature_scheme
                        """, new { host = RemoteHost.Normalize(host), scheme = scheme.ToString() }, cancellationToken: stoppingToken));
                }
                catch (NpgsqlException e)
                {
                    // Only a hint is lost: the next request to that host knocks twice and remembers again.
                    logger.LogWarning(e, "Could not store the signature format of {Host}", host);
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
