using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using NUnit.Framework;

namespace Fellows.Server.Tests;

/// <summary>A streaming API client over a real WebSocket: reads every message in the background and keeps them all.</summary>
public sealed class WebSocketStream : IAsyncDisposable
{
    readonly ClientWebSocket _socket;
    readonly Channel<JsonElement> _incoming = Channel.CreateUnbounded<JsonElement>();
    readonly CancellationTokenSource _stop = new();
    readonly Task _reader;

    WebSocketStream(ClientWebSocket socket)
    {
        _socket = socket;
        _reader = ReadAsync();
    }

    /// <summary>Every message read so far (by <see cref="NextAsync"/>), in order.</summary>
    public List<JsonElement> Seen { get; } = [];

    public string? SubProtocol => _socket.SubProtocol;

    /// <summary>
    /// Opens <c>/api/v1/streaming</c> with <paramref name="query"/>; the token goes in the Authorization header, or as
    /// the offered subprotocol when <paramref name="tokenAsProtocol"/>.
    /// </summary>
    public static async Task<WebSocketStream> ConnectAsync(FellowsInstance instance, string? token, string query = "", bool tokenAsProtocol = false)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null)
        {
            if (tokenAsProtocol) socket.Options.AddSubProtocol(token);
            else socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{instance.Port}/api/v1/streaming{query}"), timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new WebSocketStream(socket);
    }

    /// <summary>The status code of a refused handshake.</summary>
    public static async Task<int> RefusedWithAsync(FellowsInstance instance, string? token, string query = "")
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{instance.Port}/api/v1/streaming{query}"), timeout.Token);
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
        Assert.Fail("The handshake was accepted");
        return 0;
    }

    public async Task SendAsync(object message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message);
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        var text = new MemoryStream();
        try
        {
            while (true)
            {
                var r = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close) break;
                text.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                await _incoming.Writer.WriteAsync(JsonDocument.Parse(text.ToArray()).RootElement.Clone());
                text.SetLength(0);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
        finally
        {
            _incoming.Writer.TryComplete();
        }
    }

    /// <summary>Reads messages until one matches (all are kept in <see cref="Seen"/>); fails after <paramref name="seconds"/>.</summary>
    public async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, string what, int seconds = 20)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (true)
            {
                var m = await _incoming.Reader.ReadAsync(timeout.Token);
                Seen.Add(m);
                if (match(m)) return m;
            }
        }
        catch (OperationCanceledException)
        {
            throw new AssertionException($"Timed out waiting for {what}; saw: {string.Join(" | ", Seen.Select(s => s.GetRawText()))}");
        }
        catch (ChannelClosedException)
        {
            throw new AssertionException($"The socket closed while waiting for {what}");
        }
    }

    /// <summary>True when the server closed the socket (and nothing unread was left).</summary>
    public async Task<bool> ClosedAsync(int seconds = 20)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (await _incoming.Reader.WaitToReadAsync(timeout.Token))
                Seen.Add(await _incoming.Reader.ReadAsync(timeout.Token));
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token); }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        }
        await _stop.CancelAsync();
        await _reader;
        _socket.Dispose();
        _stop.Dispose();
    }
}

/// <summary>One server-sent event, or a comment line (<see cref="Event"/> is null, <see cref="Data"/> the comment).</summary>
public sealed record ServerSentEvent(string? Event, string Data);

/// <summary>A streaming API client over server-sent events, reading in the background.</summary>
public sealed class EventStreamClient : IAsyncDisposable
{
    readonly HttpClient _http;
    readonly HttpResponseMessage _response;
    readonly Channel<ServerSentEvent> _incoming = Channel.CreateUnbounded<ServerSentEvent>();
    readonly CancellationTokenSource _stop = new();
    readonly Task _reader;

    EventStreamClient(HttpClient http, HttpResponseMessage response)
    {
        _http = http;
        _response = response;
        _reader = ReadAsync();
    }

    public List<ServerSentEvent> Seen { get; } = [];

    public HttpResponseMessage Response => _response;

    /// <summary>Opens <paramref name="path"/>; returns null with the response when it is not a 200 event stream.</summary>
    public static async Task<(EventStreamClient? Stream, HttpResponseMessage Response)> OpenAsync(FellowsInstance instance, string path, string? token)
    {
        var http = new HttpClient { BaseAddress = new Uri(instance.BaseUrl), Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            http.Dispose();
            return (null, response);
        }
        return (new EventStreamClient(http, response), response);
    }

    async Task ReadAsync()
    {
        try
        {
            await using var body = await _response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(body, Encoding.UTF8);
            string? name = null;
            var data = new StringBuilder();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith(':'))
                    await _incoming.Writer.WriteAsync(new ServerSentEvent(null, line[1..]));
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                    name = line["event: ".Length..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    data.Append(line["data: ".Length..]);
                else if (line.Length == 0 && name is not null)
                {
                    await _incoming.Writer.WriteAsync(new ServerSentEvent(name, data.ToString()));
                    name = null;
                    data.Clear();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }
        finally
        {
            _incoming.Writer.TryComplete();
        }
    }

    public async Task<ServerSentEvent> NextAsync(Func<ServerSentEvent, bool> match, string what, int seconds = 20)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (true)
            {
                var e = await _incoming.Reader.ReadAsync(timeout.Token);
                Seen.Add(e);
                if (match(e)) return e;
            }
        }
        catch (OperationCanceledException)
        {
            throw new AssertionException($"Timed out waiting for {what}; saw: {string.Join(" | ", Seen)}");
        }
        catch (ChannelClosedException)
        {
            throw new AssertionException($"The stream ended while waiting for {what}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        await _reader;
        _http.Dispose();
        _stop.Dispose();
    }
}
