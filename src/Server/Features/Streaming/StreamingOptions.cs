using System.ComponentModel.DataAnnotations;

namespace Fellows.Server.Features.Streaming;

/// <summary>The <c>Streaming</c> section: how often idle connections are kept alive.</summary>
public sealed class StreamingOptions
{
    public const string Section = "Streaming";

    /// <summary>Server-sent events: a <c>:thump</c> comment this often, so proxies do not close an idle stream.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan EventStreamHeartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>WebSocket: a ping this often; a client that does not answer within the same time is disconnected.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan WebSocketPing { get; set; } = TimeSpan.FromSeconds(30);
}
