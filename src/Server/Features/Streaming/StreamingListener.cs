using Fellows.Server.Database;
using Npgsql;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// Holds one connection with <c>LISTEN fellows_stream</c> and hands each announced event to the hub. Every node runs
/// one, so a post written through any node reaches the streams open on all of them. Events announced while the
/// connection is down are lost (clients reload their timelines on reconnect); it reconnects with a growing pause.
/// </summary>
public sealed class StreamingListener(NpgsqlDataSource db, StreamingHub hub, ILogger<StreamingListener> log) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PostgresListener.RunAsync(db, [StreamEvent.Channel], e =>
        {
            if (StreamEvent.Parse(e.Payload) is { } streamEvent) hub.Post(streamEvent);
            else log.LogDebug("Ignored a malformed stream event: {Payload}", e.Payload);
        }, hub.MarkListening, log, stoppingToken);
}
