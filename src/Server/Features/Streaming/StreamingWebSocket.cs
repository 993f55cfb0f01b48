using System.Buffers;
using System.Net.WebSockets;
using System.Text.Encodings.Web;
using System.Text.Json;
using Npgsql;
using Fellows.Server.Common;
using Fellows.Server.Features.Auth;

namespace Fellows.Server.Features.Streaming;

/// <summary>
/// One WebSocket session: writes queued events as <c>{"stream":[…],"event":…,"payload":"…"}</c> text frames and reads
/// <c>{"type":"subscribe"|"unsubscribe","stream":…,"tag"?,"list"?}</c> messages. Problems with a message are answered
/// with <c>{"error":…,"status":…}</c> and the session goes on.
/// </summary>
sealed class StreamingWebSocket(WebSocket socket, StreamConnection connection, NpgsqlDataSource db) : IDisposable
{
    /// <summary>Client messages are a few dozen bytes; anything this long is not one.</summary>
    const int MaxClientMessage = 4096;

    // The envelope is read by programs, never put into HTML, so non-ASCII and HTML characters need no escaping.
    static readonly JsonWriterOptions Envelope = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly SemaphoreSlim _send = new(1, 1);

    public async Task RunAsync(Error? initialError, CancellationToken stopping, CancellationToken aborted)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted, connection.Overflowed);
        var ct = stop.Token;
        // Receiving is never cancelled: a cancelled receive aborts the socket, and then no close frame can be sent.
        // It ends when the client closes (or answers our close), or the connection breaks.
        var receiving = ReceiveLoopAsync(ct);
        var sending = SendLoopAsync(initialError, ct);
        await Task.WhenAny(sending, receiving);
        await stop.CancelAsync();
        await Quietly(sending);
        if (!receiving.IsCompleted)
        {
            // We end the session (shutdown, or the client fell too far behind): say why, wait briefly for the answer.
            var overflowed = connection.Overflowed.IsCancellationRequested;
            await CloseAsync(overflowed ? WebSocketCloseStatus.PolicyViolation : WebSocketCloseStatus.EndpointUnavailable,
                overflowed ? "Too many events waiting" : "Server shutting down");
            var answered = Quietly(receiving);
            if (await Task.WhenAny(answered, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)) != answered)
                socket.Abort();
        }
        await Quietly(receiving);
        // The client closed first: complete the closing handshake.
        await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
    }

    static async Task Quietly(Task task)
    {
        try { await task; }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
    }

    async Task SendLoopAsync(Error? initialError, CancellationToken ct)
    {
        if (initialError is not null)
            await SendErrorAsync(initialError.Message, StreamingEndpoints.StatusCodeOf(initialError), ct);
        await foreach (var message in connection.Queue.ReadAllAsync(ct))
            await SendAsync(Render(message), ct);
    }

    async Task ReceiveLoopAsync(CancellationToken ct)
    {
        var buffer = new byte[1024];
        var message = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close) return;
            if (message.WrittenCount + result.Count > MaxClientMessage)
            {
                await CloseAsync(WebSocketCloseStatus.MessageTooBig, "Message too long");
                return;
            }
            message.Write(buffer.AsSpan(0, result.Count));
            if (!result.EndOfMessage) continue;
            if (result.MessageType == WebSocketMessageType.Text && !ct.IsCancellationRequested) await HandleAsync(message.WrittenMemory, ct);
            message.Clear();
        }
    }

    /// <summary>Applies one client message.</summary>
    async Task HandleAsync(ReadOnlyMemory<byte> text, CancellationToken ct)
    {
        string? type, stream, tag, list;
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException();
            type = Text(doc.RootElement, "type");
            stream = Text(doc.RootElement, "stream");
            tag = Text(doc.RootElement, "tag");
            list = Text(doc.RootElement, "list");
        }
        catch (JsonException)
        {
            await SendErrorAsync("Could not parse the message as JSON", StatusCodes.Status400BadRequest, ct);
            return;
        }
        switch (type)
        {
            case "subscribe":
                var requested = await StreamSubscription.OwnedAsync(StreamSubscription.Resolve(stream, tag, list, connection.Scopes), connection.Viewer, db, ct);
                if (!requested.IsOk)
                    await SendErrorAsync(requested.Error!.Message, StreamingEndpoints.StatusCodeOf(requested.Error!), ct);
                else if (!connection.Subscribe(requested.Value) && connection.Subscriptions().Length >= StreamConnection.SubscriptionLimit)
                    await SendErrorAsync("Too many subscriptions on this connection", StatusCodes.Status400BadRequest, ct);
                break;
            case "unsubscribe":
                var name = stream?.Trim() ?? "";
                var parameter = name is StreamSubscription.Hashtag or StreamSubscription.HashtagLocal ? tag?.Trim().TrimStart('#')
                    : name == StreamSubscription.List ? list?.Trim() : null;
                connection.Unsubscribe(new StreamSubscription(name, parameter));
                break;
            default:
                await SendErrorAsync("Unknown message type", StatusCodes.Status400BadRequest, ct);
                break;
        }
    }

    /// <summary>A string member, or a number written as one (some clients send list ids as numbers).</summary>
    static string? Text(JsonElement message, string name) =>
        message.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;

    static byte[] Render(StreamMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Envelope))
        {
            w.WriteStartObject();
            w.WriteStartArray("stream");
            foreach (var part in message.Stream) w.WriteStringValue(part);
            w.WriteEndArray();
            w.WriteString("event", message.Event);
            // filters_changed has no payload at all, as in Mastodon.
            if (message.Payload is not null) w.WriteString("payload", message.Payload);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    Task SendErrorAsync(string error, int status, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Envelope))
        {
            w.WriteStartObject();
            w.WriteString("error", error);
            w.WriteNumber("status", status);
            w.WriteEndObject();
        }
        return SendAsync(buffer.WrittenSpan.ToArray(), ct);
    }

    async Task SendAsync(byte[] frame, CancellationToken ct)
    {
        await _send.WaitAsync(ct);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, ct);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Ends the session politely when the socket still allows it; a broken one is just left.</summary>
    async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            // A close frame is a send too: never at the same time as an event.
            await _send.WaitAsync(timeout.Token);
            try
            {
                if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
                await socket.CloseOutputAsync(socket.State == WebSocketState.CloseReceived ? WebSocketCloseStatus.NormalClosure : status, reason, timeout.Token);
            }
            finally
            {
                _send.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _send.Dispose();
}
