using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// Writes one connection's events as server-sent events: <c>event: update</c> then <c>data: {…}</c> and a blank line,
/// with a <c>:thump</c> comment as heartbeat. Mastodon's shapes: a delete's data is the bare id, and
/// <c>filters_changed</c> carries <c>undefined</c>.
/// </summary>
static class StreamingEventStream
{
    public static async Task RunAsync(HttpContext context, StreamConnection connection, TimeSpan heartbeat, CancellationToken stopping)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping, context.RequestAborted, connection.Overflowed);
        var ct = stop.Token;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        // nginx would otherwise hold events back in its buffer.
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var gate = new SemaphoreSlim(1, 1);
        async Task WriteAsync(string text)
        {
            await gate.WaitAsync(ct);
            try
            {
                await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
                await response.Body.FlushAsync(ct);
            }
            finally
            {
                gate.Release();
            }
        }

        try
        {
            // Sends the headers at once, so the client knows it is subscribed.
            await WriteAsync(":)\n");
            var beating = HeartbeatAsync(WriteAsync, heartbeat, ct);
            var sending = SendAsync(WriteAsync, connection, ct);
            await Task.WhenAny(beating, sending);
            await stop.CancelAsync();
            try { await Task.WhenAll(beating, sending); }
            catch (OperationCanceledException) { }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client went away or the server is stopping: the stream just ends.
        }
    }

    static async Task HeartbeatAsync(Func<string, Task> write, TimeSpan interval, CancellationToken ct)
    {
        // Wall-clock on purpose: it keeps a network connection alive, whatever the application clock says.
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(ct))
            await write(":thump\n");
    }

    static async Task SendAsync(Func<string, Task> write, StreamConnection connection, CancellationToken ct)
    {
        await foreach (var m in connection.Queue.ReadAllAsync(ct))
            await write($"event: {m.Event}\ndata: {m.Payload ?? "undefined"}\n\n");
    }
}
